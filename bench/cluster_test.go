package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

const (
	benchUser = "bench@bench.test"
	bodySize  = 4 << 10
)

// startCluster starts three nodes in this process (protocoltest: real
// Raft, Pebble and transport on loopback) with the server's own Raft
// timeouts, each with a metrics registry of its own, and waits until all
// are ready. Everything is stopped and removed at cleanup.
func startCluster(b *testing.B) (*protocoltest.Cluster, []*prometheus.Registry) {
	b.Helper()
	regs := make([]*prometheus.Registry, 3)
	c := protocoltest.Start(b, protocoltest.Options{Size: 3, Domain: "bench.test", Config: func(i int, cfg *cluster.Config) {
		regs[i] = prometheus.NewRegistry()
		cfg.Registerer, cfg.Logger = regs[i], benchLogger(cfg.NodeID)
		// The defaults, as a server runs.
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout, cfg.ProposeTimeout = 0, 0, 0, 0
	}})
	c.Leader(b)
	return c, regs
}

func event(kind any) *evlog.Event {
	switch k := kind.(type) {
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
	c, regs := startCluster(b)
	ctx := context.Background()
	_, err := propose.Submit(ctx, c.Nodes[0].Node,
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
			runDeliveries(b, regs[0], c.Nodes, senders)
		})
	}
	// One sender on one node: the cost of forwarding, apart.
	for _, via := range []string{"leader", "follower"} {
		b.Run("senders=1,via="+via, func(b *testing.B) {
			for _, n := range c.Nodes {
				if n.Node.IsLeader() == (via == "leader") {
					runDeliveries(b, regs[0], []*protocoltest.Node{n}, 1)
					return
				}
			}
			b.Fatalf("no %s", via)
		})
	}
	// A correctness check, not a timing one (docs/DESIGN.md, invariant 2).
	c.WaitConverged(b, 30*time.Second)
}

// runDeliveries makes b.N deliveries from senders goroutines, each of which
// submits to the targets in turn; reg is any node's metrics.
func runDeliveries(b *testing.B, reg *prometheus.Registry, targets []*protocoltest.Node, senders int) {
	ctx := context.Background()
	entriesBefore, proposalsBefore := groupCommit(b, reg)
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
				node := targets[k%len(targets)].Node
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
	entries, proposals := groupCommit(b, reg)
	if entries > entriesBefore {
		b.ReportMetric((proposals-proposalsBefore)/(entries-entriesBefore), "msgs/entry")
	}
}

// groupCommit reads a node's apply-side histogram of proposals per Raft
// entry: how many entries it applied and how many proposals they held.
// Every node applies every entry, so any node gives the cluster's figure.
func groupCommit(b *testing.B, reg *prometheus.Registry) (entries, proposals float64) {
	families, err := reg.Gather()
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
