package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"
)

// Config describes one node.
type Config struct {
	NodeID          string   // stable, unique in the cluster
	DataDir         string   // Raft log, stable store and snapshots live here
	RaftAddr        string   // host:port for Raft, forwarding and stats (one TLS port)
	GossipAddr      string   // host:port for memberlist, TCP and UDP
	Join            []string // gossip addresses of other nodes
	BootstrapExpect int      // form a new cluster once this many servers see each other

	// Key is the 32-byte cluster key. Nil means no key: the node then refuses
	// non-loopback addresses and uses a fixed development key.
	Key []byte

	StateMachine StateMachine
	Logger       *slog.Logger
	Registerer   prometheus.Registerer // nil: metrics are not registered

	// Tuning; zero values take LAN defaults.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	SnapshotThreshold  uint64
	SnapshotInterval   time.Duration
	TrailingLogs       uint64
	ProposeTimeout     time.Duration // how long a proposal may wait for a leader and a commit
	MaxInflightEntries int           // entries a node has in Raft at once; more proposals queue and coalesce

	// MinFreeBytes is the free disk space below which this node refuses new
	// proposals with ErrInsufficientStorage, reports itself not ready and
	// hands leadership over; below half of it, it also stops appending to
	// its Raft log and applying until space returns (see diskguard.go).
	// 0 turns the guard off.
	MinFreeBytes uint64
	// StoragePaths are directories watched besides DataDir (the state
	// machine's), for when they may live on another filesystem.
	StoragePaths []string
	// StorageCheckInterval is how often free space is checked in the
	// background (the write paths also check it themselves); 0: 1 s.
	StorageCheckInterval time.Duration
	// OnStorageFull is called, from the apply goroutine, when the state
	// machine failed because the disk is full and cannot continue in this
	// process (Pebble does not recover from a failed write). It must not
	// return: the process should exit so that a supervisor restarts it
	// once space is freed, and the restart replays the log from the
	// applied index. Nil: the state machine's panic is left to crash the
	// process.
	OnStorageFull func(error)
	// OnStorageFailure is called, from the apply goroutine, when the state
	// machine stopped on any other storage failure (an I/O error): it must
	// not return either. Deterministic failures never get here: the state
	// machine refuses the proposal on every node alike and goes on. Nil:
	// the panic is left to crash the process.
	OnStorageFailure func(error)

	// freeSpace measures a path's free bytes; nil: statfs. Tests set it.
	freeSpace func(path string) (uint64, error)
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	// LAN timeouts: a lost leader is replaced in well under two seconds
	// (measured ~0.4 s with these; raft's 1 s defaults give ~2 s).
	def(&c.HeartbeatTimeout, 200*time.Millisecond)
	def(&c.ElectionTimeout, 200*time.Millisecond)
	def(&c.LeaderLeaseTimeout, 100*time.Millisecond)
	// Followers learn the commit index from the next AppendEntries, which
	// an idle leader sends after a random 1-2x CommitTimeout: that is most
	// of what a proposal forwarded by a follower waits for (measured: ~9.7 ms
	// per forwarded delivery at 5 ms, against 0.6 ms on the leader). 1 ms
	// costs ~2% of a core per idle three-node cluster.
	def(&c.CommitTimeout, time.Millisecond)
	def(&c.SnapshotInterval, 60*time.Second)
	def(&c.ProposeTimeout, 10*time.Second)
	def(&c.StorageCheckInterval, time.Second)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.MaxInflightEntries == 0 {
		c.MaxInflightEntries = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("cluster: node id is required")
	case c.DataDir == "":
		return errors.New("cluster: data directory is required")
	case c.RaftAddr == "":
		return errors.New("cluster: raft address is required")
	case c.GossipAddr == "":
		return errors.New("cluster: gossip address is required")
	case c.StateMachine == nil:
		return errors.New("cluster: state machine is required")
	case c.BootstrapExpect < 0:
		return errors.New("cluster: bootstrap-expect must not be negative")
	}
	if c.Key == nil {
		for _, a := range append([]string{c.RaftAddr, c.GossipAddr}, c.Join...) {
			if err := requireLoopback("cluster", a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Node is one running cluster member.
type Node struct {
	cfg         Config
	log         *slog.Logger
	sm          StateMachine
	fsm         *fsm
	metrics     *metrics
	raft        *raft.Raft
	store       *raftboltdb.BoltStore
	logs        raft.LogStore // the Raft log as Raft reads it (cached)
	transport   *raft.NetworkTransport
	mux         *mux
	fwd         *forwarder
	gossip      *gossip
	pilot       *autopilot.Autopilot
	maxInflight int
	queue       chan *pending
	healthy     atomic.Bool
	guard       *diskGuard
	// testDropAnswers, set by tests, is how many forwarded entries this
	// node, as leader, commits without answering (a lost answer).
	testDropAnswers atomic.Int32

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// Start opens the node's Raft state, starts gossip and joins or forms the
// cluster. It returns once the listeners are up; leadership comes later.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sec, err := deriveSecrets(cfg.Key)
	if err != nil {
		return nil, err
	}
	if cfg.Key == nil {
		cfg.Logger.Warn("no cluster key: node-to-node traffic accepted on loopback only")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft directory: %w", err)
	}
	if err := checkKey(cfg.DataDir, cfg.Key); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:         cfg,
		log:         cfg.Logger,
		sm:          cfg.StateMachine,
		metrics:     newMetrics(cfg.Registerer),
		maxInflight: cfg.MaxInflightEntries,
		queue:       make(chan *pending, 4096),
		stop:        make(chan struct{}),
	}
	n.guard = newDiskGuard(&cfg, n.log)
	// Know the disk's state before Raft starts appending and applying.
	n.guard.check()
	n.fsm = newFSM(cfg.StateMachine, n.log, n.metrics)
	n.fsm.guard, n.fsm.stop, n.fsm.onStorageFull, n.fsm.onFailure = n.guard, n.stop, cfg.OnStorageFull, cfg.OnStorageFailure
	ok := false
	defer func() {
		if !ok {
			n.closeResources()
		}
	}()

	n.store, err = raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(cfg.DataDir, "raft.db"),
		BoltOptions: &bbolt.Options{Timeout: 2 * time.Second, NoFreelistSync: true},
	})
	if err != nil {
		return nil, fmt.Errorf("open raft log %s: %w (is another node using this data directory?)", filepath.Join(cfg.DataDir, "raft.db"), err)
	}
	var logs raft.LogStore
	if logs, err = raft.NewLogCache(1024, n.store); err != nil {
		return nil, fmt.Errorf("raft log cache: %w", err)
	}
	n.logs = logs // read by ReadBarrier
	if n.guard.enabled() {
		// Outside the cache, whose errors lose their chain (%q).
		logs = guardedLogStore{LogStore: logs, guard: n.guard}
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, 2, newHCLogger(n.log, "snapshots"))
	if err != nil {
		return nil, fmt.Errorf("open snapshot store: %w", err)
	}
	if err := n.catchUpFromSnapshot(snaps); err != nil {
		return nil, err
	}
	hasState, err := raft.HasExistingState(logs, n.store, snaps)
	if err != nil {
		return nil, fmt.Errorf("read raft state: %w", err)
	}

	n.mux, err = newMux(cfg.RaftAddr, sec.tls, n.log)
	if err != nil {
		return nil, err
	}
	n.fwd = newForwarder(n.mux, cfg.ProposeTimeout)
	n.mux.handle(streamForward, n.serveForward)
	n.mux.handle(streamStats, n.serveStats)
	n.transport = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  n.mux.raft,
		MaxPool: 4,
		// No pipelining: raft v1.7.3's pipeline can deadlock its own
		// shutdown (pipelineSend blocked handing a future to a decoder that
		// waits on a consumer which has already exited; seen in tests as a
		// Shutdown that never returns), and raft's authors measured that it
		// helps little once entries are batched, as ours are.
		MaxRPCsInFlight: 1,
		Timeout:         5 * time.Second,
		Logger:          newHCLogger(n.log, "raft-net"),
	})

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.BatchApplyCh = true
	// The projections are durable on their own and carry their applied
	// index (invariant 3): restoring the last snapshot at every start would
	// throw them away. catchUpFromSnapshot covers a store that is behind.
	rc.NoSnapshotRestoreOnStart = true
	rc.Logger = newHCLogger(n.log, "raft")
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("raft config: %w", err)
	}
	n.raft, err = raft.NewRaft(rc, n.fsm, logs, n.store, snaps, n.transport)
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.gossip, err = startGossip(n, sec.gossipKey)
	if err != nil {
		return nil, err
	}
	n.pilot = autopilot.New(n.raft, autopilotDelegate{n: n},
		autopilot.WithLogger(newHCLogger(n.log, "autopilot")),
		autopilot.WithReconcileInterval(time.Second),
		autopilot.WithUpdateInterval(time.Second))

	go n.mux.serve()
	n.wg.Add(3)
	go n.runProposer()
	go n.runMembership(cfg.BootstrapExpect > 0 && !hasState)
	go n.watchLeadership()
	if n.guard.enabled() {
		n.wg.Add(1)
		go n.runStorageGuard()
	}
	if hasState && cfg.BootstrapExpect > 0 {
		n.log.Info("existing cluster state found; --bootstrap-expect ignored")
	}
	n.log.Info("cluster node started", "raft", cfg.RaftAddr, "gossip", cfg.GossipAddr, "applied_index", n.sm.AppliedIndex())
	ok = true
	return n, nil
}

// catchUpFromSnapshot restores the newest Raft snapshot into the state
// machine when the state machine is behind it (its own unsynced writes were
// lost in a machine crash). Raft, told not to restore on start, would
// otherwise replay only the entries after the snapshot.
func (n *Node) catchUpFromSnapshot(snaps *raft.FileSnapshotStore) error {
	list, err := snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	if len(list) == 0 || list[0].Index <= n.sm.AppliedIndex() {
		return nil
	}
	meta, rc, err := snaps.Open(list[0].ID)
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", list[0].ID, err)
	}
	n.log.Warn("state is behind the last snapshot; restoring it", "applied_index", n.sm.AppliedIndex(), "snapshot_index", meta.Index)
	return n.fsm.Restore(rc)
}

// watchLeadership keeps metrics current and runs autopilot while this node
// leads.
func (n *Node) watchLeadership() {
	defer n.wg.Done()
	obs := make(chan raft.Observation, 16)
	observer := raft.NewObserver(obs, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	n.raft.RegisterObserver(observer)
	defer n.raft.DeregisterObserver(observer)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	pilotCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	piloting := false
	defer func() {
		if piloting {
			<-n.pilot.Stop()
		}
	}()
	update := func() {
		n.metrics.setState(stateName(n.raft.State()))
		n.metrics.commitIndex.Set(float64(n.localStats().CommitIndex))
	}
	for {
		select {
		case <-n.stop:
			return
		case o := <-obs:
			lo := o.Data.(raft.LeaderObservation)
			n.metrics.leaderChanges.Inc()
			n.log.Info("leader changed", "leader", string(lo.LeaderID))
			n.fwd.leaderChanged(string(lo.LeaderAddr))
		case isLeader := <-n.raft.LeaderCh():
			if isLeader && !piloting {
				n.pilot.Start(pilotCtx)
				piloting = true
			} else if !isLeader && piloting {
				<-n.pilot.Stop()
				piloting = false
			}
		case <-tick.C:
		}
		update()
	}
}

// Shutdown hands leadership over when this node leads, stops Raft and
// gossip, and closes the Raft stores. Membership is left intact: the node
// rejoins as itself when started again on the same data.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.stopOnce.Do(func() {
		if n.raft.State() == raft.Leader {
			// raft.Shutdown does not hand over; without this the cluster
			// waits for an election timeout (docs/DEPENDENCIES.md).
			done := make(chan error, 1)
			go func() { done <- n.raft.LeadershipTransfer().Error() }()
			select {
			case e := <-done:
				if e != nil {
					n.log.Warn("leadership transfer failed", "err", e)
				} else {
					n.log.Info("leadership handed over")
				}
			case <-ctx.Done():
				n.log.Warn("leadership transfer timed out")
			}
		}
		err = n.halt()
	})
	return err
}

// halt stops everything at once, as a crash would from the cluster's point
// of view (no hand-over); Shutdown calls it after handing over.
func (n *Node) halt() error {
	var err error
	close(n.stop)
	// raft.Shutdown waits for its replication goroutines; one blocked on a
	// connection to a dead peer can hold it for long (seen in tests). If it
	// has not finished promptly, closing the transport unblocks it.
	shutdown := n.raft.Shutdown()
	done := make(chan error, 1)
	go func() { done <- shutdown.Error() }()
	var e error
	select {
	case e = <-done:
	case <-time.After(2 * time.Second):
		n.log.Warn("raft shutdown is slow; closing the transport")
		n.transport.Close()
		n.mux.close()
		e = <-done
	}
	if e != nil {
		err = fmt.Errorf("raft shutdown: %w", e)
	}
	n.metrics.setState("shutdown")
	n.gossip.shutdown()
	n.mux.close()
	n.fwd.closeAll()
	n.wg.Wait()
	if e := n.closeResources(); e != nil && err == nil {
		err = e
	}
	return err
}

func (n *Node) closeResources() error {
	var err error
	if n.transport != nil {
		n.transport.Close()
	}
	if n.mux != nil {
		n.mux.close()
	}
	if n.store != nil {
		if e := n.store.Close(); e != nil {
			err = fmt.Errorf("close raft log: %w", e)
		}
		n.store = nil
	}
	return err
}

// ID is this node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Leader is the id of the current leader, or "" when none is known.
func (n *Node) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// IsLeader reports whether this node leads the cluster now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Snapshot takes a Raft snapshot now (log compaction), for operators and
// tests; Raft also takes them on its own schedule.
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}
