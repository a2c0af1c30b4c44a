package cluster

import (
	"github.com/surat-mail/surat/cluster/clustertest"

	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// testCluster runs nodes in this process on loopback, each with its own
// data directory, ports and state machine, as separate servers would.
type testCluster struct {
	t       testing.TB
	cfgs    []Config
	nodes   []*Node
	sms     []StateMachine
	closers []func()
	regs    []*prometheus.Registry
	newSM   smFactory
}

// smFactory opens node i's state machine; close is called after the node
// stops. Durable state machines reopen what they had.
type smFactory func(t testing.TB, cfg Config) (sm StateMachine, close func())

func memFactory(testing.TB, Config) (StateMachine, func()) { return &memSM{}, func() {} }

func newTestCluster(t testing.TB, size int, key []byte, tweak func(*Config)) *testCluster {
	return newTestClusterWith(t, size, key, tweak, memFactory)
}

func newTestClusterWith(t testing.TB, size int, key []byte, tweak func(*Config), newSM smFactory) *testCluster {
	t.Helper()
	ports := clustertest.FreePorts(t, 2*size)
	dir := t.TempDir()
	c := &testCluster{t: t, newSM: newSM}
	for i := 0; i < size; i++ {
		var join []string
		for j := 0; j < size; j++ {
			if j != i {
				join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[2*j+1]))
			}
		}
		cfg := Config{
			NodeID:     fmt.Sprintf("n%d", i+1),
			DataDir:    filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			RaftAddr:   fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			GossipAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Join:       join,
			Key:        key,
			// Generous under -race on two cores; failover speed is measured
			// in bench/, not asserted here.
			HeartbeatTimeout:   time.Second,
			ElectionTimeout:    time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond,
			ProposeTimeout:     10 * time.Second,
		}
		if i == 0 {
			cfg.BootstrapExpect = size
		}
		if tweak != nil {
			tweak(&cfg)
		}
		c.cfgs = append(c.cfgs, cfg)
		c.nodes = append(c.nodes, nil)
		c.sms = append(c.sms, nil)
		c.closers = append(c.closers, func() {})
		c.regs = append(c.regs, nil)
	}
	for i := range c.cfgs {
		c.start(i)
	}
	t.Cleanup(c.stopAll)
	return c
}

func testLogger(t testing.TB, id string) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("SURAT_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("node", id)
}

// start (re)starts node i. An in-memory state machine starts empty and
// what it knew comes back from the Raft log and snapshots; a durable one
// reopens its own state.
func (c *testCluster) start(i int) {
	c.t.Helper()
	cfg := c.cfgs[i]
	c.sms[i], c.closers[i] = c.newSM(c.t, cfg)
	c.regs[i] = prometheus.NewRegistry()
	cfg.StateMachine = c.sms[i]
	cfg.Logger = testLogger(c.t, cfg.NodeID)
	cfg.Registerer = c.regs[i]
	n, err := Start(context.Background(), cfg)
	if err != nil {
		c.t.Fatalf("start %s: %v", cfg.NodeID, err)
	}
	c.nodes[i] = n
}

// kill stops node i abruptly: no leadership hand-over.
func (c *testCluster) kill(i int) {
	if c.nodes[i] != nil {
		_ = c.nodes[i].halt()
		c.nodes[i] = nil
		c.closers[i]()
	}
}

func (c *testCluster) stopAll() {
	for i := range c.nodes {
		c.kill(i)
	}
}

func (c *testCluster) live() []int {
	var out []int
	for i, n := range c.nodes {
		if n != nil {
			out = append(out, i)
		}
	}
	return out
}

// waitLeader waits until every live node names the same live leader and is
// ready, and returns the leader's position.
func (c *testCluster) waitLeader(timeout time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		leader := -1
		agreed := true
		for _, i := range c.live() {
			id := c.nodes[i].Leader()
			if id == "" || !c.nodes[i].Ready() {
				agreed = false
				break
			}
			pos := c.index(id)
			if pos < 0 || c.nodes[pos] == nil || (leader >= 0 && pos != leader) {
				agreed = false
				break
			}
			leader = pos
		}
		if agreed && leader >= 0 {
			return leader
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no agreed leader within %v", timeout)
	return -1
}

func (c *testCluster) index(id string) int {
	for i, cfg := range c.cfgs {
		if cfg.NodeID == id {
			return i
		}
	}
	return -1
}

// waitConverged waits until every live node applied the same entries.
func (c *testCluster) waitConverged(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		live := c.live()
		ref := c.digest(live[0])
		same := true
		for _, i := range live[1:] {
			if c.digest(i) != ref {
				same = false
			}
		}
		if same {
			return
		}
		last = ""
		for _, i := range live {
			last += fmt.Sprintf(" %s:%d", c.cfgs[i].NodeID, c.sms[i].AppliedIndex())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("state machines did not converge within %v:%s", timeout, last)
}

// digester is a state machine that can summarise its whole state.
type digester interface{ digest() string }

func (c *testCluster) digest(i int) string {
	if d, ok := c.sms[i].(digester); ok {
		return d.digest()
	}
	c.t.Fatalf("state machine %T has no digest", c.sms[i])
	return ""
}

func (c *testCluster) mem(i int) *memSM { return c.sms[i].(*memSM) }
