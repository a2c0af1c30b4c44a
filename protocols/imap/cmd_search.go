package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// errBadCharset refuses a SEARCH charset other than UTF-8 and US-ASCII
// (RFC 9051 §6.4.4: BADCHARSET lists those served).
var errBadCharset = no("BADCHARSET (UTF-8 US-ASCII)", "Only UTF-8 and US-ASCII searches are supported")

// cmdSearch: SEARCH and UID SEARCH (RFC 9051 §6.4.4, §6.4.9); the grammar
// is wire.ReadSearch, the work session.Search (search.go). The answer is
// SEARCH (IMAP4rev1), or ESEARCH (RFC 4731) when RETURN was given or
// IMAP4rev2 is enabled.
func cmdSearch(s *session, c *command) error {
	sc, err := c.dec.ReadSearch(c.uid)
	if err != nil {
		return err
	}
	switch sc.Charset {
	case "", "UTF-8", "US-ASCII":
	default:
		return errBadCharset
	}
	opts := sc.Return
	if opts == nil {
		opts = &imap.SearchOptions{}
	}
	ext := sc.ReturnExt // CONTEXT=SEARCH (RFC 5267 §4, searchctx.go)
	others := ext.Update || ext.Partial != nil
	saveOnly := opts.ReturnSave && !opts.ReturnMin && !opts.ReturnMax && !opts.ReturnAll && !opts.ReturnCount && !others
	if !opts.ReturnMin && !opts.ReturnMax && !opts.ReturnCount && !saveOnly && !others {
		opts.ReturnAll = true // RFC 4731 §3.1: RETURN () is ALL
	}
	if ext.Update && s.sel.contextFor(c.tag) >= 0 {
		return bad("Duplicate search context tag") // as Dovecot
	}
	criteria := sc.Criteria.IMAP()
	data, err := s.search(c.uid, &sc.Criteria, opts) // with WITHIN, SAVEDATE, OBJECTID keys
	if err != nil {
		return err
	}
	modseq := s.searchModseqData(criteria, data, opts, c.uid) // RFC 7162 §3.1.5 (cmd_condstore.go)
	var ids []uint32                                          // the result, ascending
	if others {
		ids = numsOf(data.All)
	}
	if ext.Update {
		result := ids
		if !c.uid {
			result = s.sel.uidsOfSeqs(ids)
		}
		c.code = s.registerContext(c.tag, c.uid, &sc.Criteria, nil, ext.Partial != nil, result)
	}
	switch {
	case saveOnly:
		// RFC 5182 §2.4: SAVE alone returns no ESEARCH.
		return nil
	case sc.Return != nil || s.rev2:
		return s.writeESearch(c, data, opts, modseq, ext.Partial, ids)
	}
	e := s.enc.Untagged().Atom("SEARCH")
	switch all := data.All.(type) {
	case imap.SeqSet:
		nums, _ := all.Nums()
		for _, n := range nums {
			e.SP().Number(n)
		}
	case imap.UIDSet:
		nums, _ := all.Nums()
		for _, n := range nums {
			e.SP().Number(uint32(n))
		}
	}
	if modseq > 0 && data.Count > 0 {
		e.SP().Open().Atom("MODSEQ").SP().Number64(modseq).Close()
	}
	return e.CRLF().Err()
}

// writeESearch writes "* ESEARCH (TAG "t") [UID] ..." (RFC 4731 §3.1):
// ALL only when something matched, MIN and MAX too; COUNT always.
//
// PARTIAL (RFC 5267 §4.4) returns the results at positions p of ids, the
// whole result in ascending order.
func (s *session) writeESearch(c *command, data *imap.SearchData, opts *imap.SearchOptions, modseq uint64, p *wire.PartialRange, ids []uint32) error {
	e := s.enc.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(c.tag).Close()
	if c.uid {
		e.SP().Atom("UID")
	}
	if opts.ReturnMin && data.Count > 0 {
		e.SP().Atom("MIN").SP().Number(data.Min)
	}
	if opts.ReturnMax && data.Count > 0 {
		e.SP().Atom("MAX").SP().Number(data.Max)
	}
	if opts.ReturnAll && data.Count > 0 {
		e.SP().Atom("ALL").SP().NumSet(data.All)
	}
	if opts.ReturnCount {
		e.SP().Atom("COUNT").SP().Number(data.Count)
	}
	if p != nil {
		writePartial(e, p, partialOf(ids, p), false)
	}
	if modseq > 0 && data.Count > 0 {
		e.SP().Atom("MODSEQ").SP().Number64(modseq) // RFC 7162 §3.1.11
	}
	return e.CRLF().Err()
}

// numsOf lists the numbers of a search result set, ascending.
func numsOf(set imap.NumSet) []uint32 {
	switch set := set.(type) {
	case imap.SeqSet:
		nums, _ := set.Nums()
		return nums
	case imap.UIDSet:
		uids, _ := set.Nums()
		out := make([]uint32, len(uids))
		for i, u := range uids {
			out[i] = uint32(u)
		}
		return out
	}
	return nil
}
