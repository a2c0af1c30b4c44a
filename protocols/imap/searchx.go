package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// The SEARCH keys go-imap's imap.SearchCriteria lacks, which wire's
// SearchCriteria carries: YOUNGER and OLDER (RFC 5032), SAVEDBEFORE,
// SAVEDON, SAVEDSINCE and SAVEDATESUPPORTED (RFC 8514 §4.2), EMAILID and
// THREADID (RFC 8474 §6).

// matchExt evaluates c against cr's extension keys (match does the rest,
// and the NOT and OR under them).
func (c *candidate) matchExt(cr *wire.SearchCriteria) bool {
	if cr.Younger != 0 || cr.Older != 0 {
		// RFC 5032 §3: the interval is counted back from now, on the
		// internal date; a message exactly at the boundary matches both,
		// as in Dovecot.
		at := internalDate(c.rec).Unix()
		now := c.s.srv.cfg.Now().Unix()
		if cr.Younger != 0 && at < now-int64(cr.Younger) {
			return false
		}
		if cr.Older != 0 && at > now-int64(cr.Older) {
			return false
		}
	}
	// RFC 8514 §4.2: dates compare as SINCE and BEFORE do, on the save
	// date. SAVEDATESUPPORTED matches every message: every mailbox here
	// keeps save dates.
	if (!cr.SavedSince.IsZero() || !cr.SavedBefore.IsZero()) && !matchDate(saveDate(c.rec), cr.SavedSince, cr.SavedBefore) {
		return false
	}
	for _, id := range cr.EmailID {
		if id != emailObjectID(c.rec.GetBlob()) {
			return false
		}
	}
	// RFC 8474 §6: no message has a THREADID here, so none matches one.
	return len(cr.ThreadID) == 0
}

// searchFromIMAP is go-imap's criteria as wire's (field for field).
func searchFromIMAP(in *imap.SearchCriteria) *wire.SearchCriteria {
	out := &wire.SearchCriteria{
		SeqNum: in.SeqNum, UID: in.UID,
		Since: in.Since, Before: in.Before, SentSince: in.SentSince, SentBefore: in.SentBefore,
		Header: in.Header, Body: in.Body, Text: in.Text, Flag: in.Flag, NotFlag: in.NotFlag,
		Larger: in.Larger, Smaller: in.Smaller, ModSeq: in.ModSeq,
	}
	for i := range in.Not {
		out.Not = append(out.Not, *searchFromIMAP(&in.Not[i]))
	}
	for i := range in.Or {
		out.Or = append(out.Or, [2]wire.SearchCriteria{*searchFromIMAP(&in.Or[i][0]), *searchFromIMAP(&in.Or[i][1])})
	}
	return out
}
