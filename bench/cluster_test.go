package bench

import (
	"github.com/surat-mail/surat/cluster/clustertest"

	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
)

const (
	benchUser = "bench@bench.test"
	bodySize  = 4 << 10
)

// memberNode is one in-process cluster member with its own store.
type memberNode struct {
	node  *cluster.Node
	store *mailbox.Store
	reg   *prometheus.Registry
}

// startCluster starts three nodes on loopback, each with its own Raft
// directory, Pebble store and ports, and waits until all are ready and
// agree on a leader. Everything is stopped and removed at cleanup.
func startCluster(b *testing.B) []*memberNode {
	b.Helper()
	const size = 3
	dir := b.TempDir()
	ports := clustertest.FreePorts(b, 2*size)
	gossip := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]) }
	members := make([]*memberNode, size)
	// Registered after TempDir, so it runs before the directory is removed.
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, m := range members {
			if m == nil {
				continue
			}
			if m.node != nil {
				_ = m.node.Shutdown(ctx)
			}
			_ = m.store.Close()
		}
	})
	for i := range size {
		id := fmt.Sprintf("n%d", i+1)
		logger := benchLogger(id)
		store, err := mailbox.Open(filepath.Join(dir, id, "state"), mailbox.Options{Logger: logger})
		if err != nil {
			b.Fatalf("open store %s: %v", id, err)
		}
		members[i] = &memberNode{store: store, reg: prometheus.NewRegistry()}
		var join []string
		for j := range size {
			if j != i {
				join = append(join, gossip(j))
			}
		}
		cfg := cluster.Config{
			NodeID:       id,
			DataDir:      filepath.Join(dir, id, "raft"),
			RaftAddr:     fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			GossipAddr:   gossip(i),
			Join:         join,
			StateMachine: store,
			Logger:       logger,
			Registerer:   members[i].reg,
		}
		if i == 0 {
			cfg.BootstrapExpect = size
		}
		members[i].node, err = cluster.Start(context.Background(), cfg)
		if err != nil {
			b.Fatalf("start %s: %v", id, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !agreed(members) {
		if time.Now().After(deadline) {
			b.Fatal("the cluster did not elect a leader that every node knows within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return members
}

// agreed: every node is ready and names the same leader.
func agreed(members []*memberNode) bool {
	leader := members[0].node.Leader()
	for _, m := range members {
		if !m.node.Ready() || m.node.Leader() != leader || leader == "" {
			return false
		}
	}
	return true
}

func event(kind any) *evlog.Event {
	switch k := kind.(type) {
	case *evlog.DomainAdded:
		return &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: k}}
	case *evlog.UserCreated:
		return &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: k}}
	case *evlog.BlobStored:
		return &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: k}}
	case *evlog.Delivered:
		return &evlog.Event{Kind: &evlog.Event_Delivered{Delivered: k}}
	}
	panic(fmt.Sprintf("bench: no event for %T", kind))
}

// delivery builds one message's proposal as the SMTP server will: the body
// (one chunk at 4 KiB) and the Delivered event naming it.
func delivery() []*evlog.Event {
	body := make([]byte, bodySize)
	rand.Read(body)
	chunks := evlog.Chunks(body)
	events := make([]*evlog.Event, 0, len(chunks)+1)
	for _, c := range chunks {
		events = append(events, event(c))
	}
	return append(events, event(&evlog.Delivered{
		Blob:             chunks[0].Hash,
		Size:             uint64(len(body)),
		InternalDateUnix: time.Now().Unix(),
		Recipients:       []*evlog.Recipient{{Address: benchUser}},
	}))
}

// BenchmarkDeliveries measures replicated commit throughput and latency of
// message deliveries on a three-node cluster; see the package doc.
func BenchmarkDeliveries(b *testing.B) {
	members := startCluster(b)
	ctx := context.Background()
	_, err := propose.Submit(ctx, members[0].node,
		event(&evlog.DomainAdded{Domain: "bench.test"}),
		event(&evlog.UserCreated{
			Address: benchUser,
			// Apply stores the hash without checking it.
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2hzYWx0$YmVuY2hoYXNoYmVuY2hoYXNo",
			CreatedUnix:  time.Now().Unix(),
		}))
	if err != nil {
		b.Fatalf("create user: %v", err)
	}
	for _, senders := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			runDeliveries(b, members, members, senders)
		})
	}
	// One sender on one node: the cost of forwarding, apart.
	for _, via := range []string{"leader", "follower"} {
		b.Run("senders=1,via="+via, func(b *testing.B) {
			for _, m := range members {
				if m.node.IsLeader() == (via == "leader") {
					runDeliveries(b, members, []*memberNode{m}, 1)
					return
				}
			}
			b.Fatalf("no %s", via)
		})
	}
	checkConverged(b, members)
}

// runDeliveries makes b.N deliveries from senders goroutines, each of which
// submits to the targets in turn.
func runDeliveries(b *testing.B, members, targets []*memberNode, senders int) {
	ctx := context.Background()
	entriesBefore, proposalsBefore := groupCommit(b, members[0])
	var (
		next      atomic.Int64
		latencies = make([][]time.Duration, senders)
		failOnce  sync.Once
		failure   error
		wg        sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for s := range senders {
		wg.Go(func() {
			for k := s; ; k++ {
				if next.Add(1) > int64(b.N) {
					return
				}
				events := delivery()
				// Each sender walks the targets in turn: with all three,
				// two thirds of the proposals are made on a follower and
				// forwarded.
				node := targets[k%len(targets)].node
				t0 := time.Now()
				out, err := propose.Submit(ctx, node, events...)
				latencies[s] = append(latencies[s], time.Since(t0))
				if err == nil && len(out.GetResults()) > 0 && len(out.GetResults()[len(out.GetResults())-1].GetSkipped()) > 0 {
					err = errors.New("delivery skipped its recipient")
				}
				if err != nil {
					failOnce.Do(func() { failure = fmt.Errorf("delivery through %s: %w", node.ID(), err) })
					next.Store(int64(b.N)) // stop the other senders
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failure != nil {
		b.Fatal(failure)
	}
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(ms(percentile(all, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 99)), "p99-ms")
	entries, proposals := groupCommit(b, members[0])
	if entries > entriesBefore {
		b.ReportMetric((proposals-proposalsBefore)/(entries-entriesBefore), "msgs/entry")
	}
}

// groupCommit reads a node's apply-side histogram of proposals per Raft
// entry: how many entries it applied and how many proposals they held.
// Every node applies every entry, so any node gives the cluster's figure.
func groupCommit(b *testing.B, m *memberNode) (entries, proposals float64) {
	families, err := m.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "surat_raft_entry_proposals" && len(f.GetMetric()) == 1 {
			h := f.GetMetric()[0].GetHistogram()
			return float64(h.GetSampleCount()), h.GetSampleSum()
		}
	}
	return 0, 0
}

// checkConverged fails the benchmark unless every node reaches the same
// applied index with the same digest (docs/DESIGN.md, invariant 2). This is a
// correctness check, not a timing one.
func checkConverged(b *testing.B, members []*memberNode) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var (
			indexes []uint64
			digests [][32]byte
		)
		for _, m := range members {
			index, digest, err := m.store.Digest()
			if err != nil {
				b.Fatalf("digest of %s: %v", m.node.ID(), err)
			}
			indexes = append(indexes, index)
			digests = append(digests, digest)
		}
		sameIndex := indexes[0] == indexes[1] && indexes[1] == indexes[2]
		if sameIndex {
			if digests[0] != digests[1] || digests[1] != digests[2] {
				b.Fatalf("nodes diverged at applied index %d: digests %x, %x, %x", indexes[0], digests[0], digests[1], digests[2])
			}
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("nodes did not converge within 30 s: applied indexes %v", indexes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
