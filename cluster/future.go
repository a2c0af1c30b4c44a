package cluster

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"
)

// Future is a proposal on its way through the log, as hashicorp/raft's
// ApplyFuture is: ProposeAsync returns one as soon as the proposal is
// queued, so that a caller with several proposals (the chunks of a large
// message) has them in flight at once instead of paying one round trip
// each. The group commit loop (invariant 5) coalesces them into as few
// entries as it can.
type Future interface {
	// Wait blocks until the proposal is committed by a quorum and applied
	// on this node, and returns the state machine's result for it, with
	// Propose's errors and their meaning (docs/DESIGN.md invariant 1).
	// When ctx ends first the outcome is unknown (ErrNoQuorum); Wait may
	// be called again. It must not be called concurrently.
	Wait(ctx context.Context) ([]byte, error)
	// Index is the log index of the proposal's entry, known once Wait
	// returned without error; 0 before.
	Index() uint64
}

// ProposeAsync queues one proposal for replication and returns its
// Future. ctx bounds only the queueing (the queue is full when this node
// is far behind); an error here means nothing was proposed.
func (n *Node) ProposeAsync(ctx context.Context, proposal []byte) (Future, error) {
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
	key := make([]byte, KeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("cluster: idempotency key: %w", err)
	}
	f := &future{n: n, start: time.Now(), p: &pending{key: key, data: proposal, done: make(chan proposeResult, 1)}}
	select {
	case n.queue <- f.p:
	case <-n.stop:
		return nil, ErrShutdown
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrNoLeader, ctx.Err())
	}
	return f, nil
}

// future is the Future of a queued proposal.
type future struct {
	n     *Node
	p     *pending
	start time.Time

	mu     sync.Mutex
	got    bool // r holds the committer's answer
	r      proposeResult
	done   bool // Wait finished; result and err are final
	result []byte
	err    error
}

func (f *future) Wait(ctx context.Context) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return f.result, f.err
	}
	n := f.n
	if !f.got {
		select {
		case f.r = <-f.p.done:
			f.got = true
		case <-ctx.Done():
			n.metrics.proposals.WithLabelValues("abandoned").Inc()
			return nil, fmt.Errorf("%w: gave up waiting for commit: %w", ErrNoQuorum, ctx.Err())
		case <-n.stop:
			return f.finish(nil, ErrShutdown)
		}
	}
	if f.r.err != nil {
		n.metrics.proposals.WithLabelValues("error").Inc()
		return f.finish(nil, f.r.err)
	}
	// Forwarded entries were applied on the leader; answer only once this
	// node has applied them too, so the caller's next read here sees them.
	if err := n.fsm.waitApplied(ctx, f.r.index); err != nil {
		n.metrics.proposals.WithLabelValues("abandoned").Inc()
		return nil, fmt.Errorf("%w: committed at %d but not applied here: %w", ErrNoQuorum, f.r.index, err)
	}
	n.metrics.proposals.WithLabelValues("ok").Inc()
	n.metrics.commitLatency.Observe(time.Since(f.start).Seconds())
	return f.finish(f.r.result, nil)
}

func (f *future) finish(result []byte, err error) ([]byte, error) {
	f.done, f.result, f.err = true, result, err
	return result, err
}

func (f *future) Index() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done && f.err == nil {
		return f.r.index
	}
	return 0
}
