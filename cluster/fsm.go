package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// fsm adapts the StateMachine to raft.BatchingFSM and wakes the callers
// waiting for an index to be applied.
type fsm struct {
	sm      StateMachine
	log     *slog.Logger
	metrics *metrics

	mu      sync.Mutex
	applied chan struct{} // closed and replaced after every apply

	// Set by Start before Raft runs (see diskguard.go).
	guard         *diskGuard
	stop          <-chan struct{} // the node's stop signal
	onStorageFull func(error)
	onFailure     func(error)
	// halted: the node stopped while apply waited for space, and the
	// entries Raft handed over since were not applied. Nothing may be
	// applied or snapshotted after that: applying a later entry would skip
	// one, and a snapshot would claim entries the state does not hold.
	halted atomic.Bool
}

func newFSM(sm StateMachine, log *slog.Logger, m *metrics) *fsm {
	return &fsm{sm: sm, log: log, metrics: m, applied: make(chan struct{})}
}

// applyResult is what raft hands back to the proposer on the leader.
type applyResult struct {
	index   uint64
	results [][]byte
}

var _ raft.BatchingFSM = (*fsm)(nil)

func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	for i, l := range logs {
		if !f.waitForSpace(l.Index) {
			out[i] = fmt.Errorf("entry %d not applied: %w", l.Index, ErrShutdown)
			continue
		}
		out[i] = f.applyOne(l)
	}
	f.metrics.appliedIndex.Set(float64(f.sm.AppliedIndex()))
	f.wake()
	return out
}

func (f *fsm) Apply(l *raft.Log) interface{} {
	if !f.waitForSpace(l.Index) {
		return fmt.Errorf("entry %d not applied: %w", l.Index, ErrShutdown)
	}
	r := f.applyOne(l)
	f.metrics.appliedIndex.Set(float64(f.sm.AppliedIndex()))
	f.wake()
	return r
}

// waitForSpace holds entry index back while the disk is below the guard's
// reserve, and reports whether to apply it. It waits before the state
// machine is touched, holding none of its locks, so reads go on; Pebble
// cannot retry a write that failed for lack of space (diskguard.go), so
// waiting beforehand is the only way to resume in this process. The
// entries stay in the Raft log meanwhile. When the node stops while
// waiting, the entry and every later one are left unapplied (Raft is
// shutting down; a restart replays them from the applied index).
func (f *fsm) waitForSpace(index uint64) bool {
	if f.halted.Load() {
		return false
	}
	if f.guard == nil || !f.guard.critical() {
		return true
	}
	f.log.Warn("apply paused: disk below the reserve; this node falls behind until space is freed",
		"raft_index", index, "free_bytes", f.guard.free.Load(), "reserve_bytes", f.guard.reserve())
	wait := 50 * time.Millisecond
	for {
		select {
		case <-f.stop:
			f.halted.Store(true)
			f.log.Warn("node stopping while apply waits for disk space; the rest of the log is applied after a restart",
				"raft_index", index, "applied_index", f.sm.AppliedIndex())
			return false
		case <-time.After(wait):
		}
		if !f.guard.critical() {
			f.log.Info("apply resumed: disk space above the reserve", "raft_index", index, "free_bytes", f.guard.free.Load())
			return true
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (f *fsm) applyOne(l *raft.Log) interface{} {
	if f.onStorageFull != nil || f.onFailure != nil {
		defer f.exitOnStorageFailure(l.Index)
	}
	if l.Type != raft.LogCommand {
		// Configuration entries carry no proposals, but advancing the
		// applied index keeps every node's reported index in step.
		f.sm.ApplyEntry(l.Index, nil)
		return nil
	}
	proposals, err := decodeEntry(l.Data)
	if err != nil {
		// Only a node of another version could write this; apply nothing,
		// keep the index moving, and say so loudly.
		f.log.Error("skipping undecodable raft entry", "raft_index", l.Index, "err", err)
		f.sm.ApplyEntry(l.Index, nil)
		return fmt.Errorf("entry %d: %w", l.Index, err)
	}
	f.metrics.batchProposals.Observe(float64(len(proposals)))
	return &applyResult{index: l.Index, results: f.sm.ApplyEntry(l.Index, proposals)}
}

// exitOnStorageFailure hands a state machine panic carrying an error (its
// storage failed; see StateMachine) to Config.OnStorageFull when the disk
// is full, else to Config.OnStorageFailure: clean exits, since the state
// machine cannot continue in this process. Other panics, and errors with
// no hook set, go on as they were.
func (f *fsm) exitOnStorageFailure(index uint64) {
	r := recover()
	if r == nil {
		return
	}
	if err, ok := r.(error); ok {
		err = fmt.Errorf("apply entry %d: %w", index, err)
		switch {
		case isStorageFull(err) && f.onStorageFull != nil:
			f.onStorageFull(err)
		case !isStorageFull(err) && f.onFailure != nil:
			f.onFailure(err)
		}
	}
	panic(r)
}

func (f *fsm) wake() {
	f.mu.Lock()
	close(f.applied)
	f.applied = make(chan struct{})
	f.mu.Unlock()
}

// waitApplied blocks until the state machine has applied index.
func (f *fsm) waitApplied(ctx context.Context, index uint64) error {
	for {
		f.mu.Lock()
		ch := f.applied
		f.mu.Unlock()
		if f.sm.AppliedIndex() >= index {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d (applied %d): %w", index, f.sm.AppliedIndex(), ctx.Err())
		}
	}
}

func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if f.halted.Load() {
		return nil, fmt.Errorf("checkpoint state: %w: entries were left unapplied", ErrShutdown)
	}
	cp, err := f.sm.Checkpoint()
	if err != nil {
		return nil, fmt.Errorf("checkpoint state: %w", err)
	}
	return &fsmSnapshot{cp: cp, guard: f.guard}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if f.halted.Load() {
		return fmt.Errorf("restore state from snapshot: %w", ErrShutdown)
	}
	if err := f.sm.Restore(rc); err != nil {
		return fmt.Errorf("restore state from snapshot: %w", err)
	}
	f.log.Info("state restored from snapshot", "raft_index", f.sm.AppliedIndex())
	f.metrics.snapshotRestore.Inc()
	f.metrics.appliedIndex.Set(float64(f.sm.AppliedIndex()))
	f.wake()
	return nil
}

type fsmSnapshot struct {
	cp    Checkpoint
	guard *diskGuard
	once  sync.Once
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	var w io.Writer = sink
	if s.guard != nil && s.guard.enabled() {
		w = &spaceCheckedWriter{w: sink, guard: s.guard, written: snapshotCheckEvery}
	}
	if _, err := s.cp.WriteTo(w); err != nil {
		sink.Cancel()
		return fmt.Errorf("stream checkpoint: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.once.Do(s.cp.Release) }
