package mailbox

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	evlog "github.com/surat-mail/surat/log"
)

func (h *harness) vanished(id, since uint64) ([]uint32, bool) {
	h.t.Helper()
	r, complete, err := h.s.Vanished(id, since)
	if err != nil {
		h.t.Fatalf("Vanished(%d, %d): %v", id, since, err)
	}
	for i := 1; i < len(r); i++ {
		if uint64(r[i].GetFirst()) <= uint64(r[i-1].GetLast())+1 {
			h.t.Errorf("Vanished ranges not sorted and merged: %v", r)
		}
	}
	return evlog.Expand(r), complete
}

// TestExpungeHistory: Expunged, a MOVE's source and a rename of INBOX
// record what they removed under the modseq they gave the mailbox, and
// Vanished answers from it (RFC 7162 §3.2.5).
func TestExpungeHistory(t *testing.T) {
	f := newFixture(t)
	for range 5 {
		f.ok(delivered(f.hash, f.size, rcpt(userA, "")))
	}
	// INBOX holds 1..6.
	start := f.mailbox(userA, "INBOX").GetHighestModseq()
	if got, complete := f.vanished(f.inbox, start); len(got) != 0 || !complete {
		t.Fatalf("fresh INBOX vanished %v complete %v", got, complete)
	}
	f.one(expunged(f.inbox, uidRanges(2, 3)))
	afterExpunge := f.mailbox(userA, "INBOX").GetHighestModseq()
	f.one(flagsChanged(f.inbox, opAdd, uidRanges(1, 1), `\Seen`))
	f.one(moved(f.inbox, uidRanges(5, 5), f.work))
	cases := []struct {
		since    uint64
		want     []uint32
		complete bool
	}{
		{0, []uint32{2, 3, 5}, false}, // below the horizon (1)
		{1, []uint32{2, 3, 5}, true},
		{start, []uint32{2, 3, 5}, true},
		{afterExpunge - 1, []uint32{2, 3, 5}, true},
		{afterExpunge, []uint32{5}, true},
		{f.mailbox(userA, "INBOX").GetHighestModseq(), nil, true},
		{^uint64(0), nil, true},
	}
	for _, c := range cases {
		got, complete := f.vanished(f.inbox, c.since)
		if !slices.Equal(got, c.want) || complete != c.complete {
			t.Errorf("Vanished(since %d) = %v complete %v, want %v %v", c.since, got, complete, c.want, c.complete)
		}
	}
	if got, _ := f.vanished(f.work, 0); len(got) != 0 {
		t.Errorf("Work vanished %v", got)
	}
	// Renaming INBOX moves its messages away: INBOX's clients see them
	// vanish.
	before := f.mailbox(userA, "INBOX").GetHighestModseq()
	f.one(ev(&evlog.MailboxRenamed{MailboxId: f.inbox, NewName: "Old"}))
	if got, complete := f.vanished(f.inbox, before); !slices.Equal(got, []uint32{1, 4, 6}) || !complete {
		t.Errorf("after INBOX rename: %v complete %v", got, complete)
	}
	old := f.mailbox(userA, "Old")
	if got, complete := f.vanished(old.GetId(), 1); len(got) != 0 || !complete {
		t.Errorf("renamed-to mailbox: %v complete %v", got, complete)
	}
	// Deleting a mailbox deletes its history.
	f.one(expunged(old.GetId(), uidRanges(1, 1)))
	f.one(ev(&evlog.MailboxDeleted{MailboxId: old.GetId()}))
	if _, _, err := f.s.Vanished(old.GetId(), 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Vanished of a deleted mailbox: %v", err)
	}
	checkInvariants(t, f.s)
}

// TestExpungeHistoryOfOlderMailbox: a mailbox from before the history
// (horizon 0) knows nothing below its first recorded expunge.
func TestExpungeHistoryOfOlderMailbox(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.ok(delivered(f.hash, f.size, rcpt(userA, "")))
	}
	mb := f.mailbox(userA, "INBOX")
	mb.ExpungeHorizon = 0
	v, err := evlog.MarshalRecord(mb)
	if err != nil {
		t.Fatal(err)
	}
	err = f.s.readDB(func(db *pebble.DB) error { return db.Set(mailboxKey(mb.GetId()), v, pebble.Sync) })
	if err != nil {
		t.Fatal(err)
	}
	high := mb.GetHighestModseq()
	if got, complete := f.vanished(f.inbox, high-1); len(got) != 0 || complete {
		t.Errorf("before any expunge: %v complete %v, want incomplete", got, complete)
	}
	if _, complete := f.vanished(f.inbox, high); !complete {
		t.Error("since HIGHESTMODSEQ: nothing can be missing")
	}
	f.one(expunged(f.inbox, uidRanges(2, 2)))
	if got := f.mailbox(userA, "INBOX").GetExpungeHorizon(); got != high {
		t.Errorf("horizon %d after the first expunge, want %d", got, high)
	}
	if got, complete := f.vanished(f.inbox, high); !slices.Equal(got, []uint32{2}) || !complete {
		t.Errorf("since %d: %v complete %v", high, got, complete)
	}
	if _, complete := f.vanished(f.inbox, high-1); complete {
		t.Errorf("since %d: complete, want incomplete", high-1)
	}
}

// TestExpungeHistoryBound: past MaxExpungeHistoryRanges the oldest records
// go and the horizon rises to the newest modseq dropped.
func TestExpungeHistoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("applies 24,000 appends")
	}
	f := newFixture(t)
	f.one(quotaSet(userA, 0))
	const perExpunge = 3000 // ranges of one UID each
	n := uint32(4*2*perExpunge + 2)
	for done := uint32(0); done < n; {
		var evs []*evlog.Event
		for ; done < n && len(evs) < 2000; done++ {
			evs = append(evs, appended(f.work, f.hash, f.size))
		}
		f.ok(evs...)
	}
	var modseqs []uint64
	for i := range uint32(4) {
		var r []*evlog.UidRange
		for j := range uint32(perExpunge) {
			uid := 2 + 2*(i*perExpunge+j)
			r = append(r, &evlog.UidRange{First: uid, Last: uid})
		}
		f.one(expunged(f.work, r))
		modseqs = append(modseqs, f.mailbox(userA, "Work").GetHighestModseq())
	}
	work := f.mailbox(userA, "Work")
	// 12,000 ranges > 10,000: the two oldest records go, leaving 6,000.
	if work.GetExpungeHistoryRanges() != 2*perExpunge || work.GetExpungeHorizon() != modseqs[1] {
		t.Fatalf("ranges %d horizon %d, want %d %d", work.GetExpungeHistoryRanges(), work.GetExpungeHorizon(), 2*perExpunge, modseqs[1])
	}
	got, complete := f.vanished(f.work, modseqs[1])
	if len(got) != 2*perExpunge || !complete || got[0] != 2+2*2*perExpunge {
		t.Errorf("since the horizon: %d UIDs from %v, complete %v", len(got), got[:1], complete)
	}
	if _, complete := f.vanished(f.work, modseqs[0]); complete {
		t.Error("below the horizon: complete")
	}
	// One expunge larger than the bound is dropped at once.
	var r []*evlog.UidRange
	for uid := uint32(1); uid < n; uid += 2 {
		r = append(r, &evlog.UidRange{First: uid, Last: uid})
	}
	f.one(expunged(f.work, r))
	work = f.mailbox(userA, "Work")
	if work.GetExpungeHistoryRanges() != 0 || work.GetExpungeHorizon() != work.GetHighestModseq() {
		t.Errorf("after a huge expunge: ranges %d horizon %d highest %d", work.GetExpungeHistoryRanges(), work.GetExpungeHorizon(), work.GetHighestModseq())
	}
	if got, complete := f.vanished(f.work, work.GetHighestModseq()); len(got) != 0 || !complete {
		t.Errorf("since HIGHESTMODSEQ: %v %v", got, complete)
	}
	checkInvariants(t, f.s)
}

// checkExpungeHistory: each mailbox's count of ranges is what its records
// hold, its horizon is at most its HIGHESTMODSEQ, records are above the
// horizon, and no record outlives its mailbox.
func checkExpungeHistory(t testing.TB, s *Store) {
	t.Helper()
	type tally struct {
		ranges uint32
		lowest uint64
	}
	per := map[uint64]*tally{}
	err := s.view(func(r reader) error {
		return scanRange(r, []byte(prefixExpungeHistory), prefixEnd([]byte(prefixExpungeHistory)), func(k, v []byte) (bool, error) {
			modseq, err := parseExpungeHistoryKey(k)
			if err != nil {
				return false, err
			}
			spans, err := decodeUIDSpans(v)
			if err != nil {
				return false, err
			}
			id := decodeMailboxID(k[prefixLen : prefixLen+mailboxIDLen])
			tl := per[id]
			if tl == nil {
				tl = &tally{lowest: modseq}
				per[id] = tl
			}
			tl.ranges += uint32(len(spans))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, tl := range per {
		mb, err := s.Mailbox(id)
		if err != nil {
			t.Errorf("expunge history of mailbox %d: %v", id, err)
			continue
		}
		if tl.ranges != mb.GetExpungeHistoryRanges() {
			t.Errorf("mailbox %d: record counts %d history ranges, holds %d", id, mb.GetExpungeHistoryRanges(), tl.ranges)
		}
		if tl.lowest <= mb.GetExpungeHorizon() || mb.GetExpungeHorizon() > mb.GetHighestModseq() {
			t.Errorf("mailbox %d: history from modseq %d, horizon %d, highest %d", id, tl.lowest, mb.GetExpungeHorizon(), mb.GetHighestModseq())
		}
	}
}

// TestExpungeHistoryProperty: under random appends, flag changes,
// expunges, copies and moves between two mailboxes, Vanished(since) is
// exactly the UIDs that left each mailbox at a modseq above since, for
// every since, and complete from the horizon (1) up.
func TestExpungeHistoryProperty(t *testing.T) {
	for _, seed := range []uint64{1, 7, 42} {
		f := newFixture(t)
		f.one(quotaSet(userA, 0))
		rng := rand.New(rand.NewPCG(seed, seed))
		boxes := []uint64{f.inbox, f.work}
		gone := map[uint64]map[uint32]uint64{f.inbox: {}, f.work: {}} // uid → modseq it left at
		present := func(id uint64) map[uint32]bool {
			out := map[uint32]bool{}
			for _, u := range f.uids(id) {
				out[u] = true
			}
			return out
		}
		span := func() []*evlog.UidRange {
			a := uint32(rng.IntN(40) + 1)
			return uidRanges(a, a+uint32(rng.IntN(6)))
		}
		for step := range 150 {
			src := boxes[rng.IntN(2)]
			dst := boxes[rng.IntN(2)]
			before := map[uint64]map[uint32]bool{f.inbox: present(f.inbox), f.work: present(f.work)}
			var e *evlog.Event
			switch rng.IntN(6) {
			case 0, 1:
				e = appended(src, f.hash, f.size)
			case 2:
				e = flagsChanged(src, opAdd, span(), `\Seen`)
			case 3:
				e = expunged(src, span())
			case 4:
				e = moved(src, span(), dst)
			case 5:
				e = copied(src, span(), dst)
			}
			f.one(e)
			for _, id := range boxes {
				now := present(id)
				high := mailboxByID(t, f.s, id).GetHighestModseq()
				for u := range before[id] {
					if !now[u] {
						gone[id][u] = high
					}
				}
				for since := uint64(0); since <= high; since++ {
					var want []uint32
					for u, m := range gone[id] {
						if m > since {
							want = append(want, u)
						}
					}
					slices.Sort(want)
					got, complete := f.vanished(id, since)
					if !slices.Equal(got, want) || complete != (since >= 1) {
						t.Fatalf("seed %d step %d mailbox %d: Vanished(%d) = %v complete %v, want %v", seed, step, id, since, got, complete, want)
					}
				}
			}
		}
		checkInvariants(t, f.s)
	}
}

func mailboxByID(t *testing.T, s *Store, id uint64) *evlog.MailboxRecord {
	t.Helper()
	mb, err := s.Mailbox(id)
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// FuzzDecodeUIDSpans: a stored history value either decodes into valid
// spans that encode back to the same bytes, or is refused; never a panic.
func FuzzDecodeUIDSpans(f *testing.F) {
	f.Add(encodeUIDSpans([]uidSpan{{1, 3}, {7, 7}}))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, v []byte) {
		spans, err := decodeUIDSpans(v)
		if err != nil {
			return
		}
		for _, s := range spans {
			if s.first == 0 || s.last < s.first {
				t.Fatalf("invalid span %v", s)
			}
		}
		if got := encodeUIDSpans(spans); !bytes.Equal(got, v) {
			t.Fatalf("round trip %x → %x", v, got)
		}
	})
}
