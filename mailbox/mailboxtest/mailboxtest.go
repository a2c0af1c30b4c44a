// Package mailboxtest is the test fixture for code above mailbox/: a real
// Pebble store in a temporary directory with a Proposer that applies each
// proposal directly, in order, as the committed log would. No Raft, no
// sockets: for unit tests of protocol logic over real projections. Tests of
// replication use real clusters instead.
package mailboxtest

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// Store is a temporary store and its direct-apply proposer.
type Store struct {
	*mailbox.Store
	mu    sync.Mutex
	index uint64
}

// Open opens a store in t.TempDir(), closed when the test ends.
func Open(t testing.TB) *Store {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("mailboxtest: open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &Store{Store: st}
}

// Propose applies proposal as the next log entry and returns its outcome
// (protocols/propose.Proposer).
func (s *Store) Propose(ctx context.Context, proposal []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.index++
	return s.Store.Apply(s.index, [][]byte{proposal})[0], nil
}

// Must proposes events as one batch and fails the test if apply refuses
// them.
func (s *Store) Must(t testing.TB, events ...*evlog.Event) *evlog.Outcome {
	t.Helper()
	p, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
	if err != nil {
		t.Fatalf("mailboxtest: encode: %v", err)
	}
	res, _ := s.Propose(context.Background(), p)
	out, err := evlog.DecodeOutcome(res)
	if err != nil {
		t.Fatalf("mailboxtest: outcome: %v", err)
	}
	if out.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
		t.Fatalf("mailboxtest: refused: %v %s", out.GetError(), out.GetMessage())
	}
	return out
}
