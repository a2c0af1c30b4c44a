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
	items := make([][]byte, len(batch))
	for i, p := range batch {
		items[i] = p.data
	}
	entry := encodeItems(items)
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
// forwarded otherwise. It retries only where the entry cannot have been
// appended (no leader yet, leader changed before appending, connection
// refused), so a retry never duplicates a proposal.
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
		retry := errors.Is(err, ErrNoLeader) || errors.Is(err, errNotLeader) || errors.Is(err, errNotSent) || lowLeader
		if !retry {
			return index, results, err
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
	if len(proposal) > MaxProposalSize {
		n.metrics.proposals.WithLabelValues("too_large").Inc()
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(proposal), MaxProposalSize)
	}
	if n.guard.refusing() {
		// This node may soon be unable to apply what it proposes, and its
		// clients can go to a node with space (diskguard.go).
		n.metrics.proposals.WithLabelValues("low_storage").Inc()
		return nil, fmt.Errorf("%w: %s", ErrInsufficientStorage, n.guard.describe())
	}
	start := time.Now()
	p := &pending{data: proposal, done: make(chan proposeResult, 1)}
	select {
	case n.queue <- p:
	case <-n.stop:
		return nil, ErrShutdown
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
	}
	var r proposeResult
	select {
	case r = <-p.done:
	case <-ctx.Done():
		n.metrics.proposals.WithLabelValues("abandoned").Inc()
		return nil, fmt.Errorf("%w: gave up waiting for commit: %w", ErrNoQuorum, ctx.Err())
	case <-n.stop:
		return nil, ErrShutdown
	}
	if r.err != nil {
		n.metrics.proposals.WithLabelValues("error").Inc()
		return nil, r.err
	}
	// Forwarded entries were applied on the leader; answer only once this
	// node has applied them too, so the caller's next read here sees them.
	if err := n.fsm.waitApplied(ctx, r.index); err != nil {
		n.metrics.proposals.WithLabelValues("abandoned").Inc()
		return nil, fmt.Errorf("%w: committed at %d but not applied here: %w", ErrNoQuorum, r.index, err)
	}
	n.metrics.proposals.WithLabelValues("ok").Inc()
	n.metrics.commitLatency.Observe(time.Since(start).Seconds())
	return r.result, nil
}

// WaitApplied blocks until this node has applied index.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.fsm.waitApplied(ctx, index)
}
