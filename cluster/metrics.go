package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	raftState       *prometheus.GaugeVec
	appliedIndex    prometheus.Gauge
	commitIndex     prometheus.Gauge
	commitLatency   prometheus.Histogram
	batchProposals  prometheus.Histogram
	entryBytes      prometheus.Histogram
	proposals       *prometheus.CounterVec
	forwarded       prometheus.Counter
	resent          prometheus.Counter
	members         prometheus.Gauge
	leaderChanges   prometheus.Counter
	snapshotRestore prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		raftState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "surat_raft_state",
			Help: "1 for this node's current Raft state, 0 for the others.",
		}, []string{"state"}),
		appliedIndex: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "surat_raft_applied_index",
			Help: "Index of the last Raft entry applied to the mail projections.",
		}),
		commitIndex: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "surat_raft_commit_index",
			Help: "Highest Raft index this node knows to be committed.",
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "surat_propose_duration_seconds",
			Help:    "Time from a proposal to its commit and local apply.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		batchProposals: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "surat_raft_entry_proposals",
			Help:    "Proposals coalesced into one Raft entry (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		entryBytes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "surat_raft_entry_bytes",
			Help:    "Size of the Raft entries this node proposed.",
			Buckets: prometheus.ExponentialBuckets(256, 4, 9),
		}),
		proposals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_proposals_total",
			Help: "Proposals made on this node, by result.",
		}, []string{"result"}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "surat_raft_forwarded_entries_total",
			Help: "Entries this node forwarded to the leader.",
		}),
		resent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "surat_raft_resent_entries_total",
			Help: "Entries sent again, with the same idempotency keys, after their outcome was lost.",
		}),
		members: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "surat_gossip_members",
			Help: "Live members this node sees through gossip.",
		}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "surat_raft_leader_changes_total",
			Help: "Leader changes observed by this node.",
		}),
		snapshotRestore: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "surat_raft_snapshot_restores_total",
			Help: "Snapshots installed into the projections on this node.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.raftState, m.appliedIndex, m.commitIndex, m.commitLatency,
			m.batchProposals, m.entryBytes, m.proposals, m.forwarded, m.resent, m.members,
			m.leaderChanges, m.snapshotRestore)
	}
	return m
}

func (m *metrics) setState(state string) {
	for _, s := range []string{"leader", "follower", "candidate", "shutdown"} {
		v := 0.0
		if s == state {
			v = 1
		}
		m.raftState.WithLabelValues(s).Set(v)
	}
}
