// Package propose is the typed path from a protocol session to the cluster:
// it encodes events into one Batch, proposes it, decodes the Outcome and
// turns a refusal by apply into a *RejectedError.
//
// SubmitAsync returns a Future instead of waiting, so that a caller can
// have several batches in flight (the chunks of a large message).
//
// It owns no policy: it does not retry, does not decide which errors are
// temporary (cluster errors pass through wrapped, so cluster.IsTemporary and
// errors.Is(err, cluster.ErrNoQuorum) still work) and never touches the store.
// The one outcome it translates is ERROR_CODE_STALE_PROPOSAL, which is not
// a refusal of the change but the cluster's (nothing was applied): it
// becomes a temporary cluster.ErrNoQuorum.
package propose

import (
	"context"
	"errors"
	"fmt"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
)

// Proposer is what Submit needs from the cluster (*cluster.Node has it).
type Proposer interface {
	Propose(ctx context.Context, proposal []byte) ([]byte, error)
}

// ErrMalformedOutcome means the state machine answered with bytes that do
// not decode as an Outcome: a bug or a version skew, not a cluster failure.
var ErrMalformedOutcome = errors.New("propose: malformed outcome")

// ErrNoEvents is returned by Submit when called without events.
var ErrNoEvents = errors.New("propose: no events")

// RejectedError is apply's refusal of a batch: it was committed to the log
// but changed nothing (e.g. the user already exists). It is permanent.
type RejectedError struct {
	Code    evlog.ErrorCode
	Message string
}

func (e *RejectedError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return "rejected: " + e.Code.String()
}

// IsCode reports whether err is (or wraps) a RejectedError with code.
func IsCode(err error, code evlog.ErrorCode) bool {
	return Code(err) == code && code != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED
}

// Code is the ErrorCode of a RejectedError in err's chain, or
// ERROR_CODE_UNSPECIFIED when there is none.
func Code(err error) evlog.ErrorCode {
	var rej *RejectedError
	if errors.As(err, &rej) {
		return rej.Code
	}
	return evlog.ErrorCode_ERROR_CODE_UNSPECIFIED
}

// AsyncProposer is a Proposer that can also return before the commit
// (*cluster.Node has it): SubmitAsync uses it when it is there.
type AsyncProposer interface {
	ProposeAsync(ctx context.Context, proposal []byte) (cluster.Future, error)
}

// Submit proposes events as one atomic Batch and waits until it is committed
// and applied on this node. It returns the Outcome on success, a
// *RejectedError when apply refused the batch, and otherwise the proposer's
// error wrapped with context.
func Submit(ctx context.Context, p Proposer, events ...*evlog.Event) (*evlog.Outcome, error) {
	f, err := SubmitAsync(ctx, p, events...)
	if err != nil {
		return nil, err
	}
	return f.Wait(ctx)
}

// Future is a Batch on its way to the log (SubmitAsync).
type Future struct {
	name  string // the first event's, for errors
	inner cluster.Future
}

// SubmitAsync proposes events as one atomic Batch and returns once it is
// queued, so that a caller can have several batches in flight (the chunks
// of a large message); Wait gives what Submit would have. With a Proposer
// that is not an AsyncProposer the proposal runs in a goroutine of its own,
// bounded by ctx. An error here means nothing was proposed.
func SubmitAsync(ctx context.Context, p Proposer, events ...*evlog.Event) (*Future, error) {
	if len(events) == 0 {
		return nil, ErrNoEvents
	}
	name := events[0].Name()
	data, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
	if err != nil {
		return nil, fmt.Errorf("propose: encode %s: %w", name, err)
	}
	var inner cluster.Future
	if ap, ok := p.(AsyncProposer); ok {
		inner, err = ap.ProposeAsync(ctx, data)
		if err != nil {
			return nil, fmt.Errorf("propose %s: %w", name, err)
		}
	} else {
		inner = goFuture(ctx, p, data)
	}
	return &Future{name: name, inner: inner}, nil
}

// Wait blocks until the batch is committed and applied on this node (or
// ctx ends) and returns its Outcome, a *RejectedError or the proposer's
// error, as Submit does.
func (f *Future) Wait(ctx context.Context) (*evlog.Outcome, error) {
	res, err := f.inner.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("propose %s: %w", f.name, err)
	}
	out, err := evlog.DecodeOutcome(res)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedOutcome, f.name, err)
	}
	if out.GetError() == evlog.ErrorCode_ERROR_CODE_STALE_PROPOSAL {
		// Not a refusal of the change: apply could not tell whether an
		// earlier copy was applied, so it applied nothing. Temporary, like
		// every cluster failure; the caller's client tries again.
		return nil, fmt.Errorf("propose %s: %w: %s", f.name, cluster.ErrNoQuorum, out.GetMessage())
	}
	if out.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
		return out, &RejectedError{Code: out.GetError(), Message: out.GetMessage()}
	}
	return out, nil
}

// Index is the log index of the batch's entry once Wait returned (a
// refusal too: it was committed); 0 when the proposer does not say.
func (f *Future) Index() uint64 { return f.inner.Index() }

// syncFuture runs a blocking Propose in a goroutine.
type syncFuture struct {
	done   chan struct{}
	result []byte
	err    error
}

func goFuture(ctx context.Context, p Proposer, data []byte) *syncFuture {
	f := &syncFuture{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.result, f.err = p.Propose(ctx, data)
	}()
	return f
}

func (f *syncFuture) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.done:
		return f.result, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: gave up waiting for commit: %w", cluster.ErrNoQuorum, ctx.Err())
	}
}

func (f *syncFuture) Index() uint64 { return 0 }
