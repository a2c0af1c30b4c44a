package scale

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/cluster/clustertest"
	"github.com/surat-mail/surat/cluster/faults/proc"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
)

// SnapshotConfig is the recovery measurement's settings.
type SnapshotConfig struct {
	Dir      string // the nodes' data go in a fresh directory under it, removed afterwards unless Keep
	Keep     bool
	Messages int // deliveries in the store before the snapshot
	Users    int // they are spread over
	BodySize int // bytes of each message (headers included)
	// PerProposal deliveries go in one proposal, Submitters proposals are
	// in flight at once: how fast the store is built, not what is measured.
	PerProposal int
	Submitters  int
	Log         func(format string, args ...any)
	Logger      *slog.Logger // the nodes' logs; nil: discarded
}

// SnapshotResult is what the recovery measurement found.
type SnapshotResult struct {
	Messages     int     `json:"messages"`
	Users        int     `json:"users"`
	BodySize     int     `json:"body_size"`
	BuildS       float64 `json:"build_s"`
	BuildPerS    float64 `json:"build_per_s"`
	AppliedIndex uint64  `json:"applied_index"`
	// StoreBytes is the leader's Pebble store; SnapshotBytes the Raft
	// snapshot it took (what is streamed to a node that needs it), and
	// SnapshotS how long taking it took.
	StoreBytes    int64   `json:"store_bytes"`
	SnapshotBytes int64   `json:"snapshot_bytes"`
	SnapshotS     float64 `json:"snapshot_s"`
	// RecoverS is from starting the wiped follower to its digest equal
	// to the leader's at the same applied index; Restores is its
	// snapshot-restore counter then (1: it did install the snapshot).
	RecoverS       float64 `json:"recover_s"`
	Restores       float64 `json:"restores"`
	RecoveredNode  string  `json:"recovered_node"`
	RecoveredStore int64   `json:"recovered_store_bytes"`
}

// member is one in-process node.
type member struct {
	cfg   cluster.Config
	node  *cluster.Node
	store *mailbox.Store
	reg   *prometheus.Registry
	dir   string
}

func (m *member) start(ctx context.Context, logger *slog.Logger) error {
	store, err := mailbox.Open(filepath.Join(m.dir, "state"), mailbox.Options{Logger: logger})
	if err != nil {
		return fmt.Errorf("open store %s: %w", m.cfg.NodeID, err)
	}
	m.store, m.reg = store, prometheus.NewRegistry()
	cfg := m.cfg
	cfg.StateMachine, cfg.Registerer, cfg.Logger = store, m.reg, logger
	if m.node, err = cluster.Start(ctx, cfg); err != nil {
		store.Close()
		return fmt.Errorf("start %s: %w", cfg.NodeID, err)
	}
	return nil
}

func (m *member) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if m.node != nil {
		errs = append(errs, m.node.Shutdown(ctx))
		m.node = nil
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
		m.store = nil
	}
	return errors.Join(errs...)
}

// Snapshot builds a three-node in-process cluster (real Raft with
// raft-boltdb, real Pebble projections, the real transport on loopback)
// holding cfg.Messages deliveries, has the leader take a Raft snapshot
// (compacting its log to the last TrailingLogs entries), then stops one
// follower, wipes its data and starts it again empty: Raft can only catch
// it up by sending the snapshot. It measures the time until the follower's
// digest equals the leader's.
func Snapshot(ctx context.Context, cfg SnapshotConfig) (*SnapshotResult, error) {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp(cfg.Dir, "snapshot-")
	if err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	ports, err := clustertest.Ports(6)
	if err != nil {
		return nil, err
	}
	members := make([]*member, 3)
	defer func() {
		for _, m := range members {
			if m != nil {
				_ = m.stop()
			}
		}
	}()
	for i := range members {
		id := fmt.Sprintf("n%d", i+1)
		var join []string
		for j := range members {
			if j != i {
				join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[2*j+1]))
			}
		}
		m := &member{dir: filepath.Join(dir, id), cfg: cluster.Config{
			NodeID: id, DataDir: filepath.Join(dir, id, "raft"),
			RaftAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i]), GossipAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Join: join,
			// Only the snapshot this measurement asks for: an automatic
			// one in the middle of the build would only slow it. After
			// it, the log keeps a short tail, so a node that starts
			// empty can only be caught up by the snapshot.
			SnapshotThreshold: 1 << 40, SnapshotInterval: time.Hour, TrailingLogs: 8,
		}}
		if i == 0 {
			m.cfg.BootstrapExpect = 3
		}
		members[i] = m
		if err := m.start(ctx, logger.With("node", id)); err != nil {
			return nil, err
		}
	}
	leader, err := waitLeader(ctx, members, time.Minute)
	if err != nil {
		return nil, err
	}
	res := &SnapshotResult{Messages: cfg.Messages, Users: cfg.Users, BodySize: cfg.BodySize}

	t0 := time.Now()
	if err := build(ctx, members, cfg, logf); err != nil {
		return nil, err
	}
	idx, _, err := converged(ctx, members, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	res.BuildS = time.Since(t0).Seconds()
	res.BuildPerS = float64(cfg.Messages) / res.BuildS
	res.AppliedIndex = idx
	logf("built %d messages over %d users in %.1f s (%.0f/s), applied index %d", cfg.Messages, cfg.Users, res.BuildS, res.BuildPerS, idx)

	if leader, err = waitLeader(ctx, members, time.Minute); err != nil {
		return nil, err
	}
	t1 := time.Now()
	if err := leader.node.Snapshot(); err != nil {
		return nil, fmt.Errorf("snapshot on %s: %w", leader.cfg.NodeID, err)
	}
	res.SnapshotS = time.Since(t1).Seconds()
	if res.SnapshotBytes, err = newestSnapshot(leader.cfg.DataDir); err != nil {
		return nil, err
	}
	if res.StoreBytes, err = proc.DirBytes(filepath.Join(leader.dir, "state")); err != nil {
		return nil, err
	}
	logf("snapshot on %s: %.1f MB in %.1f s (store %.1f MB)", leader.cfg.NodeID, mb(res.SnapshotBytes), res.SnapshotS, mb(res.StoreBytes))

	var lagger *member
	for _, m := range members {
		if m != leader {
			lagger = m
			break
		}
	}
	res.RecoveredNode = lagger.cfg.NodeID
	if err := lagger.stop(); err != nil {
		return nil, fmt.Errorf("stop %s: %w", lagger.cfg.NodeID, err)
	}
	if err := os.RemoveAll(lagger.dir); err != nil {
		return nil, err
	}
	// Without its data the node must not bootstrap again: it is a member
	// already, and the leader will find it at its old address.
	lagger.cfg.BootstrapExpect = 0
	t2 := time.Now()
	if err := lagger.start(ctx, logger.With("node", lagger.cfg.NodeID)); err != nil {
		return nil, err
	}
	if _, _, err := converged(ctx, members, 30*time.Minute); err != nil {
		return nil, err
	}
	res.RecoverS = time.Since(t2).Seconds()
	res.Restores = counter(lagger.reg, "surat_raft_snapshot_restores_total")
	res.RecoveredStore, _ = proc.DirBytes(filepath.Join(lagger.dir, "state"))
	logf("%s wiped and restarted: same digest as the leader after %.1f s (snapshot restores %.0f)", lagger.cfg.NodeID, res.RecoverS, res.Restores)
	if res.Restores < 1 {
		return res, fmt.Errorf("%s caught up without installing a snapshot: the measurement is not of a snapshot", lagger.cfg.NodeID)
	}
	return res, nil
}

// build proposes cfg.Users users, then cfg.Messages deliveries, each a
// BlobStored (its own body) and a Delivered to user n mod Users, as the
// SMTP server proposes them, PerProposal to a proposal.
func build(ctx context.Context, members []*member, cfg SnapshotConfig, logf func(string, ...any)) error {
	if cfg.Users < 1 || cfg.Messages < 1 {
		return errors.New("scale: need users and messages")
	}
	per := max(cfg.PerProposal, 1)
	var events []*evlog.Event
	events = append(events, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.test"}}})
	now := time.Now().Unix()
	flush := func(node *cluster.Node) error {
		if len(events) == 0 {
			return nil
		}
		out, err := submit(ctx, node, events)
		events = events[:0]
		if err != nil {
			return err
		}
		if out.GetError() != 0 {
			return fmt.Errorf("users rejected: %s %s", out.GetError(), out.GetMessage())
		}
		return nil
	}
	for i := range cfg.Users {
		events = append(events, &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
			Address: UserAddress(i), CreatedUnix: now,
			// Apply stores the hash without checking it; nobody logs in.
			PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$YmVuY2hzYWx0YmVuY2g$YmVuY2hoYXNoYmVuY2hoYXNoYmVuY2hoYXNoYmU",
		}}})
		if len(events) >= 500 {
			if err := flush(members[0].node); err != nil {
				return err
			}
		}
	}
	if err := flush(members[0].node); err != nil {
		return err
	}

	var (
		next     atomic.Int64
		done     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	progress := time.NewTicker(10 * time.Second)
	defer progress.Stop()
	go func() {
		for {
			select {
			case <-progress.C:
				logf("  %d of %d messages", done.Load(), cfg.Messages)
			case <-ctx.Done():
				return
			}
		}
	}()
	for k := range max(cfg.Submitters, 1) {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(k), 7))
			for ctx.Err() == nil {
				from := int(next.Add(int64(per))) - per
				if from >= cfg.Messages {
					return
				}
				to := min(from+per, cfg.Messages)
				evs := make([]*evlog.Event, 0, 2*(to-from))
				for n := from; n < to; n++ {
					body := messageBody(rng, n, UserAddress(n%cfg.Users), cfg.BodySize)
					chunks := evlog.Chunks(body)
					for _, c := range chunks {
						evs = append(evs, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: c}})
					}
					evs = append(evs, &evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
						Blob: chunks[len(chunks)-1].Hash, Size: uint64(len(body)), InternalDateUnix: now,
						Recipients: []*evlog.Recipient{{Address: UserAddress(n % cfg.Users)}},
					}}})
				}
				// Submitters take the nodes in turn: two thirds of the
				// proposals are forwarded, as with SMTP on every node.
				out, err := submit(ctx, members[k%len(members)].node, evs)
				if err == nil && out.GetError() != 0 {
					err = fmt.Errorf("deliveries rejected: %s %s", out.GetError(), out.GetMessage())
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(int64(to - from))
			}
		})
	}
	wg.Wait()
	return firstErr
}

// submit proposes events, retrying temporary failures (a leader change)
// as a server's session would be retried by its client.
func submit(ctx context.Context, node *cluster.Node, events []*evlog.Event) (*evlog.Outcome, error) {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := propose.Submit(ctx, node, events...)
		if err == nil || attempt >= 10 || !cluster.IsTemporary(err) || ctx.Err() != nil {
			return out, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// messageBody is a small RFC 5322 message of exactly size bytes (at
// least the header): random words, so that it compresses as text does and
// no two are the same.
func messageBody(rng *rand.Rand, n int, to string, size int) []byte {
	b := fmt.Appendf(nil, "From: <sender@other.test>\r\nTo: <%s>\r\nSubject: scale message %d\r\n"+
		"Message-ID: <%d.scale@bench.test>\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n", to, n, n)
	const letters = "abcdefghijklmnopqrstuvwxyz"
	col := 0
	for len(b) < size-2 {
		switch {
		case col >= 72:
			b = append(b, '\r', '\n')
			col = 0
		case col > 0 && rng.IntN(6) == 0:
			b = append(b, ' ')
			col++
		default:
			b = append(b, letters[rng.IntN(len(letters))])
			col++
		}
	}
	return append(b, '\r', '\n')
}

// waitLeader returns the member that leads once every member is ready and
// agrees on it.
func waitLeader(ctx context.Context, members []*member, timeout time.Duration) (*member, error) {
	deadline := time.Now().Add(timeout)
	for {
		leader := members[0].node.Leader()
		agreed := leader != ""
		for _, m := range members {
			if !m.node.Ready() || m.node.Leader() != leader {
				agreed = false
			}
		}
		if agreed {
			for _, m := range members {
				if m.cfg.NodeID == leader {
					return m, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("scale: no agreed leader within %v", timeout)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// converged waits until every member has the same applied index and
// digest; the same index with different digests is an error at once.
func converged(ctx context.Context, members []*member, timeout time.Duration) (uint64, [32]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		idx0, d0, err := members[0].store.Digest()
		if err != nil {
			return 0, d0, err
		}
		same := true
		for _, m := range members[1:] {
			idx, d, err := m.store.Digest()
			if err != nil {
				return 0, d, err
			}
			if idx != idx0 {
				same = false
			} else if d != d0 {
				return 0, d, fmt.Errorf("scale: %s and %s diverged at applied index %d", members[0].cfg.NodeID, m.cfg.NodeID, idx)
			}
		}
		if same {
			return idx0, d0, nil
		}
		if time.Now().After(deadline) {
			return 0, d0, fmt.Errorf("scale: nodes did not converge within %v", timeout)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return 0, d0, ctx.Err()
		}
	}
}

// newestSnapshot is the size of the newest Raft snapshot under a node's
// Raft directory (raft.FileSnapshotStore: snapshots/<id>/state.bin).
func newestSnapshot(raftDir string) (int64, error) {
	matches, err := filepath.Glob(filepath.Join(raftDir, "snapshots", "*", "state.bin"))
	if err != nil {
		return 0, err
	}
	var newest os.FileInfo
	for _, p := range matches {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if newest == nil || fi.ModTime().After(newest.ModTime()) {
			newest = fi
		}
	}
	if newest == nil {
		return 0, fmt.Errorf("scale: no snapshot under %s", raftDir)
	}
	return newest.Size(), nil
}

// counter reads a counter's value from a registry (0 when absent).
func counter(reg *prometheus.Registry, name string) float64 {
	families, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, f := range families {
		if f.GetName() == name {
			var v float64
			for _, m := range f.GetMetric() {
				v += m.GetCounter().GetValue()
			}
			return v
		}
	}
	return 0
}

func mb(b int64) float64 { return float64(b) / 1e6 }
