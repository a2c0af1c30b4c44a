package imap

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
)

// testSnapshot is a view with the given UIDs, each with the paired modseq.
func testSnapshot(uidNext uint32, uidsAndModseqs ...uint64) *snapshot {
	v := &snapshot{mailboxID: 1, uidValidity: 7, uidNext: uidNext}
	for i := 0; i+1 < len(uidsAndModseqs); i += 2 {
		v.uids = append(v.uids, uint32(uidsAndModseqs[i]))
		v.msgs = append(v.msgs, msgState{modseq: uidsAndModseqs[i+1]})
		v.modseq = max(v.modseq, uidsAndModseqs[i+1])
	}
	return v
}

// parseRanges reads "1:3,5,7:*" ("*" is 0) for the tests.
func parseRanges(t *testing.T, s string) [][2]uint32 {
	t.Helper()
	num := func(p string) uint32 {
		if p == "*" {
			return 0
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n == 0 {
			t.Fatalf("bad set %q", s)
		}
		return uint32(n)
	}
	var out [][2]uint32
	for _, part := range strings.Split(s, ",") {
		lo, hi, ok := strings.Cut(part, ":")
		if !ok {
			hi = lo
		}
		out = append(out, [2]uint32{num(lo), num(hi)})
	}
	return out
}

func uidSet(t *testing.T, s string) imap.UIDSet {
	t.Helper()
	if s == "" {
		return nil
	}
	var set imap.UIDSet
	for _, r := range parseRanges(t, s) {
		set = append(set, imap.UIDRange{Start: imap.UID(r[0]), Stop: imap.UID(r[1])})
	}
	return set
}

func seqSet(t *testing.T, s string) imap.SeqSet {
	t.Helper()
	var set imap.SeqSet
	for _, r := range parseRanges(t, s) {
		set = append(set, imap.SeqRange{Start: r[0], Stop: r[1]})
	}
	return set
}

func setString(s imap.UIDSet) string {
	if s == nil {
		return ""
	}
	return s.String()
}

func TestChangedSince(t *testing.T) {
	v := testSnapshot(10, 1, 5, 3, 9, 4, 2, 8, 12)
	all := []seqUID{{1, 1}, {2, 3}, {3, 4}, {4, 8}}
	got := changedSince(v, all, 5)
	if !slices.Equal(got, []seqUID{{2, 3}, {4, 8}}) {
		t.Errorf("changedSince 5 = %v", got)
	}
	if got := changedSince(v, all[:1], 0); len(got) != 1 {
		t.Errorf("changedSince 0 = %v", got)
	}
	if got := changedSince(v, all, 12); len(got) != 0 {
		t.Errorf("changedSince HIGHESTMODSEQ = %v", got)
	}
	if got := highestModseqOf(v, []uint32{1, 4, 99}); got != 5 {
		t.Errorf("highestModseqOf = %d", got)
	}
	if got := highestModseqOf(v, nil); got != 0 {
		t.Errorf("highestModseqOf none = %d", got)
	}
}

func TestSearchUsesModseq(t *testing.T) {
	deep := &imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{}, {Not: []imap.SearchCriteria{{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: 3}}}}}}}
	if !searchUsesModseq(deep) || searchUsesModseq(&imap.SearchCriteria{Larger: 3}) || searchUsesModseq(nil) {
		t.Error("searchUsesModseq")
	}
}

// TestModifiedSet: RFC 7162 §3.1.3: MODIFIED names message numbers for
// STORE, UIDs for UID STORE.
func TestModifiedSet(t *testing.T) {
	v := testSnapshot(10, 1, 5, 3, 9, 4, 2, 8, 12)
	res := &evlog.EventResult{SourceUids: []*evlog.UidRange{{First: 3, Last: 4}, {First: 8, Last: 9}}}
	if got := modifiedSet(v, res, true).String(); got != "3:4,8:9" {
		t.Errorf("UID STORE MODIFIED %s", got)
	}
	if got := modifiedSet(v, res, false).String(); got != "2:4" {
		t.Errorf("STORE MODIFIED %s", got)
	}
	if got := modifiedSet(v, &evlog.EventResult{}, false); got != nil {
		t.Errorf("nothing failed: %v", got)
	}
	if got := modifiedSet(v, &evlog.EventResult{SourceUids: []*evlog.UidRange{{First: 20, Last: 30}}}, false); got != nil {
		t.Errorf("UIDs outside the view: %v", got)
	}
	items := []seqUID{{1, 1}, {3, 4}}
	if got := unchangedSinceZero(items, false).String(); got != "1,3" {
		t.Errorf("UNCHANGEDSINCE 0, STORE: %s", got)
	}
	if got := unchangedSinceZero(items, true).String(); got != "1,4" {
		t.Errorf("UNCHANGEDSINCE 0, UID STORE: %s", got)
	}
}

func TestExpungedBetween(t *testing.T) {
	old := testSnapshot(10, 1, 1, 2, 1, 3, 1, 5, 1, 6, 1, 9, 1)
	cur := testSnapshot(12, 1, 1, 5, 1, 11, 1)
	if got := setString(expungedBetween(old, cur)); got != "2:3,6,9" {
		t.Errorf("VANISHED %s", got)
	}
	if got := expungedBetween(cur, cur); got != nil {
		t.Errorf("no change: %v", got)
	}
}

// TestVanishedEarlier follows RFC 7162 §3.2.5 and §3.2.5.2.
func TestVanishedEarlier(t *testing.T) {
	// The mailbox now: UIDs 1, 4, 5, 9, 10; UIDNEXT 13. 11 and 12 were
	// added and expunged since the client's modseq; 2, 3, 6 before.
	v := testSnapshot(13, 1, 1, 4, 1, 5, 1, 9, 1, 10, 1)
	full := vanishedHistory{complete: true, uids: []*evlog.UidRange{{First: 7, Last: 8}, {First: 11, Last: 12}}}
	none := vanishedHistory{}
	cases := []struct {
		name  string
		hist  vanishedHistory
		known string
		match *seqMatchData
		want  string
	}{
		{"history", full, "", nil, "7:8,11:12"},
		{"history, known-uids", full, "1:8", nil, "7:8"},
		{"history, known-uids with *", full, "8:*", nil, "8,11:12"},
		{"no history", none, "", nil, "2:3,6:8,11:12"},
		{"no history, known-uids", none, "1:7,10", nil, "2:3,6:7"},
		// The client saw 1, 2, 3, 4, 5 as messages 1..5; now 1 is message
		// 1 and 4 message 2: the view agrees up to UID 1 only.
		{"seq-match, first pair", none, "", &seqMatchData{seqSet(t, "1:5"), uidSet(t, "1:5")}, "2:3,6:8,11:12"},
		// The client's view was 1, 4, 5, 6, 9: messages 1..3 agree (up to
		// UID 5), 4 does not (6 was expunged).
		{"seq-match, prefix", none, "", &seqMatchData{seqSet(t, "1:4"), uidSet(t, "1,4:6")}, "6:8,11:12"},
		{"seq-match and history", full, "", &seqMatchData{seqSet(t, "2,4"), uidSet(t, "4,9")}, "11:12"},
		{"seq-match past the mailbox", none, "", &seqMatchData{seqSet(t, "9"), uidSet(t, "20")}, "2:3,6:8,11:12"},
	}
	for _, c := range cases {
		got, err := vanishedEarlier(v, 3, c.hist, uidSet(t, c.known), c.match)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if s := setString(got); s != c.want {
			t.Errorf("%s: VANISHED (EARLIER) %q, want %q", c.name, s, c.want)
		}
	}
	if _, err := vanishedEarlier(v, 3, none, nil, &seqMatchData{seqSet(t, "1:3"), uidSet(t, "1,4")}); !errors.Is(err, errSeqMatchMismatch) {
		t.Errorf("mismatched seq-match-data: %v", err)
	}
	// A UID the history names that the view still holds was expunged
	// after the view was taken: not reported yet.
	late := vanishedHistory{complete: true, uids: []*evlog.UidRange{{First: 9, Last: 9}}}
	if got, _ := vanishedEarlier(v, 3, late, nil, nil); got != nil {
		t.Errorf("expunged after the view: %v", got)
	}
	if got, _ := vanishedEarlier(testSnapshot(1), 0, none, nil, nil); got != nil {
		t.Errorf("empty mailbox: %v", got)
	}
}

func TestQresyncSelect(t *testing.T) {
	v := testSnapshot(13, 1, 2, 4, 8, 5, 3, 9, 10, 10, 4)
	hist := vanishedHistory{complete: true, uids: []*evlog.UidRange{{First: 6, Last: 6}}}
	r, err := qresyncSelect(v, qresyncParams{uidValidity: 7, modseq: 3}, hist)
	if err != nil || !r.resync || setString(r.vanished) != "6" || !slices.Equal(r.changed, []seqUID{{2, 4}, {4, 9}, {5, 10}}) {
		t.Errorf("qresyncSelect = %+v, %v", r, err)
	}
	r, err = qresyncSelect(v, qresyncParams{uidValidity: 8, modseq: 3}, hist)
	if err != nil || r.resync || r.vanished != nil || r.changed != nil {
		t.Errorf("another UIDVALIDITY: %+v, %v", r, err)
	}
}

// vanishedReference is vanishedEarlier by brute force over small UIDs.
func vanishedReference(v *snapshot, hist vanishedHistory, known []uint32, agreed uint32) []uint32 {
	var out []uint32
	for u := uint32(1); u < v.uidNext; u++ {
		if v.index(u) >= 0 || u <= agreed {
			continue
		}
		if known != nil && !slices.Contains(known, u) {
			continue
		}
		if hist.complete && !evlog.Contains(hist.uids, u) {
			continue
		}
		out = append(out, u)
	}
	return out
}

func FuzzVanishedEarlier(f *testing.F) {
	f.Add([]byte{0b1011_0110, 0b0110_1101}, []byte{0b0100_0000}, []byte{0xff, 0x0f}, true, uint8(2))
	f.Add([]byte{}, []byte{}, []byte{}, false, uint8(0))
	f.Fuzz(func(t *testing.T, present, history, knownBits []byte, complete bool, matchN uint8) {
		const maxUID = 64
		bit := func(b []byte, i int) bool { return i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }
		v := &snapshot{uidValidity: 1}
		var hist vanishedHistory
		hist.complete = complete
		var known []uint32
		for u := 1; u <= maxUID; u++ {
			if bit(present, u) {
				v.uids = append(v.uids, uint32(u))
				v.msgs = append(v.msgs, msgState{modseq: 1})
			}
			if bit(history, u) {
				hist.uids = append(hist.uids, &evlog.UidRange{First: uint32(u), Last: uint32(u)})
			}
			if bit(knownBits, u) {
				known = append(known, uint32(u))
			}
		}
		v.uidNext = maxUID + 1
		var knownSet imap.UIDSet
		for _, u := range known {
			knownSet.AddNum(imap.UID(u))
		}
		if len(known) == 0 {
			known, knownSet = nil, nil
		}
		// seq-match-data: the first matchN messages paired with their
		// UIDs, except that the last pair is wrong when matchN is odd.
		var match *seqMatchData
		var agreed uint32
		if n := int(matchN) % 8; n > 0 && n <= len(v.uids) {
			match = &seqMatchData{}
			for i := range n {
				u := v.uids[i]
				if i == n-1 && n%2 == 1 {
					u = maxUID + 5 // matches nothing
				} else {
					agreed = u
				}
				match.seqs.AddNum(uint32(i + 1))
				match.uids.AddNum(imap.UID(u))
			}
		}
		got, err := vanishedEarlier(v, 0, hist, knownSet, match)
		if err != nil {
			t.Fatal(err)
		}
		var gotUIDs []uint32
		for _, r := range got {
			for u := r.Start; u <= r.Stop; u++ {
				gotUIDs = append(gotUIDs, uint32(u))
			}
		}
		want := vanishedReference(v, hist, known, agreed)
		if !slices.Equal(gotUIDs, want) {
			t.Fatalf("got %v, want %v", gotUIDs, want)
		}
	})
}
