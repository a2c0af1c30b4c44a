package mailbox

import (
	evlog "github.com/surat-mail/surat/log"
)

// greylistEntries returns n entries of greylisting events after the
// entries given: records of a few triples (some passed, some invalid) at
// times on both sides of the prunes'.
func (g *generator) greylistEntries(after []entry, n int) []entry {
	index := after[len(after)-1].index + 1
	var out []entry
	for range n {
		now := int64(1_700_000_000 + g.rng.IntN(1000))
		var e *evlog.Event
		switch g.rng.IntN(6) {
		case 0:
			e = greylistPruned(now)
		case 1:
			e = greylistRecorded(&evlog.GreylistRecorded{Triples: [][]byte{{1, 2, 3}}, SeenUnix: now, ExpiresUnix: now + 1}) // refused
		default:
			var ts [][]byte
			for range 1 + g.rng.IntN(3) {
				t := make([]byte, GreylistTripleLen)
				t[0] = byte(g.rng.IntN(8))
				ts = append(ts, t)
			}
			e = greylistRecorded(&evlog.GreylistRecorded{Triples: ts, SeenUnix: now, Passed: g.rng.IntN(3) == 0,
				ExpiresUnix: now + int64(1+g.rng.IntN(1000))})
		}
		p, err := evlog.EncodeBatch(&evlog.Batch{Events: []*evlog.Event{e}})
		if err != nil {
			panic(err)
		}
		out = append(out, entry{index: index, proposals: [][]byte{p}})
		index++
	}
	return out
}

func greylistRecorded(e *evlog.GreylistRecorded) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_GreylistRecorded{GreylistRecorded: e}}
}

func greylistPruned(now int64) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_GreylistPruned{GreylistPruned: &evlog.GreylistPruned{NowUnix: now}}}
}
