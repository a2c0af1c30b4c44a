package cluster

// Running out of disk space.
//
// What the libraries do on a full filesystem decides the design. Measured
// with Pebble v2.1.7 and raft-boltdb v2.3.1 on a small tmpfs filled with a
// filler file:
//
//   - Pebble does not survive ENOSPC. A failed WAL write is remembered by
//     its log writer, and the next commit panics inside DB.commitWrite
//     ("write .../000008.log: no space left on device") while holding the
//     commit pipeline's lock; after that every commit, and Close, blocks
//     forever, even once space returns. Reopened after a restart, the
//     database is intact (the WAL replays; the tail of NoSync writes is
//     lost, which the applied marker and the Raft log cover). So a blocked
//     apply cannot retry a failed Pebble write: the state machine must
//     never be handed an entry while the disk is nearly full.
//   - raft-boltdb's error is not sticky: StoreLogs fails with "write
//     .../raft.db: no space left on device", succeeds again once space
//     returns, and the file checks clean. A follower whose append fails
//     answers the leader with a failure and the leader retries with a
//     backoff (up to ~10 s); a leader whose append fails steps down.
//
// Hence two thresholds on the free space of the node's data filesystems:
//
//   - below MinFreeBytes (storageLow) the node refuses proposals that
//     originate on it, and forwarded ones while it leads, with
//     ErrInsufficientStorage; it reports itself not ready; and, when it
//     leads, hands leadership to a voter that is not low itself. It keeps
//     appending and applying what others commit.
//   - below the reserve, MinFreeBytes/2 (storageCritical), it also stops
//     appending to its Raft log and stops applying: the FSM waits, before
//     the state machine is touched, until space returns, so the node falls
//     behind but never skips or diverges, and Pebble keeps the reserve for
//     its own flushes and compactions. Raft snapshots being written stop
//     too. A node stopping while it waits abandons the rest of the log (see
//     fsm.waitForSpace); a restart replays it.
//
// Should Pebble hit ENOSPC anyway (something else filled the disk faster
// than the checks), the node cannot go on in this process: with
// Config.OnStorageFull set it exits cleanly so that its supervisor
// restarts it, and the restart replays from the applied marker.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// storageLevel is how close the node's disk is to full.
type storageLevel int32

const (
	storageOK       storageLevel = iota
	storageLow                   // below MinFreeBytes: refuse new proposals
	storageCritical              // below the reserve: stop appending and applying too
)

func (l storageLevel) String() string {
	switch l {
	case storageLow:
		return "low"
	case storageCritical:
		return "critical"
	default:
		return "ok"
	}
}

// nextLevel is the storage level for free bytes given the previous level.
// The reserve is half of minFree. Leaving a level takes minFree/8 more than
// entering it, so a disk hovering at a threshold does not flap (one log
// line and one leadership transfer per real change).
func nextLevel(prev storageLevel, free, minFree uint64) storageLevel {
	if minFree == 0 {
		return storageOK
	}
	reserve := minFree / 2
	margin := minFree / 8
	switch {
	case free < reserve:
		return storageCritical
	case prev == storageCritical && free < reserve+margin:
		return storageCritical
	case free < minFree:
		return storageLow
	case prev >= storageLow && free < minFree+margin:
		return storageLow
	default:
		return storageOK
	}
}

// isStorageFull reports whether err is the operating system saying the
// disk (or the user's quota) is full.
func isStorageFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// diskGuard watches the free space of the filesystems holding the node's
// data. check is cheap (one statfs per path) and safe to call from any
// goroutine; the gates on the Raft log, the FSM and snapshots call it for
// a fresh answer, the guard loop calls it on a timer.
type diskGuard struct {
	paths    []string
	minFree  uint64
	interval time.Duration
	statfs   func(path string) (uint64, error)
	log      *slog.Logger

	freeGauge  prometheus.Gauge
	levelGauge prometheus.Gauge

	level atomic.Int32  // storageLevel
	free  atomic.Uint64 // lowest free bytes seen at the last check

	// mu serialises check, so that each transition is logged once.
	mu       sync.Mutex
	lowPath  string // the path with the least free space
	failing  bool   // statfs is failing (logged once)
	noTarget bool   // no healthy voter to hand leadership to (logged once)
}

func newDiskGuard(cfg *Config, log *slog.Logger) *diskGuard {
	statfs := cfg.freeSpace
	if statfs == nil {
		statfs = freeSpace
	}
	paths := []string{cfg.DataDir}
	for _, p := range cfg.StoragePaths {
		if p != "" && p != cfg.DataDir {
			paths = append(paths, p)
		}
	}
	g := &diskGuard{
		paths:    paths,
		minFree:  cfg.MinFreeBytes,
		interval: cfg.StorageCheckInterval,
		statfs:   statfs,
		log:      log,
		freeGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "surat_storage_free_bytes",
			Help: "Free bytes on the fullest filesystem holding this node's data (0 when the guard is off).",
		}),
		levelGauge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "surat_storage_level",
			Help: "0: enough free disk space; 1: below --min-free-space, new writes refused on this node; 2: below the reserve, Raft log appends and apply paused.",
		}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(g.freeGauge, g.levelGauge)
	}
	return g
}

func (g *diskGuard) enabled() bool { return g.minFree > 0 }

// reserve is the free space below which nothing more is written.
func (g *diskGuard) reserve() uint64 { return g.minFree / 2 }

// refusing reports, from the last check, whether new proposals are refused.
func (g *diskGuard) refusing() bool { return storageLevel(g.level.Load()) >= storageLow }

// critical checks now whether the disk is below the reserve.
func (g *diskGuard) critical() bool { return g.check() == storageCritical }

// describe says why the node refuses writes, for errors and /readyz.
func (g *diskGuard) describe() string {
	g.mu.Lock()
	path := g.lowPath
	g.mu.Unlock()
	return fmt.Sprintf("%d bytes free on %s, below the minimum of %d (--min-free-space)", g.free.Load(), path, g.minFree)
}

// check measures free space, moves to the level it calls for, and logs
// and records a transition. When statfs fails the last level stands.
func (g *diskGuard) check() storageLevel {
	if !g.enabled() {
		return storageOK
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	prev := storageLevel(g.level.Load())
	free, path, err := g.lowest()
	if err != nil {
		if !g.failing {
			g.failing = true
			g.log.Error("free disk space check failed; keeping the last known state", "level", prev.String(), "err", err)
		}
		return prev
	}
	if g.failing {
		g.failing = false
		g.log.Info("free disk space check works again")
	}
	g.free.Store(free)
	g.lowPath = path
	g.freeGauge.Set(float64(free))
	next := nextLevel(prev, free, g.minFree)
	if next == prev {
		return next
	}
	g.level.Store(int32(next))
	g.levelGauge.Set(float64(next))
	attrs := []any{"path", path, "free_bytes", free, "min_free_bytes", g.minFree, "reserve_bytes", g.reserve()}
	switch {
	case next == storageCritical:
		g.log.Error("disk space below the reserve: refusing new writes, and pausing Raft log appends and apply until space is freed", attrs...)
	case next == storageLow && prev == storageOK:
		g.log.Warn("disk space low: refusing new writes on this node until space is freed", attrs...)
	case next == storageLow:
		g.log.Warn("disk space above the reserve again: Raft log appends and apply resume; new writes still refused", attrs...)
	default:
		g.noTarget = false
		g.log.Info("disk space recovered: accepting new writes", attrs...)
	}
	return next
}

// lowest returns the least free space among the watched paths.
func (g *diskGuard) lowest() (uint64, string, error) {
	var (
		min  uint64
		path string
	)
	for i, p := range g.paths {
		free, err := g.statfs(p)
		if err != nil {
			return 0, "", err
		}
		if i == 0 || free < min {
			min, path = free, p
		}
	}
	return min, path, nil
}

// runStorageGuard checks free space on a timer and, while this node is low
// and leads, hands leadership to a voter with space.
// StorageLow reports whether this node refuses new writes for lack of disk
// space (below --min-free-space), so that a protocol can say so before a
// client uploads a message it would refuse anyway.
func (n *Node) StorageLow() bool { return n.guard.refusing() }

func (n *Node) runStorageGuard() {
	defer n.wg.Done()
	tick := time.NewTicker(n.guard.interval)
	defer tick.Stop()
	var lastTransfer time.Time
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
		}
		if n.guard.check() == storageOK || n.raft.State() != raft.Leader {
			continue
		}
		// A transfer takes an election round trip; do not pile them up
		// when one failed or the target turned out low too.
		if time.Since(lastTransfer) < 2*time.Second {
			continue
		}
		lastTransfer = time.Now()
		n.handOverForStorage()
	}
}

// handOverForStorage transfers leadership to the most up-to-date voter
// that is not low on space itself. With none, this node stays leader and
// keeps refusing writes: the whole cluster is out of space.
func (n *Node) handOverForStorage() {
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		n.log.Warn("storage guard: read raft configuration", "err", err)
		return
	}
	type candidate struct {
		srv   raft.Server
		index uint64
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var (
		mu    sync.Mutex
		found []candidate
		wg    sync.WaitGroup
	)
	for _, srv := range future.Configuration().Servers {
		if srv.Suffrage != raft.Voter || string(srv.ID) == n.cfg.NodeID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := n.fetchStats(ctx, string(srv.Address))
			if err != nil || st.StorageLow {
				return
			}
			mu.Lock()
			found = append(found, candidate{srv, st.LastIndex})
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(found) == 0 {
		n.guard.mu.Lock()
		first := !n.guard.noTarget
		n.guard.noTarget = true
		n.guard.mu.Unlock()
		if first {
			n.log.Warn("disk space low on the leader and no voter with space to hand leadership to; writes are refused until space is freed")
		}
		return
	}
	sort.Slice(found, func(i, j int) bool { return found[i].index > found[j].index })
	target := found[0].srv
	n.log.Warn("disk space low: handing leadership over", "member", string(target.ID))
	if err := n.raft.LeadershipTransferToServer(target.ID, target.Address).Error(); err != nil {
		n.log.Warn("leadership transfer for low disk space failed", "member", string(target.ID), "err", err)
	}
}

// guardedLogStore refuses Raft log appends below the reserve, so that the
// log (which, unlike Pebble, recovers from ENOSPC) does not eat the space
// Pebble needs to finish its own work. Raft treats the error as a failed
// append: a follower answers the leader with a failure and is retried, a
// leader steps down.
type guardedLogStore struct {
	raft.LogStore
	guard *diskGuard
}

func (s guardedLogStore) StoreLog(l *raft.Log) error {
	return s.StoreLogs([]*raft.Log{l})
}

func (s guardedLogStore) StoreLogs(logs []*raft.Log) error {
	if s.guard.critical() {
		return fmt.Errorf("append to raft log: %w: %d bytes free, reserve %d", ErrInsufficientStorage, s.guard.free.Load(), s.guard.reserve())
	}
	return s.LogStore.StoreLogs(logs)
}

// spaceCheckedWriter stops a snapshot being written once the disk falls
// below the reserve: a snapshot is a copy of the whole store and could
// otherwise take the space Pebble needs. Raft cancels the snapshot and
// tries again at its next interval.
type spaceCheckedWriter struct {
	w       io.Writer
	guard   *diskGuard
	written int64 // since the last check
}

// snapshotCheckEvery is how many bytes a snapshot writes between checks:
// a statfs per 4 MiB costs nothing next to the copy.
const snapshotCheckEvery = 4 << 20

func (w *spaceCheckedWriter) Write(p []byte) (int, error) {
	if w.guard != nil && w.written >= snapshotCheckEvery {
		w.written = 0
		if w.guard.critical() {
			return 0, fmt.Errorf("write snapshot: %w: %d bytes free, reserve %d", ErrInsufficientStorage, w.guard.free.Load(), w.guard.reserve())
		}
	}
	n, err := w.w.Write(p)
	w.written += int64(n)
	return n, err
}
