package imap

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
)

// CONDSTORE and QRESYNC (RFC 7162) over a session's view: pure functions
// the command handlers call. The projection keeps a modseq per message and
// the mailbox's HIGHESTMODSEQ (snapshot.go); the expunge history
// (mailbox/expunges.go) answers which UIDs vanished since a modseq.

// changedSince keeps the items whose message in v has a modseq above since
// (FETCH's CHANGEDSINCE modifier, RFC 7162 §3.1.4.1; with QRESYNC's SELECT
// the messages changed since the client's modseq, §3.2.5). items are
// (sequence number, UID) pairs as resolve returns them; v is the session's
// view or a later snapshot (messages are found by UID; one v does not hold
// is left out).
func changedSince(v *snapshot, items []seqUID, since uint64) []seqUID {
	var out []seqUID
	for _, it := range items {
		if i := v.index(it.uid); i >= 0 && v.msgs[i].modseq > since {
			out = append(out, it)
		}
	}
	return out
}

// highestModseqOf is the highest modseq among the messages of v with the
// given UIDs: the (MODSEQ n) a SEARCH whose criteria use MODSEQ appends to
// its result (RFC 7162 §3.1.5), and ESEARCH's MODSEQ return data (§3.1.11).
// 0 when none of them is in v (the response then has no MODSEQ).
func highestModseqOf(v *snapshot, uids []uint32) uint64 {
	var high uint64
	for _, uid := range uids {
		if i := v.index(uid); i >= 0 {
			high = max(high, v.msgs[i].modseq)
		}
	}
	return high
}

// searchUsesModseq reports whether a SEARCH's criteria name MODSEQ
// anywhere, which asks for the (MODSEQ n) at the end of the result (RFC
// 7162 §3.1.5) and enables CONDSTORE (§3.1).
func searchUsesModseq(c *imap.SearchCriteria) bool {
	if c == nil {
		return false
	}
	if c.ModSeq != nil {
		return true
	}
	for i := range c.Not {
		if searchUsesModseq(&c.Not[i]) {
			return true
		}
	}
	for _, pair := range c.Or {
		if searchUsesModseq(&pair[0]) || searchUsesModseq(&pair[1]) {
			return true
		}
	}
	return false
}

// unchangedSinceZero is the MODIFIED set of a STORE with UNCHANGEDSINCE 0:
// it fails for every message (RFC 7162 §3.1.3: every message has a modseq
// of at least 1), so nothing is proposed; apply reads unchanged_since 0 as
// "no condition". In sequence numbers for STORE, UIDs for UID STORE.
func unchangedSinceZero(items []seqUID, byUID bool) imap.NumSet {
	if byUID {
		var s imap.UIDSet
		for _, it := range items {
			s.AddNum(imap.UID(it.uid))
		}
		return s
	}
	var s imap.SeqSet
	for _, it := range items {
		s.AddNum(it.seq)
	}
	return s
}

// modifiedSet is the MODIFIED response code's set (RFC 7162 §3.1.3) from
// a conditional STORE's result: the UIDs apply left alone because their
// modseq was above UNCHANGEDSINCE (EventResult.source_uids), as UIDs for
// UID STORE, as sequence numbers of v for STORE (a UID v does not hold has
// no number the client knows and is left out). nil when nothing failed.
func modifiedSet(v *snapshot, res *evlog.EventResult, byUID bool) imap.NumSet {
	ranges := res.GetSourceUids()
	if len(ranges) == 0 {
		return nil
	}
	if byUID {
		var s imap.UIDSet
		for _, r := range ranges {
			s.AddRange(imap.UID(r.GetFirst()), imap.UID(r.GetLast()))
		}
		return s
	}
	var s imap.SeqSet
	for _, r := range ranges {
		lo, _ := slices.BinarySearch(v.uids, r.GetFirst())
		for i := lo; i < len(v.uids) && v.uids[i] <= r.GetLast(); i++ {
			s.AddNum(uint32(i + 1))
		}
	}
	if len(s) == 0 {
		return nil
	}
	return s
}

// expungedBetween is the set of UIDs old holds and cur does not: what a
// session with QRESYNC enabled reports in one VANISHED response instead of
// an EXPUNGE per message (RFC 7162 §3.2.10). nil when nothing went.
func expungedBetween(old, cur *snapshot) imap.UIDSet {
	var s imap.UIDSet
	for _, uid := range old.uids {
		if cur.index(uid) < 0 {
			s.AddNum(imap.UID(uid))
		}
	}
	return s
}

// vanishedHistory is what the expunge history says about a mailbox since
// a modseq (mailbox.Store.Vanished): the UIDs expunged since, and whether
// the history reaches back that far.
type vanishedHistory struct {
	uids     []*evlog.UidRange
	complete bool
}

// vanishedReader is the store's expunge history (*mailbox.Store has it).
type vanishedReader interface {
	Vanished(mailboxID, since uint64) ([]*evlog.UidRange, bool, error)
}

// readVanished asks the store's expunge history; a store without one
// (a test double) is read as knowing nothing, which is always safe: the
// answer is then computed from the mailbox's current UIDs.
func readVanished(store Store, mailboxID, since uint64) (vanishedHistory, error) {
	r, ok := store.(vanishedReader)
	if !ok {
		return vanishedHistory{}, nil
	}
	uids, complete, err := r.Vanished(mailboxID, since)
	if err != nil {
		return vanishedHistory{}, fmt.Errorf("expunge history of mailbox %d: %w", mailboxID, err)
	}
	return vanishedHistory{uids: uids, complete: complete}, nil
}

// qresyncParams are SELECT/EXAMINE's QRESYNC parameters (RFC 7162 §3.2.5):
// (uidvalidity modseq [known-uids [seq-match-data]]).
type qresyncParams struct {
	uidValidity uint32
	modseq      uint64
	knownUIDs   imap.UIDSet   // nil: not given
	seqMatch    *seqMatchData // nil: not given
}

// seqMatchData is QRESYNC's message sequence match data (RFC 7162
// §3.2.5.2): message numbers and the UIDs they had in the client's view,
// paired in ascending order.
type seqMatchData struct {
	seqs imap.SeqSet
	uids imap.UIDSet
}

// errSeqMatchMismatch: the two sets of seq-match-data do not hold the same
// number of values (RFC 7162 §3.2.5.2); the command is answered BAD.
var errSeqMatchMismatch = errors.New("QRESYNC: known-sequence-set and known-uid-set differ in size")

// qresyncResult is what a SELECT with QRESYNC sends after the usual
// responses (RFC 7162 §3.2.5): VANISHED (EARLIER) with the UIDs expunged
// since the client's modseq, then a FETCH (UID FLAGS MODSEQ) for each
// message changed since.
type qresyncResult struct {
	resync   bool        // the UIDVALIDITY matched: send what follows
	vanished imap.UIDSet // VANISHED (EARLIER); nil: none to send
	changed  []seqUID    // FETCH responses, in sequence order
}

// qresyncSelect computes a QRESYNC SELECT's resynchronisation for the
// view v it opens with. A UIDVALIDITY other than v's means the client's
// cache is void: nothing is sent and the client starts over (§3.2.5).
func qresyncSelect(v *snapshot, p qresyncParams, hist vanishedHistory) (qresyncResult, error) {
	if p.uidValidity != v.uidValidity {
		return qresyncResult{}, nil
	}
	vanished, err := vanishedEarlier(v, p.modseq, hist, p.knownUIDs, p.seqMatch)
	if err != nil {
		return qresyncResult{}, err
	}
	all := make([]seqUID, len(v.uids))
	for i, uid := range v.uids {
		all[i] = seqUID{uint32(i + 1), uid}
	}
	return qresyncResult{resync: true, vanished: vanished, changed: changedSince(v, all, p.modseq)}, nil
}

// vanishedEarlier is the UID set of a VANISHED (EARLIER) response (RFC
// 7162 §3.2.5 for SELECT, §3.2.6 for UID FETCH's VANISHED modifier): the
// UIDs below v's UIDNEXT that are not in v and were expunged at a modseq
// above since, limited to known (the client's known-uids, or the UID
// FETCH set; nil: every UID), and above the highest UID that
// seq-match-data shows the client's view and v agree on.
//
// When the history does not reach back to since, every UID not in v
// qualifies: a superset of what was expunged since, which the client
// drops as already gone (§3.2.5.2 lets a server that keeps no history
// answer so). A UID the history names that v still holds was expunged
// after v was taken; the session reports it when it reports the expunge.
// "*" in known stands for UIDNEXT-1, so that "n:*" covers the UIDs that
// vanished above the highest one left.
func vanishedEarlier(v *snapshot, since uint64, hist vanishedHistory, known imap.UIDSet, match *seqMatchData) (imap.UIDSet, error) {
	top := v.uidNext
	if top == 0 {
		top = v.maxUID() + 1 // not expected: UIDNEXT is above every UID
	}
	if top <= 1 {
		return nil, nil
	}
	limit := []uidSpan{{1, top - 1}}
	if known != nil {
		limit = intersectSpans(limit, spansOfUIDSet(known, top-1))
	}
	if match != nil {
		agreed, err := seqMatchAgreed(v, match)
		if err != nil {
			return nil, err
		}
		if agreed > 0 {
			limit = intersectSpans(limit, []uidSpan{{agreed + 1, ^uint32(0)}})
		}
	}
	if hist.complete {
		var h []uidSpan
		for _, r := range hist.uids {
			if r.GetFirst() > 0 && r.GetFirst() <= r.GetLast() {
				h = append(h, uidSpan{r.GetFirst(), r.GetLast()})
			}
		}
		limit = intersectSpans(limit, normalizeSpans(h))
	}
	return uidSetOfSpans(subtractPresent(limit, v.uids)), nil
}

// seqMatchAgreed is the highest UID below which the client's view and v
// agree (RFC 7162 §3.2.5.2): walking the pairs in ascending order while
// message number n of v has the UID the client paired with n. Since UIDs
// only ever vanish below a UID the client knew (new messages get higher
// ones), a match at (n, u) proves that no message with a UID up to u was
// expunged since. The first pair that does not match ends the walk, so
// inconsistent data costs bytes, never a missed expunge. 0: nothing agreed.
func seqMatchAgreed(v *snapshot, m *seqMatchData) (uint32, error) {
	n := uint32(len(v.uids))
	seqs := spansOfNumSet(seqRanges(m.seqs), n)
	uids := spansOfUIDSet(m.uids, v.maxUID())
	if spanCount(seqs) != spanCount(uids) {
		return 0, errSeqMatchMismatch
	}
	var agreed uint32
	si, ui := newSpanIter(seqs), newSpanIter(uids)
	for {
		s, ok1 := si.next()
		u, ok2 := ui.next()
		if !ok1 || !ok2 || s > n || v.uids[s-1] != u {
			return agreed, nil
		}
		agreed = u
	}
}

// uidSpan is a range of UIDs (or message numbers), both ends included.
type uidSpan struct{ first, last uint32 }

func seqRanges(s imap.SeqSet) [][2]uint32 {
	out := make([][2]uint32, len(s))
	for i, r := range s {
		out[i] = [2]uint32{r.Start, r.Stop}
	}
	return out
}

func spansOfUIDSet(s imap.UIDSet, star uint32) []uidSpan {
	out := make([][2]uint32, len(s))
	for i, r := range s {
		out[i] = [2]uint32{uint32(r.Start), uint32(r.Stop)}
	}
	return spansOfNumSet(out, star)
}

// spansOfNumSet turns set ranges into sorted, merged spans, "*" (0)
// standing for star (RFC 9051 §9: "n:m" and "m:n" are the same set). With
// star 0 a range naming "*" is left out.
func spansOfNumSet(ranges [][2]uint32, star uint32) []uidSpan {
	var out []uidSpan
	for _, r := range ranges {
		lo, hi := r[0], r[1]
		if lo == 0 {
			lo = star
		}
		if hi == 0 {
			hi = star
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if lo == 0 {
			if hi == 0 {
				continue
			}
			lo = 1
		}
		out = append(out, uidSpan{lo, hi})
	}
	return normalizeSpans(out)
}

func normalizeSpans(spans []uidSpan) []uidSpan {
	if len(spans) == 0 {
		return nil
	}
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b uidSpan) int { return cmp.Compare(a.first, b.first) })
	out := spans[:1]
	for _, s := range spans[1:] {
		cur := &out[len(out)-1]
		if uint64(s.first) <= uint64(cur.last)+1 {
			cur.last = max(cur.last, s.last)
			continue
		}
		out = append(out, s)
	}
	return out
}

// intersectSpans intersects two sorted, merged span lists.
func intersectSpans(a, b []uidSpan) []uidSpan {
	var out []uidSpan
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].first, b[j].first), min(a[i].last, b[j].last)
		if lo <= hi {
			out = append(out, uidSpan{lo, hi})
		}
		if a[i].last < b[j].last {
			i++
		} else {
			j++
		}
	}
	return out
}

// subtractPresent removes the sorted UIDs present from the spans.
func subtractPresent(spans []uidSpan, present []uint32) []uidSpan {
	var out []uidSpan
	for _, s := range spans {
		i, _ := slices.BinarySearch(present, s.first)
		lo := s.first
		for ; i < len(present) && present[i] <= s.last; i++ {
			if present[i] > lo {
				out = append(out, uidSpan{lo, present[i] - 1})
			}
			if present[i] == s.last {
				lo = 0 // the span is used up
				break
			}
			lo = present[i] + 1
		}
		if lo != 0 && lo <= s.last {
			out = append(out, uidSpan{lo, s.last})
		}
	}
	return out
}

func spanCount(spans []uidSpan) uint64 {
	var n uint64
	for _, s := range spans {
		n += uint64(s.last-s.first) + 1
	}
	return n
}

func uidSetOfSpans(spans []uidSpan) imap.UIDSet {
	if len(spans) == 0 {
		return nil
	}
	out := make(imap.UIDSet, len(spans))
	for i, s := range spans {
		out[i] = imap.UIDRange{Start: imap.UID(s.first), Stop: imap.UID(s.last)}
	}
	return out
}

// spanIter walks the numbers of sorted spans in ascending order.
type spanIter struct {
	spans []uidSpan
	i     int
	at    uint64
}

func newSpanIter(spans []uidSpan) *spanIter {
	it := &spanIter{spans: spans}
	if len(spans) > 0 {
		it.at = uint64(spans[0].first)
	}
	return it
}

func (it *spanIter) next() (uint32, bool) {
	for it.i < len(it.spans) {
		if it.at <= uint64(it.spans[it.i].last) {
			n := uint32(it.at)
			it.at++
			return n, true
		}
		it.i++
		if it.i < len(it.spans) {
			it.at = uint64(it.spans[it.i].first)
		}
	}
	return 0, false
}
