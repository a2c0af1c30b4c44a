package imap

import (
	"errors"
	"strconv"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// CONDSTORE and QRESYNC (RFC 7162) in the commands: the session's state
// and the responses the commands add. The computations are condstore.go's.

// condState is what the session enabled of RFC 7162.
type condState struct {
	// condstore: CONDSTORE is enabled (§3.1: by ENABLE, or by a
	// CONDSTORE-enabling command: SELECT/EXAMINE (CONDSTORE), FETCH MODSEQ
	// or CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS
	// HIGHESTMODSEQ). From then on every FETCH response that carries
	// FLAGS carries UID and MODSEQ too.
	condstore bool
	// qresync: QRESYNC is enabled (§3.2.3: by ENABLE only; it enables
	// CONDSTORE too). Expunges are then reported as VANISHED (§3.2.10).
	qresync bool
	// announce: CONDSTORE was just enabled while a mailbox was selected:
	// its HIGHESTMODSEQ is sent after the command's responses.
	announce bool
}

// enableCondstore turns CONDSTORE on (RFC 7162 §3.1). Enabled while a
// mailbox is selected, the mailbox's HIGHESTMODSEQ is announced once the
// command's own responses are out (announceHighestModseq), as Dovecot
// does, so that the client can start tracking modseqs from there.
func (s *session) enableCondstore() {
	if s.cond.condstore {
		return
	}
	s.cond.condstore = true
	s.cond.announce = s.sel != nil
}

// enableQresync turns QRESYNC on, and CONDSTORE with it (RFC 7162 §3.2.3).
func (s *session) enableQresync() {
	s.enableCondstore()
	s.cond.qresync = true
}

// announceHighestModseq writes "* OK [HIGHESTMODSEQ n]" when CONDSTORE
// was just enabled with a mailbox selected.
func (s *session) announceHighestModseq() {
	if !s.cond.announce {
		return
	}
	s.cond.announce = false
	if s.sel != nil {
		s.enc.Status("*", "OK", "HIGHESTMODSEQ "+u64toa(s.sel.view.modseq), "Highest")
	}
}

func u64toa(n uint64) string { return strconv.FormatUint(n, 10) }

// selectCondstore takes SELECT/EXAMINE's RFC 7162 parameters before the
// mailbox is opened: QRESYNC without ENABLE QRESYNC first is BAD (§3.2.5);
// either parameter enables CONDSTORE (§3.1.8). The QRESYNC parameters are
// returned for writeSelectCondstore.
func (s *session) selectCondstore(sc *wire.SelectCommand) (*qresyncParams, error) {
	if sc.QResync != nil && !s.cond.qresync {
		return nil, bad("QRESYNC was not enabled")
	}
	if sc.CondStore || sc.QResync != nil {
		s.cond.condstore = true
	}
	if sc.QResync == nil {
		return nil, nil
	}
	p := &qresyncParams{uidValidity: sc.QResync.UIDValidity, modseq: sc.QResync.ModSeq, knownUIDs: sc.QResync.KnownUIDs}
	if m := sc.QResync.SeqMatch; m != nil {
		p.seqMatch = &seqMatchData{seqs: m.KnownSeqs, uids: m.KnownSeqUIDs}
		// §3.2.5.2: the two sets pair up; refused before the mailbox is
		// opened (with "*" in them, the counts are known only then).
		if !m.KnownSeqs.Dynamic() && !m.KnownSeqUIDs.Dynamic() &&
			spanCount(spansOfNumSet(seqRanges(m.KnownSeqs), 0)) != spanCount(spansOfUIDSet(m.KnownSeqUIDs, 0)) {
			return nil, bad(errSeqMatchMismatch.Error())
		}
	}
	return p, nil
}

// writeSelectCondstore writes what RFC 7162 adds to a successful SELECT or
// EXAMINE: the mailbox's HIGHESTMODSEQ (§3.1.2.1: every mailbox here keeps
// modseqs, so never NOMODSEQ), then with QRESYNC parameters whose
// UIDVALIDITY matches, VANISHED (EARLIER) with the UIDs expunged since the
// client's modseq and a FETCH (UID FLAGS MODSEQ) for each message changed
// since (§3.2.5). A seq-match-data whose sets differ in size once "*" is
// resolved is left unused (selectCondstore refused the other cases).
func (s *session) writeSelectCondstore(p *qresyncParams) error {
	v := s.sel.view
	s.enc.Status("*", "OK", "HIGHESTMODSEQ "+u64toa(v.modseq), "Highest")
	if p == nil || p.uidValidity != v.uidValidity {
		return s.enc.Err()
	}
	hist, err := readVanished(s.srv.cfg.Store, v.mailboxID, p.modseq)
	if err != nil {
		return err
	}
	r, err := qresyncSelect(v, *p, hist)
	if errors.Is(err, errSeqMatchMismatch) {
		p.seqMatch = nil
		r, err = qresyncSelect(v, *p, hist)
	}
	if err != nil {
		return err
	}
	if r.vanished != nil {
		s.writeVanished(r.vanished, true)
	}
	for _, it := range r.changed {
		m := v.msgs[it.seq-1]
		s.enc.Untagged().Number(it.seq).SP().Atom("FETCH").SP().Open().
			Atom("UID").SP().Number(it.uid).SP().
			Atom("FLAGS").SP().Flags(s.sel.withRecent(it.uid, imapFlags(m.flags))).SP(). // recent.go
			Atom("MODSEQ").SP().Open().Number64(m.modseq).Close().Close().CRLF()
	}
	return s.enc.Err()
}

// writeVanished writes "* VANISHED [(EARLIER)] uids" (RFC 7162 §3.2.10).
func (s *session) writeVanished(uids imap.UIDSet, earlier bool) {
	e := s.enc.Untagged().Atom("VANISHED").SP()
	if earlier {
		e.Raw("(EARLIER) ")
	}
	e.NumSet(uids).CRLF()
}

// vanishedWriter is a writer that reports expunges as VANISHED once
// QRESYNC is enabled (RFC 7162 §3.2.10): report and expungeOwn ask
// vanishedMode for it.
type vanishedWriter interface {
	WriteVanished(uids imap.UIDSet) error
}

// vanishedMode is w as a vanishedWriter when its session enabled QRESYNC,
// else nil (EXPUNGE responses, one per message).
func vanishedMode(w any) vanishedWriter {
	if r, ok := w.(responses); ok && r.s.cond.qresync {
		return r
	}
	return nil
}

// WriteVanished writes "* VANISHED uids".
func (r responses) WriteVanished(uids imap.UIDSet) error {
	r.s.writeVanished(uids, false)
	return r.s.enc.Err()
}

// deferredHighestModseq is RFC 7162 §3.2's rule for expunges a session
// cannot be told yet (during FETCH, STORE or SEARCH, RFC 9051 §7.4.1)
// while it may have been sent higher MODSEQs: "* OK [HIGHESTMODSEQ n]"
// with n below the expunges' modseqs, so that a client resyncing from it
// after a lost connection still hears of them. Only for a session that
// enabled CONDSTORE (no other sees a MODSEQ).
func deferredHighestModseq(w any, modseq uint64) error {
	r, ok := w.(responses)
	if !ok || !r.s.cond.condstore {
		return nil
	}
	return r.s.enc.Status("*", "OK", "HIGHESTMODSEQ "+u64toa(modseq), "Highest").Err()
}

// fetchVanished is UID FETCH's VANISHED modifier (RFC 7162 §3.2.6): with
// QRESYNC enabled (BAD otherwise) and CHANGEDSINCE (the grammar checks),
// "* VANISHED (EARLIER)" with the UIDs of set expunged since the modseq,
// before the FETCH responses.
func (s *session) fetchVanished(fc *wire.FetchCommand) error {
	if !fc.Options.Vanished {
		return nil
	}
	if !s.cond.qresync {
		return bad("VANISHED needs ENABLE QRESYNC")
	}
	known, ok := fc.NumSet.(imap.UIDSet)
	if !ok || imap.IsSearchRes(known) {
		known = s.sel.searchRes
	}
	v := s.sel.view
	hist, err := readVanished(s.srv.cfg.Store, v.mailboxID, fc.Options.ChangedSince)
	if err != nil {
		return err
	}
	uids, err := vanishedEarlier(v, fc.Options.ChangedSince, hist, known, nil)
	if err != nil {
		return err
	}
	if uids != nil {
		s.writeVanished(uids, true)
	}
	return s.enc.Err()
}

// searchModseqData is what a SEARCH whose criteria use MODSEQ adds to its
// result (RFC 7162 §3.1.5): the highest modseq among the messages it
// returns, 0 when it returns none (the response then carries none). An
// ESEARCH that returns only MIN and/or MAX returns those messages alone,
// so the highest of theirs (§3.1.11; Dovecot and imaptest's
// esearch-condstore agree); otherwise the highest of all found (Search
// keeps it). It enables CONDSTORE.
func (s *session) searchModseqData(criteria *imap.SearchCriteria, data *imap.SearchData, opts *imap.SearchOptions, byUID bool) uint64 {
	if !searchUsesModseq(criteria) || data == nil {
		return 0
	}
	s.enableCondstore()
	if data.Count == 0 {
		return 0
	}
	if opts == nil || opts.ReturnAll || opts.ReturnCount || !(opts.ReturnMin || opts.ReturnMax) {
		return data.ModSeq
	}
	v := s.sel.view
	cur, err := s.sel.state.refresh(false)
	if err != nil || cur == nil || cur.gone {
		cur = v
	}
	modseqOf := func(n uint32) uint64 {
		uid := n
		if !byUID {
			if n == 0 || int(n) > len(v.uids) {
				return 0
			}
			uid = v.uids[n-1]
		}
		if i := cur.index(uid); i >= 0 {
			return cur.msgs[i].modseq
		}
		return 0
	}
	var high uint64
	if opts.ReturnMin {
		high = max(high, modseqOf(data.Min))
	}
	if opts.ReturnMax {
		high = max(high, modseqOf(data.Max))
	}
	return high
}

// WriteModSeq writes the MODSEQ item (RFC 7162 §3.1.4.1).
func (r *fetchResponse) WriteModSeq(modseq uint64) {
	r.item("MODSEQ").SP().Open().Number64(modseq).Close()
}
