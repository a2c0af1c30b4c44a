package cluster

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
)

// CaughtUp reports whether this node knows a leader and has applied every
// entry it has heard is committed. Reads are local (docs/DESIGN.md: reads never
// go through Raft), so until then an absence in this node's projections —
// an unknown recipient, an unknown user — may only mean "not applied yet":
// protocols answer it with a temporary error rather than a permanent one.
func (n *Node) CaughtUp() bool { return n.lagReason() == "" }

// lagReason says why the node is not caught up, or "" when it is.
func (n *Node) lagReason() string {
	if _, id := n.raft.LeaderWithID(); id == "" {
		return "no known leader"
	}
	// Raft's own applied index counts no-op entries too, which never reach
	// the state machine; everything up to it has been applied here.
	s := n.raft.Stats()
	commit, _ := strconv.ParseUint(s["commit_index"], 10, 64)
	applied, _ := strconv.ParseUint(s["applied_index"], 10, 64)
	if commit == 0 || applied < commit {
		return fmt.Sprintf("log not yet applied (applied %d of %d committed)", applied, commit)
	}
	return ""
}

// ReadBarrier waits until this node has applied everything the leader had
// committed when the barrier began, so that a read that follows sees every
// write acknowledged before it, on any node. It costs a round trip to the
// leader (none on the leader itself) and is meant for the rare reads whose
// "not found" is answered permanently: an unknown recipient gets 550, and a
// user created a moment ago through another node must not (RFC 5321 §4.2.5:
// such a failure is temporary while in doubt). An error means the barrier
// could not be had (no leader, leader unreachable, ctx ended): callers
// answer with a temporary error.
func (n *Node) ReadBarrier(ctx context.Context) error {
	addr, id := n.raft.LeaderWithID()
	if id == "" {
		return ErrNoLeader
	}
	var commit uint64
	if string(id) == n.cfg.NodeID {
		commit = n.localStats().CommitIndex
	} else {
		st, err := n.fetchStats(ctx, string(addr))
		if err != nil {
			return fmt.Errorf("%w: read barrier: %w", ErrNoQuorum, err)
		}
		commit = st.CommitIndex
	}
	return n.waitAppliedThrough(ctx, commit)
}

// waitAppliedThrough waits until the state machine has applied every entry
// up to index that reaches it. No-op and barrier entries (a new leader's
// first entry, for one) never reach the state machine, so waiting for the
// state machine's index to reach such an entry's would never end: the
// wait is for the last entry at or before index that is a command or a
// configuration. An entry no longer in the log was compacted into a
// snapshot, which the state machine has applied.
func (n *Node) waitAppliedThrough(ctx context.Context, index uint64) error {
	// First the entry must be in this node's log, to learn its type.
	for n.raft.LastIndex() < index {
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d in the log (last %d): %w", index, n.raft.LastIndex(), ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	for ; index > n.sm.AppliedIndex(); index-- {
		var entry raft.Log
		if err := n.logs.GetLog(index, &entry); err != nil {
			break // compacted (or not yet stored here): the wait covers it
		}
		if entry.Type == raft.LogCommand || entry.Type == raft.LogConfiguration {
			break
		}
	}
	return n.WaitApplied(ctx, index)
}
