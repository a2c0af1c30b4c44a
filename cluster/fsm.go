package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

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
		out[i] = f.applyOne(l)
	}
	f.metrics.appliedIndex.Set(float64(f.sm.AppliedIndex()))
	f.wake()
	return out
}

func (f *fsm) Apply(l *raft.Log) interface{} {
	r := f.applyOne(l)
	f.metrics.appliedIndex.Set(float64(f.sm.AppliedIndex()))
	f.wake()
	return r
}

func (f *fsm) applyOne(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		// Configuration entries carry no proposals, but advancing the
		// applied index keeps every node's reported index in step.
		f.sm.Apply(l.Index, nil)
		return nil
	}
	proposals, err := decodeItems(l.Data)
	if err != nil {
		// Only a node of another version could write this; apply nothing,
		// keep the index moving, and say so loudly.
		f.log.Error("skipping undecodable raft entry", "raft_index", l.Index, "err", err)
		f.sm.Apply(l.Index, nil)
		return fmt.Errorf("entry %d: %w", l.Index, err)
	}
	f.metrics.batchProposals.Observe(float64(len(proposals)))
	return &applyResult{index: l.Index, results: f.sm.Apply(l.Index, proposals)}
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
	cp, err := f.sm.Checkpoint()
	if err != nil {
		return nil, fmt.Errorf("checkpoint state: %w", err)
	}
	return &fsmSnapshot{cp: cp}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
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
	cp   Checkpoint
	once sync.Once
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.cp.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("stream checkpoint: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() { s.once.Do(s.cp.Release) }
