package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Size limits. A proposal carries at most one body chunk (256 KiB) plus its
// events; an entry coalesces proposals up to maxEntryBytes so no Raft entry
// grows without bound (docs/DESIGN.md, invariant 4).
const (
	MaxProposalSize = 1 << 20
	maxEntryBytes   = 4 << 20
)

// storageRetryWindow is how long a proposal refused by a leader low on
// disk space is retried while leadership moves to a node with space; a
// transfer takes one election round trip (milliseconds on a LAN).
const storageRetryWindow = 2 * time.Second

// pending is one proposal waiting for its entry to commit.
type pending struct {
	key  []byte // idempotency key, KeyLen random bytes (see StateMachine)
	data []byte
	done chan proposeResult // buffered: the committer never blocks on it
}

type proposeResult struct {
	index  uint64
	result []byte
	err    error
}

// runProposer is the group commit loop (docs/DESIGN.md, invariant 5): while
// maxInflight entries are on their way through Raft, new proposals queue;
// when a slot frees, everything queued (up to maxEntryBytes) leaves as one
// entry, so a node under load pays one log append and one fsync per entry,
// not per proposal.
func (n *Node) runProposer() {
	defer n.wg.Done()
	slots := make(chan struct{}, n.maxInflight)
	var carry *pending
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-n.queue:
			case <-n.stop:
				return
			}
		}
		select {
		case slots <- struct{}{}:
		case <-n.stop:
			first.done <- proposeResult{err: ErrShutdown}
			return
		}
		batch := []*pending{first}
		size := len(first.data)
	drain:
		for {
			select {
			case p := <-n.queue:
				if size+len(p.data) > maxEntryBytes {
					carry = p
					break drain
				}
				batch = append(batch, p)
				size += len(p.data)
			default:
				break drain
			}
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer func() { <-slots }()
			n.commit(batch)
		}()
	}
}

func (n *Node) commit(batch []*pending) {
	proposals := make([]Proposal, len(batch))
	for i, p := range batch {
		proposals[i] = Proposal{Key: p.key, Data: p.data}
	}
	// Every copy of the entry that submit sends is these same bytes: the
	// same keys, the same first-sent index. What this node knows to be
	// committed is below the index any copy gets, which lets the state
	// machine tell a copy it may have forgotten (StateMachine.ApplyEntry).
	// Raft's commit index is 0 after a restart until the leader speaks;
	// the applied index, durable in the state machine, is known at once.
	entry := encodeEntry(max(n.raft.CommitIndex(), n.sm.AppliedIndex()), proposals)
	n.metrics.entryBytes.Observe(float64(len(entry)))
	index, results, err := n.submit(entry)
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("cluster: %d results for %d proposals", len(results), len(batch))
	}
	for i, p := range batch {
		r := proposeResult{index: index, err: err}
		if err == nil {
			r.result = results[i]
		}
		p.done <- r
	}
}

// submit gets one entry committed: appended locally when this node leads,
// forwarded otherwise. It retries where the entry cannot have been
// appended (no leader yet, leader changed before appending, connection
// refused) and also where the outcome is unknown (the leader's answer was
// lost with the connection, or leadership moved while the entry was in
// flight): every proposal in the entry carries its idempotency key, so the
// state machine applies a copy that arrives twice only once and answers
// the second with the first's real result (StateMachine.ApplyEntry).
// Before the keys, such an entry was answered with ErrNoQuorum, a 451 to
// an SMTP client whose retry then made a second copy of a message already
// delivered.
func (n *Node) submit(entry []byte) (uint64, [][]byte, error) {
	started := time.Now()
	deadline := started.Add(n.cfg.ProposeTimeout)
	for attempt := 0; ; attempt++ {
		select {
		case <-n.stop:
			return 0, nil, ErrShutdown
		default:
		}
		addr, id := n.raft.LeaderWithID()
		var (
			index   uint64
			results [][]byte
			err     error
		)
		switch {
		case id == "":
			err = ErrNoLeader
		case string(id) == n.cfg.NodeID && n.guard.refusing():
			// Queued before this node ran low (Propose refuses after).
			err = fmt.Errorf("%w: %s", ErrInsufficientStorage, n.guard.describe())
		case string(id) == n.cfg.NodeID:
			index, results, err = n.applyAsLeader(entry)
		default:
			n.metrics.forwarded.Inc()
			index, results, err = n.fwd.forward(string(addr), entry)
		}
		// A leader low on disk space refused the entry without appending
		// it and is handing leadership over: the next leader will likely
		// take it. If none has space, say so without waiting long.
		lowLeader := errors.Is(err, errLeaderLowStorage) && time.Since(started) < storageRetryWindow
		retry := errors.Is(err, ErrNoLeader) || errors.Is(err, errNotLeader) || errors.Is(err, errNotSent) || lowLeader ||
			errors.Is(err, ErrNoQuorum) // outcome unknown: safe to send again with the same keys
		if !retry {
			return index, results, err
		}
		if errors.Is(err, ErrNoQuorum) {
			n.metrics.resent.Inc()
			n.log.Info("entry outcome unknown; sending it again with the same keys", "attempt", attempt+1, "err", err)
		}
		if time.Now().After(deadline) {
			if errors.Is(err, errNotLeader) || errors.Is(err, errNotSent) {
				return 0, nil, fmt.Errorf("%w: %w", ErrNoLeader, err)
			}
			return 0, nil, err
		}
		// Elections on a LAN settle in a few hundred milliseconds.
		wait := time.Duration(min(attempt+1, 10)) * 20 * time.Millisecond
		select {
		case <-time.After(wait):
		case <-n.stop:
			return 0, nil, ErrShutdown
		}
	}
}

// Propose replicates one proposal and returns the state machine's result
// for it, once it is committed by a quorum and applied on this node
// (docs/DESIGN.md, invariant 1). An error means the proposal may or may not have
// been committed, except for ErrNoLeader and ErrTooLarge, where it was not.
func (n *Node) Propose(ctx context.Context, proposal []byte) ([]byte, error) {
	f, err := n.ProposeAsync(ctx, proposal)
	if err != nil {
		return nil, err
	}
	return f.Wait(ctx)
}

// WaitApplied blocks until this node has applied index.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.fsm.waitApplied(ctx, index)
}
