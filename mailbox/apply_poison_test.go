package mailbox

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	evlog "github.com/surat-mail/surat/log"
)

// BreakUsage sets user's used bytes to 0 behind apply's back, so that the
// next expunge of one of its messages breaks the usage invariant. Every
// node of a test cluster gets the same damage, so their states stay equal.
func BreakUsage(t testing.TB, s *Store, user string) {
	t.Helper()
	editUser(t, s, user, func(u *evlog.UserRecord) { u.UsedBytes = 0 })
}

// editUser rewrites user's record behind apply's back, as a bug or a
// record from an older build would have left it.
func editUser(t testing.TB, s *Store, user string, edit func(*evlog.UserRecord)) {
	t.Helper()
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := new(evlog.UserRecord)
	v, closer, err := s.db.Get(userKey(user))
	if err != nil {
		t.Fatal(err)
	}
	err = evlog.UnmarshalRecord(v, u)
	closer.Close()
	if err != nil {
		t.Fatal(err)
	}
	edit(u)
	v, err = evlog.MarshalRecord(u)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(userKey(user), v, pebble.Sync); err != nil {
		t.Fatal(err)
	}
}

// TestInvariantViolationIsRefused: a proposal that meets a broken
// invariant is refused with ERROR_CODE_INTERNAL, changes nothing, and the
// store goes on applying; before, Apply panicked, and since every node
// applies the same entry to the same state, every node crash-looped on it.
func TestInvariantViolationIsRefused(t *testing.T) {
	f := newFixture(t)
	BreakUsage(t, f.s, userA)
	f.fails(evlog.ErrorCode_ERROR_CODE_INTERNAL, expunged(f.inbox, uidRanges(1, 1)))
	o := f.apply(expunged(f.inbox, uidRanges(1, 1)))
	if !strings.Contains(o.GetMessage(), "cannot release") {
		t.Fatalf("refusal message %q does not say what broke", o.GetMessage())
	}
	// Still serving: the next proposals apply.
	f.ok(mailboxCreated(userA, "After", 0))
	f.ok(delivered(f.hash, f.size, rcpt(userB, "")))
}

// TestQueueReplyCutInsideCharacter: a remote reply longer than the stored
// bound, cut in the middle of a UTF-8 character, is stored (cut before the
// character). Cut blindly, the record did not encode (protobuf strings are
// UTF-8): a remote server's reply could stop every node at once.
func TestQueueReplyCutInsideCharacter(t *testing.T) {
	f := newFixture(t)
	id := queueID(1)
	f.ok(queued(id, f.hash, f.size, userA, "x@remote.example"))
	reason := strings.Repeat("x", maxQueueText-1) + "é and more"
	f.ok(ev(&evlog.AttemptFailed{Id: id, Recipients: []string{"x@remote.example"}, Reason: reason, AttemptedUnix: 1, NextAttemptUnix: 2}))
	q, err := f.s.QueueEntry(id)
	if err != nil {
		t.Fatal(err)
	}
	got := q.GetRecipients()[0].GetReply()
	if !utf8.ValidString(got) || len(got) != maxQueueText-1 {
		t.Fatalf("stored reply of %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
}

// TestStorageIOErrorStops: an I/O error from the store is not a refusal:
// Apply stops (panics with the error, which the cluster layer turns into
// exit 74) rather than go on with a projection that may differ from the
// log.
func TestStorageIOErrorStops(t *testing.T) {
	var failing atomic.Bool
	fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if failing.Load() && (op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt || op.Kind == errorfs.OpFileSync) {
			return errorfs.ErrInjected
		}
		return nil
	}))
	s, err := Open(t.TempDir(), Options{Logger: testLogger(), fs: fs})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, s: s}
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	failing.Store(true)
	var crash any
	for i := 0; i < 200 && crash == nil; i++ {
		func() {
			defer func() { crash = recover() }()
			o := h.apply(mailboxCreated(userA, "M"+string(rune('a'+i%26))+strings.Repeat("x", i), 0))
			if o.GetError() == evlog.ErrorCode_ERROR_CODE_INTERNAL {
				t.Fatalf("an I/O error was taken for a deterministic failure: %s", o.GetMessage())
			}
		}()
	}
	err, ok := crash.(error)
	if !ok {
		t.Fatalf("Apply went on after the disk failed (recovered %v)", crash)
	}
	if !errors.Is(err, errorfs.ErrInjected) || isStorageFull(err) {
		t.Fatalf("Apply stopped with %v, want the injected I/O error", err)
	}
}

// TestPanicInApplyIsRefused: a panic in apply's own code (a bug this
// proposal meets on this state, so on every node) refuses the proposal
// with ERROR_CODE_INTERNAL instead of stopping the node. The recorded
// outcome (kept with the proposal's key) is the same on every node: two
// stores applying the same entries keep equal digests.
func TestPanicInApplyIsRefused(t *testing.T) {
	var digests [][32]byte
	for range 2 {
		h := newHarness(t)
		h.s.testBeforeEvent = func(e *evlog.Event) {
			if e.GetMailboxCreated().GetName() == "Boom" {
				var m map[string]int
				m["x"]++ // a nil-map write: a runtime panic, as a bug would cause
			}
		}
		h.ok(domainAdded("example.org"), userCreated(userA, 1000))
		o := decodeOutcome(t, h.applyKeyed(key(1), h.index, mailboxCreated(userA, "Boom", 0)))
		if o.GetError() != evlog.ErrorCode_ERROR_CODE_INTERNAL || !strings.HasPrefix(o.GetMessage(), "event 0: panic: ") {
			t.Fatalf("outcome %v %q", o.GetError(), o.GetMessage())
		}
		h.ok(mailboxCreated(userA, "Fine", 0))
		_, d, err := h.s.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Fatal("two stores applying the same entries differ after a refused panic")
	}
}
