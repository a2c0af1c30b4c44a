package imap

import (
	"reflect"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/sortthread"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// cmdSort: SORT and UID SORT (RFC 5256 §3), with the SORT=DISPLAY keys
// (RFC 5957) and ESORT's RETURN options (RFC 5267 §3):
//
//	sort = ["UID" SP] "SORT" [SP sort-return-opts] SP sort-criteria SP
//	       search-criteria
//
// The search program picks the messages (search.go), sort.go orders
// them. With RETURN the answer is ESEARCH, MIN and MAX being the first and
// last in sort order and ALL a sequence-set in sort order; SAVE keeps the
// result for "$" (RFC 5182), as a set.
func cmdSort(s *session, c *command) error {
	sc, err := c.dec.ReadSort(c.uid)
	if err != nil {
		return err
	}
	criteria := make([]sortthread.Criterion, 0, len(sc.Criteria))
	for _, wc := range sc.Criteria {
		k, ok := sortthread.ParseKey(string(wc.Key))
		if !ok {
			return bad("Unknown sort key " + string(wc.Key))
		}
		criteria = append(criteria, sortthread.Criterion{Key: k, Reverse: wc.Reverse})
	}
	ret := sc.Return
	ext := sc.ReturnExt // CONTEXT=SORT (RFC 5267 §4, searchctx.go)
	others := ext.Update || ext.Partial != nil
	if ret != nil && !ret.ReturnMin && !ret.ReturnMax && !ret.ReturnAll && !ret.ReturnCount && !ret.ReturnSave && !others {
		ret.ReturnAll = true // RETURN (CONTEXT): the hint alone is ALL
	}
	if ext.Update && s.sel.contextFor(c.tag) >= 0 {
		return bad("Duplicate search context tag") // as Dovecot
	}
	idx, err := s.sortSearch(sc.Charset, &sc.Search, ret != nil && ret.ReturnSave)
	if err != nil {
		return err
	}
	ids, err := s.srv.sortView(s.sel.view, idx, criteria, c.uid)
	if err != nil {
		return replyFor(err)
	}
	if ext.Update {
		result := ids
		if !c.uid {
			result = s.sel.uidsOfSeqs(ids)
		}
		c.code = s.registerContext(c.tag, c.uid, &sc.Search, criteria, ext.Partial != nil, result)
	}
	if ret != nil {
		if ret.ReturnSave && !ret.ReturnMin && !ret.ReturnMax && !ret.ReturnAll && !ret.ReturnCount && !others {
			return nil // RFC 5182 §2.4: SAVE alone answers no ESEARCH
		}
		writeSortESearch(s.enc, c.tag, c.uid, ret, ext.Partial, ids)
		return s.enc.Err()
	}
	s.enc.Untagged().Atom("SORT")
	for _, id := range ids {
		s.enc.SP().Number(id)
	}
	return s.enc.CRLF().Err()
}

// sortSearch runs the search program of a SORT or THREAD over the
// session's view and returns the positions (0-based, in mailbox order)
// of the messages it matched; save keeps them for "$" (RFC 5182). The
// charset must be one we search in (RFC 5256 §3: US-ASCII and UTF-8
// MUST be supported): others get NO [BADCHARSET], as SEARCH's do.
func (s *session) sortSearch(charset string, criteria *wire.SearchCriteria, save bool) ([]int, error) {
	switch charset {
	case "UTF-8", "US-ASCII":
	default:
		return nil, errBadCharset
	}
	if criteria.Extended() {
		return nil, no(imap.ResponseCodeCannot, "Search key not supported")
	}
	if !save && reflect.DeepEqual(*criteria, wire.SearchCriteria{}) {
		// ALL: every message of the view, without a scan of the store.
		idx := make([]int, len(s.sel.view.uids))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	data, err := s.Search(false, criteria.IMAP(), &imap.SearchOptions{ReturnSave: save})
	if err != nil {
		return nil, err
	}
	seqs, _ := data.All.(imap.SeqSet)
	n := uint32(len(s.sel.view.uids))
	var idx []int
	for _, r := range seqs {
		lo, hi := staticRange(r.Start, r.Stop, n)
		for seq := lo; seq >= 1 && seq <= hi && seq <= n; seq++ {
			idx = append(idx, int(seq-1))
		}
	}
	return idx, nil
}

// writeSortESearch writes ESORT's answer (RFC 5267 §3.1, the ESEARCH
// response of RFC 4731 §3.1): MIN and MAX are the first and last message
// in sort order, ALL the messages in sort order (runs of consecutive
// ascending numbers as ranges), COUNT their number. Nothing but COUNT is
// written when nothing matched.
//
// PARTIAL (RFC 5267 §4.4) returns the messages at positions p in sort
// order.
func writeSortESearch(e *wire.Encoder, tag string, uid bool, o *imap.SearchOptions, p *wire.PartialRange, ids []uint32) {
	e.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().Quoted(tag).Close()
	if uid {
		e.SP().Atom("UID")
	}
	if len(ids) > 0 {
		if o.ReturnMin {
			e.SP().Atom("MIN").SP().Number(ids[0])
		}
		if o.ReturnMax {
			e.SP().Atom("MAX").SP().Number(ids[len(ids)-1])
		}
		if o.ReturnAll {
			e.SP().Atom("ALL").SP().Raw(orderedSet(ids))
		}
	}
	if o.ReturnCount {
		e.SP().Atom("COUNT").SP().Number(uint32(len(ids)))
	}
	if p != nil {
		writePartial(e, p, partialOf(ids, p), true)
	}
	e.CRLF()
}

// orderedSet writes ids, in their order, as a sequence-set: a run of
// consecutive ascending numbers becomes "a:b".
func orderedSet(ids []uint32) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(utoa(ids[i]))
		if j > i {
			b.WriteByte(':')
			b.WriteString(utoa(ids[j]))
		}
		i = j + 1
	}
	return b.String()
}
