// Package propose is the typed path from a protocol session to the cluster:
// it encodes events into one Batch, proposes it, decodes the Outcome and
// turns a refusal by apply into a *RejectedError.
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

// Submit proposes events as one atomic Batch and waits until it is committed
// and applied on this node. It returns the Outcome on success, a
// *RejectedError when apply refused the batch, and otherwise the proposer's
// error wrapped with context.
func Submit(ctx context.Context, p Proposer, events ...*evlog.Event) (*evlog.Outcome, error) {
	if len(events) == 0 {
		return nil, ErrNoEvents
	}
	data, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
	if err != nil {
		return nil, fmt.Errorf("propose: encode %s: %w", events[0].Name(), err)
	}
	res, err := p.Propose(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("propose %s: %w", events[0].Name(), err)
	}
	out, err := evlog.DecodeOutcome(res)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedOutcome, events[0].Name(), err)
	}
	if out.GetError() == evlog.ErrorCode_ERROR_CODE_STALE_PROPOSAL {
		// Not a refusal of the change: apply could not tell whether an
		// earlier copy was applied, so it applied nothing. Temporary, like
		// every cluster failure; the caller's client tries again.
		return nil, fmt.Errorf("propose %s: %w: %s", events[0].Name(), cluster.ErrNoQuorum, out.GetMessage())
	}
	if out.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
		return out, &RejectedError{Code: out.GetError(), Message: out.GetMessage()}
	}
	return out, nil
}
