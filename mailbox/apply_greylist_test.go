package mailbox

import (
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

func triple(b byte) []byte {
	t := make([]byte, GreylistTripleLen)
	t[0], t[15] = b, b
	return t
}

func recorded(seen, expires int64, passed bool, triples ...[]byte) *evlog.Event {
	return greylistRecorded(&evlog.GreylistRecorded{Triples: triples, SeenUnix: seen, ExpiresUnix: expires, Passed: passed})
}

func greylisted(t *testing.T, s *Store, tr []byte, now int64) (GreylistEntry, bool) {
	t.Helper()
	e, ok, err := s.Greylisted(tr, time.Unix(now, 0))
	if err != nil {
		t.Fatal(err)
	}
	return e, ok
}

func TestGreylistRecordAndMerge(t *testing.T) {
	h := newHarness(t)
	const t0 = 1_800_000_000
	a, b := triple(1), triple(2)
	h.ok(recorded(t0, t0+86400, false, a, b))
	e, ok := greylisted(t, h.s, a, t0+10)
	if !ok || e.Passed || e.FirstSeen.Unix() != t0 || e.Expires.Unix() != t0+86400 {
		t.Fatalf("a = %+v, %v", e, ok)
	}
	if _, ok := greylisted(t, h.s, triple(3), t0); ok {
		t.Fatal("an unrecorded triple is known")
	}
	// A second node saw it a little later (its record committed after):
	// the first sighting stays.
	h.ok(recorded(t0+5, t0+5+86400, false, a))
	if e, _ := greylisted(t, h.s, a, t0+10); e.FirstSeen.Unix() != t0 || e.Expires.Unix() != t0+5+86400 {
		t.Errorf("merged a = %+v", e)
	}
	// An earlier sighting committed late lowers it.
	h.ok(recorded(t0-3, t0-3+86400, false, a))
	if e, _ := greylisted(t, h.s, a, t0+10); e.FirstSeen.Unix() != t0-3 || e.Expires.Unix() != t0+5+86400 {
		t.Errorf("merged a = %+v", e)
	}
	// Passed: kept longer, and stays passed whatever comes after.
	h.ok(recorded(t0+600, t0+600+35*86400, true, a))
	h.ok(recorded(t0+700, t0+700+86400, false, a))
	if e, _ := greylisted(t, h.s, a, t0+800); !e.Passed || e.FirstSeen.Unix() != t0-3 || e.Expires.Unix() != t0+600+35*86400 {
		t.Errorf("passed a = %+v", e)
	}
	// Expiry is judged at read time.
	if _, ok := greylisted(t, h.s, b, t0+86400); ok {
		t.Error("b known at its expiry")
	}
	if _, ok := greylisted(t, h.s, b, t0+86399); !ok {
		t.Error("b unknown before its expiry")
	}
	// An expired triple seen again starts afresh, even before pruning.
	h.ok(recorded(t0+90000, t0+90000+86400, false, b))
	if e, _ := greylisted(t, h.s, b, t0+90001); e.FirstSeen.Unix() != t0+90000 || e.Passed {
		t.Errorf("b recorded anew = %+v", e)
	}
	next, ok, err := h.s.NextGreylistExpiry()
	if err != nil || !ok || next.Unix() != t0+90000+86400 {
		t.Errorf("NextGreylistExpiry = %v, %v, %v", next, ok, err)
	}
}

func TestGreylistPrune(t *testing.T) {
	h := newHarness(t)
	const t0 = 1_800_000_000
	h.ok(recorded(t0, t0+100, false, triple(1)), recorded(t0, t0+200, true, triple(2)), recorded(t0, t0+300, false, triple(3)))
	h.ok(greylistPruned(t0 + 200))
	h.ok(greylistPruned(t0 + 200)) // twice is harmless
	for b, want := range map[byte]bool{1: false, 2: false, 3: true} {
		if _, ok := greylisted(t, h.s, triple(b), 0); ok != want {
			t.Errorf("triple %d known: %v, want %v", b, ok, want)
		}
	}
	next, ok, err := h.s.NextGreylistExpiry()
	if err != nil || !ok || next.Unix() != t0+300 {
		t.Errorf("NextGreylistExpiry = %v, %v, %v", next, ok, err)
	}
	h.ok(greylistPruned(t0 + 1000))
	if _, ok, err := h.s.NextGreylistExpiry(); ok || err != nil {
		t.Errorf("after the last prune: %v, %v", ok, err)
	}
	n := 0
	if err := h.s.view(func(r reader) error {
		return scanRange(r, []byte(prefixGreylist), prefixEnd([]byte(prefixGreylistExpiry)), func(k, _ []byte) (bool, error) {
			if p := string(k[:prefixLen]); p == prefixGreylist || p == prefixGreylistExpiry {
				n++
			}
			return true, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d greylist keys left", n)
	}
}

func TestGreylistInvalid(t *testing.T) {
	h := newHarness(t)
	many := make([][]byte, MaxGreylistTriples+1)
	for i := range many {
		many[i] = triple(byte(i))
	}
	for name, e := range map[string]*evlog.Event{
		"no triples":     recorded(10, 20, false),
		"short triple":   recorded(10, 20, false, triple(1), []byte{1, 2}),
		"too many":       recorded(10, 20, false, many...),
		"expires early":  recorded(10, 10, false, triple(1)),
		"negative seen":  recorded(-1, 20, false, triple(1)),
		"negative prune": greylistPruned(-1),
	} {
		t.Run(name, func(t *testing.T) { h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, e) })
	}
	if _, _, err := h.s.Greylisted([]byte{1}, time.Now()); err == nil {
		t.Error("Greylisted with a short triple: no error")
	}
}

// BenchmarkGreylistRecorded: the apply cost of one message's record.
func BenchmarkGreylistRecorded(b *testing.B) {
	h := newHarness(b)
	i := 0
	for b.Loop() {
		i++
		tr := make([]byte, GreylistTripleLen)
		tr[0], tr[1], tr[2] = byte(i), byte(i>>8), byte(i>>16)
		h.ok(recorded(int64(1_800_000_000+i), int64(1_800_086_400+i), false, tr))
	}
}
