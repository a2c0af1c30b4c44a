package cluster

import (
	"github.com/surat-mail/surat/cluster/clustertest"

	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func propose(t testing.TB, n *Node, payload string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := n.Propose(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("propose %q via %s: %v", payload, n.ID(), err)
	}
	return string(res)
}

func TestFormsClusterAndReplicatesThroughAnyNode(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	for i := range c.nodes {
		got := propose(t, c.nodes[i], fmt.Sprintf("via-%d", i))
		if !strings.HasSuffix(got, fmt.Sprintf(":via-%d", i)) {
			t.Fatalf("result via node %d = %q", i, got)
		}
		// Read-your-writes: the proposing node has applied it already.
		if order := c.mem(i).snapshot(); order[len(order)-1] != fmt.Sprintf("via-%d", i) {
			t.Fatalf("node %d answered before applying: %v", i, order)
		}
	}
	c.waitConverged(10 * time.Second)

	st := c.nodes[(leader+1)%3].Status(context.Background())
	if st.Leader != c.cfgs[leader].NodeID || len(st.Members) != 3 {
		t.Fatalf("status = %+v", st)
	}
	leaders := 0
	for _, m := range st.Members {
		if m.State == StateLeader {
			leaders++
		}
		if m.State == StateDown || !m.Voter {
			t.Fatalf("member %+v", m)
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders in %+v", leaders, st)
	}
}

func TestGroupCommitCoalescesConcurrentProposals(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	follower := (leader + 1) % 3
	const total = 300
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i := 0; i < total; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := c.nodes[follower].Propose(ctx, fmt.Appendf(nil, "p%d", i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	entries := testutil.CollectAndCount(c.nodes[follower].metrics.entryBytes)
	if entries != 1 {
		t.Fatalf("histogram count series = %d", entries)
	}
	hist := readHistogramCount(t, c, follower)
	if hist >= total {
		t.Fatalf("%d proposals took %d entries: no coalescing", total, hist)
	}
	t.Logf("%d proposals in %d entries", total, hist)
	c.waitConverged(10 * time.Second)
	if got := len(c.mem(leader).snapshot()); got != total {
		t.Fatalf("applied %d proposals, want %d", got, total)
	}
}

func readHistogramCount(t testing.TB, c *testCluster, i int) uint64 {
	t.Helper()
	mfs, err := c.regs[i].Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "surat_raft_entry_bytes" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("no surat_raft_entry_bytes metric")
	return 0
}

// TestLeaderKillLosesNoAcknowledgedProposal kills the leader (no hand-over)
// while every node proposes concurrently, then checks that each
// acknowledged proposal is applied exactly once on every node, including
// the killed one after it restarts.
func TestLeaderKillLosesNoAcknowledgedProposal(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		node := c.nodes[w%3]
		if w%3 == leader {
			node = c.nodes[(leader+1)%3] // the leader is about to die; its clients would be gone too
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				payload := fmt.Sprintf("w%d-%d", w, k)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := node.Propose(ctx, []byte(payload))
				cancel()
				if err == nil {
					mu.Lock()
					acked[payload] = true
					mu.Unlock()
				} else if !IsTemporary(err) {
					t.Errorf("permanent error: %v", err)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	c.kill(leader)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	newLeader := c.waitLeader(20 * time.Second)
	if newLeader == leader {
		t.Fatal("killed node still leads")
	}
	c.start(leader)
	c.waitLeader(20 * time.Second)
	c.waitConverged(20 * time.Second)

	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no proposal was acknowledged")
	}
	for i := range c.nodes {
		seen := map[string]int{}
		for _, p := range c.mem(i).snapshot() {
			seen[p]++
		}
		for p := range acked {
			if seen[p] != 1 {
				t.Fatalf("node %d applied acknowledged %s %d times", i, p, seen[p])
			}
		}
	}
	t.Logf("%d acknowledged proposals survived the leader's death", len(acked))
}

// TestLaggingNodeCatchesUpBySnapshot stops a follower, moves the log past
// compaction, and restarts it: it must install a snapshot.
func TestLaggingNodeCatchesUpBySnapshot(t *testing.T) {
	c := newTestCluster(t, 3, nil, func(cfg *Config) {
		cfg.SnapshotThreshold = 20
		cfg.TrailingLogs = 5
		cfg.SnapshotInterval = 50 * time.Millisecond
	})
	leader := c.waitLeader(20 * time.Second)
	lagger := (leader + 1) % 3
	c.kill(lagger)
	for i := 0; i < 100; i++ {
		propose(t, c.nodes[leader], fmt.Sprintf("x%d", i))
	}
	if err := c.nodes[leader].Snapshot(); err != nil {
		t.Fatal(err)
	}
	c.start(lagger)
	c.waitConverged(30 * time.Second)
	if restores := testutil.ToFloat64(c.nodes[lagger].metrics.snapshotRestore); restores < 1 {
		t.Fatalf("lagging node caught up without a snapshot (restores %v)", restores)
	}
	if got := len(c.mem(lagger).snapshot()); got != 100 {
		t.Fatalf("lagging node has %d proposals, want 100", got)
	}
}

func TestNodeWithWrongKeyCannotJoin(t *testing.T) {
	keyA, _ := GenerateKey()
	keyB, _ := GenerateKey()
	c := newTestCluster(t, 3, keyA, nil)
	c.waitLeader(20 * time.Second)

	ports := clustertest.FreePorts(t, 2)
	intruder := Config{
		NodeID:         "intruder",
		DataDir:        t.TempDir(),
		RaftAddr:       fmt.Sprintf("127.0.0.1:%d", ports[0]),
		GossipAddr:     fmt.Sprintf("127.0.0.1:%d", ports[1]),
		Join:           []string{c.cfgs[0].GossipAddr, c.cfgs[1].GossipAddr},
		Key:            keyB,
		Logger:         testLogger(t, "intruder"),
		StateMachine:   &memSM{},
		ProposeTimeout: time.Second,
	}
	n, err := Start(context.Background(), intruder)
	if err != nil {
		t.Fatal(err)
	}
	defer n.halt()
	time.Sleep(3 * time.Second)

	for i := range c.nodes {
		for _, m := range c.nodes[i].Status(context.Background()).Members {
			if m.ID == "intruder" {
				t.Fatalf("intruder is in the Raft configuration of %s", c.cfgs[i].NodeID)
			}
		}
		if _, ok := c.nodes[i].gossip.snapshot()["intruder"]; ok {
			t.Fatalf("%s gossips with the intruder", c.cfgs[i].NodeID)
		}
	}
	// Nor can it inject: with no cluster to talk to it has no leader.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := n.Propose(ctx, []byte("evil")); err == nil {
		t.Fatal("intruder's proposal succeeded")
	}
	// And a direct dial of a member's Raft port with the wrong CA fails the
	// TLS handshake.
	if _, err := n.fetchStats(context.Background(), c.cfgs[0].RaftAddr); err == nil {
		t.Fatal("intruder read stats from a member")
	}
	for _, sm := range c.sms {
		for _, p := range sm.(*memSM).snapshot() {
			if p == "evil" {
				t.Fatal("intruder's proposal was applied")
			}
		}
	}
}

func TestNoQuorumGivesTemporaryError(t *testing.T) {
	c := newTestCluster(t, 3, nil, func(cfg *Config) { cfg.ProposeTimeout = 2 * time.Second })
	leader := c.waitLeader(20 * time.Second)
	propose(t, c.nodes[leader], "before")
	survivor := (leader + 1) % 3
	for i := range c.nodes {
		if i != survivor {
			c.kill(i)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.nodes[survivor].Propose(ctx, []byte("lonely"))
	if err == nil {
		t.Fatal("proposal acknowledged without a quorum")
	}
	if !IsTemporary(err) {
		t.Fatalf("error %v is not temporary", err)
	}
	// It stops reporting ready once its leader's heartbeats have timed out
	// (randomised up to twice HeartbeatTimeout).
	deadline := time.Now().Add(10 * time.Second)
	for c.nodes[survivor].Ready() {
		if time.Now().After(deadline) {
			t.Fatal("node without quorum still reports ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestShutdownHandsOverLeadership(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.nodes[leader].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.nodes[leader] = nil
	next := c.waitLeader(10 * time.Second)
	propose(t, c.nodes[next], "after-handover")
	// The stopped node keeps its seat: membership is intact.
	st := c.nodes[next].Status(context.Background())
	if len(st.Members) != 3 {
		t.Fatalf("members after shutdown: %+v", st.Members)
	}
	c.start(leader)
	c.waitConverged(20 * time.Second)
}

func TestProposalTooLarge(t *testing.T) {
	c := newTestCluster(t, 1, nil, nil)
	c.waitLeader(20 * time.Second)
	_, err := c.nodes[0].Propose(context.Background(), make([]byte, MaxProposalSize+1))
	if !errors.Is(err, ErrTooLarge) || IsTemporary(err) {
		t.Fatalf("err = %v", err)
	}
}

// TestNewNodeIsAddedAndPromoted starts a fourth server that only knows one
// member's gossip address: the leader adds it, autopilot promotes it to
// voter once it is healthy, and it serves proposals like the others.
func TestNewNodeIsAddedAndPromoted(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	propose(t, c.nodes[leader], "before-join")

	ports := clustertest.FreePorts(t, 2)
	cfg := c.cfgs[0]
	cfg.NodeID = "n4"
	cfg.DataDir = t.TempDir()
	cfg.RaftAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	cfg.GossipAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
	cfg.Join = []string{c.cfgs[2].GossipAddr}
	cfg.BootstrapExpect = 0
	c.cfgs = append(c.cfgs, cfg)
	c.nodes = append(c.nodes, nil)
	c.sms = append(c.sms, nil)
	c.closers = append(c.closers, func() {})
	c.regs = append(c.regs, nil)
	c.start(3)

	deadline := time.Now().Add(40 * time.Second)
	for {
		var n4 *Member
		for _, m := range c.nodes[leader].Status(context.Background()).Members {
			if m.ID == "n4" {
				n4 = &m
			}
		}
		if n4 != nil && n4.Voter && n4.State == StateFollower {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n4 not a healthy voter in time: %+v", n4)
		}
		time.Sleep(100 * time.Millisecond)
	}
	propose(t, c.nodes[3], "via-n4")
	c.waitConverged(10 * time.Second)
}
