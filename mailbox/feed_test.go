package mailbox

import (
	"slices"
	"sync"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func drain(sub *Subscription) []Change {
	var out []Change
	for {
		select {
		case c, ok := <-sub.C:
			if !ok {
				return out
			}
			out = append(out, c)
		default:
			return out
		}
	}
}

func TestFeedReportsMailboxChanges(t *testing.T) {
	f := newFixture(t)
	mine := f.s.Subscribe(userA)
	defer mine.Close()
	other := f.s.Subscribe(userB)
	defer other.Close()
	all := f.s.Subscribe("")
	defer all.Close()

	f.ok(delivered(f.hash, f.size, rcpt(userA, "")), delivered(f.hash, f.size, rcpt(userA, "")))
	f.ok(flagsChanged(f.inbox, opAdd, uidRanges(1, 3), `\Seen`))
	f.ok(flagsChanged(f.inbox, opAdd, uidRanges(1, 3), `\Seen`)) // no change, no Change
	f.ok(expunged(f.inbox, uidRanges(2, 2)))
	f.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, expunged(999, uidRanges(1, 1)))

	got := drain(mine)
	wantKinds := []ChangeKind{MessagesAdded, FlagsChanged, MessagesExpunged}
	if len(got) != len(wantKinds) {
		t.Fatalf("changes %+v", got)
	}
	var last uint64
	for i, c := range got {
		if c.Kind != wantKinds[i] || c.MailboxID != f.inbox || c.Address != userA {
			t.Errorf("change %d: %+v, want %v", i, c, wantKinds[i])
		}
		if c.ModSeq <= last || c.Index == 0 {
			t.Errorf("change %d: modseq %d after %d", i, c.ModSeq, last)
		}
		last = c.ModSeq
	}
	// Each lists the UIDs it is about; the two deliveries' are merged.
	for i, want := range [][]uint32{{2, 3}, {1, 2, 3}, {2}} {
		if !slices.Equal(got[i].UIDs, want) {
			t.Errorf("change %d (%v): UIDs %v, want %v", i, got[i].Kind, got[i].UIDs, want)
		}
	}
	// Coalesced: two deliveries in one proposal are one Change with the
	// latest modseq, equal to the mailbox's.
	if mb := f.mailbox(userA, "INBOX"); got[2].ModSeq != mb.GetHighestModseq() {
		t.Errorf("last modseq %d, mailbox %d", got[2].ModSeq, mb.GetHighestModseq())
	}
	if n := len(drain(other)); n != 0 {
		t.Errorf("other user's subscription got %d changes", n)
	}
	if n := len(drain(all)); n != 3 {
		t.Errorf("unfiltered subscription got %d changes", n)
	}
	// Sent counts what each subscription was sent, when the proposal
	// returns.
	if mine.Sent() != 3 || other.Sent() != 0 || all.Sent() != 3 {
		t.Errorf("sent %d, %d, %d; want 3, 0, 3", mine.Sent(), other.Sent(), all.Sent())
	}
}

func TestFeedOverflowDoesNotBlock(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: testLogger(), FeedBuffer: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := &harness{t: t, s: s}
	h.ok(userCreated(userA, 1))
	hash := h.store(body1)
	sub := s.Subscribe(userA)
	defer sub.Close()
	for range 10 {
		h.ok(delivered(hash, len(body1), rcpt(userA, ""))) // must not block
	}
	if !sub.Overflowed() {
		t.Error("Overflowed() = false after dropping changes")
	}
	got := drain(sub)
	if len(got) != 3 || got[0].Kind != MessagesAdded || got[len(got)-1].Kind != Reset {
		t.Errorf("got %+v, want two changes then a Reset", got)
	}
	if sub.Sent() != 3 {
		t.Errorf("sent %d, want the 3 received (the dropped ones are not counted)", sub.Sent())
	}
	// After draining, delivery resumes.
	h.ok(delivered(hash, len(body1), rcpt(userA, "")))
	if got := drain(sub); len(got) != 1 || got[0].Kind != MessagesAdded || got[0].ModSeq != 12 {
		t.Errorf("after drain got %+v", got)
	}
}

// Subscribing, publishing and closing concurrently is race-free.
func TestFeedConcurrentSubscribers(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				sub := f.s.Subscribe("")
				drain(sub)
				sub.Close()
			}
		})
	}
	for range 20 {
		f.ok(flagsChanged(f.inbox, opReplace, uidRanges(1, 1), "x"), flagsChanged(f.inbox, opReplace, uidRanges(1, 1), "y"))
	}
	wg.Wait()
	sub := f.s.Subscribe("")
	f.s.Close()
	if _, ok := <-sub.C; ok {
		t.Error("subscription still open after store Close")
	}
	sub.Close() // after the store closed it: no panic
}

func TestMergeUIDs(t *testing.T) {
	for _, tc := range []struct {
		a, b, want []uint32
	}{
		{[]uint32{1, 3}, []uint32{2, 3, 4}, []uint32{1, 2, 3, 4}},
		{[]uint32{5}, []uint32{}, []uint32{5}},
		{[]uint32{}, []uint32{}, []uint32{}},
		{[]uint32{9, 1}, []uint32{4}, []uint32{1, 4, 9}},
		{nil, []uint32{1}, nil}, // not listed stays not listed
		{[]uint32{1}, nil, nil},
	} {
		got := mergeUIDs(tc.a, tc.b)
		if !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("mergeUIDs(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
