package imap

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// Search evaluates SEARCH / UID SEARCH (RFC 9051 §6.4.4) over the messages
// of the session's view, with ESEARCH results (RFC 4731) and SEARCHRES
// (RFC 5182). Flags, sizes and internal dates come from the message
// records; header criteria read the header block through the node's
// header cache (headercache.go), body criteria the stored body, parsed
// with go-message, only for messages the cheaper criteria left in. This is a
// scan: an index for text search is future work (doc.go).
func (s *session) Search(byUID bool, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	return s.search(byUID, searchFromIMAP(criteria), options)
}

// search is Search over wire's criteria, which add WITHIN, SAVEDATE and
// OBJECTID keys to go-imap's (searchx.go).
func (s *session) search(byUID bool, criteria *wire.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	sel := s.sel
	v := sel.view
	data := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
	var firstErr error
	i := 0
	// Criteria every message's header is needed for (header criteria at the
	// top level) read headers ahead into the node's cache, a batch under
	// one store view, from the mailbox's current snapshot.
	var cur *snapshot
	headers := len(criteria.Header) > 0 || !criteria.SentSince.IsZero() || !criteria.SentBefore.IsZero()
	// Bodies, when a criterion may need them, are read ahead likewise
	// (Store.Bodies, as FETCH does).
	needBodies := searchesText(criteria)
	if headers || needBodies {
		if c, err := sel.state.refresh(false); err == nil && c != nil && !c.gone {
			cur = c
		}
	}
	nextPrefetch, nextBodies := 0, 0
	var bodies map[string][]byte
	err := s.srv.cfg.Store.Messages(sel.state.id, func(uid uint32, m *evlog.MessageRecord) bool {
		// Merge the store's UID order with the view's: only messages the
		// client knows have sequence numbers.
		for i < len(v.uids) && v.uids[i] < uid {
			i++
		}
		if i >= len(v.uids) {
			return false
		}
		if v.uids[i] != uid {
			return true
		}
		if cur != nil && needBodies && i >= nextBodies {
			bodies = s.srv.readBodies(cur, v.uids[i:min(i+bodyBatch, len(v.uids))])
			nextBodies = i + bodyBatch
		}
		if cur != nil && headers && i >= nextPrefetch {
			var hashes [][]byte
			for _, u := range v.uids[i:min(i+prefetchBatch, len(v.uids))] {
				if j := cur.index(u); j >= 0 {
					hashes = append(hashes, cur.msgs[j].rec.GetBlob())
				}
			}
			s.srv.prefetchHeaders(hashes)
			nextPrefetch = i + prefetchBatch
		}
		c := &candidate{s: s, seq: uint32(i + 1), uid: uid, rec: m, sel: sel, body: bodies[string(m.GetBlob())]}
		ok := c.match(criteria)
		if c.err != nil && firstErr == nil {
			firstErr = c.err
		}
		if !ok {
			return true
		}
		uids.AddNum(imap.UID(uid))
		num := c.seq
		if byUID {
			num = uid
		} else {
			seqs.AddNum(c.seq)
		}
		if data.Min == 0 || num < data.Min {
			data.Min = num
		}
		if num > data.Max {
			data.Max = num
		}
		data.Count++
		data.ModSeq = max(data.ModSeq, m.GetModseq()) // RFC 7162 §3.1.5 (cmd_condstore.go)
		return true
	})
	if err == nil {
		err = firstErr
	}
	if err != nil {
		return nil, replyFor(err)
	}
	if byUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	if options != nil && options.ReturnSave {
		sel.searchRes = uids
	}
	return data, nil
}

// candidate is one message under evaluation; its body is read and parsed
// at most once, and only if a criterion needs it.
type candidate struct {
	s    *session
	sel  *selected
	seq  uint32
	uid  uint32
	rec  *evlog.MessageRecord
	body []byte // read ahead, or by load
	// rawDiffers caches rawTextDiffers(body); 0 until computed.
	rawDiffers uint8
	header     *textproto.Header
	loaded     bool
	err        error
}

func (c *candidate) load() bool {
	if !c.loaded {
		c.loaded = true
		body := c.body
		if body == nil {
			var err error
			if body, err = c.s.srv.cfg.Store.Blob(c.rec.GetBlob()); err != nil {
				c.err = err
				return false
			}
		}
		c.body = body
		h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(body)))
		if err == nil {
			c.header = &h
		} else {
			c.header = &textproto.Header{}
		}
	}
	return c.err == nil
}

// loadHeader makes c.header available, from the node's header cache or
// by reading the body only up to the end of its header; it falls back to
// load for a header too long to read on its own.
func (c *candidate) loadHeader() bool {
	if c.header != nil || c.loaded {
		return c.err == nil
	}
	e, err := c.s.srv.header(c.rec.GetBlob())
	if err != nil {
		c.loaded, c.err = true, err
		return false
	}
	if e == nil {
		return c.load()
	}
	c.header = e.shared() // only read by match
	return true
}

func (c *candidate) match(cr *wire.SearchCriteria) bool {
	v := c.sel.view
	for _, set := range cr.SeqNum {
		if !containsSeq(set, c.seq, uint32(len(v.uids))) {
			return false
		}
	}
	for _, set := range cr.UID {
		if imap.IsSearchRes(set) {
			set = c.sel.searchRes
		}
		if !containsUID(set, c.uid, v.maxUID()) {
			return false
		}
	}
	// RFC 9051 §6.4.4: dates compare without time or zone.
	if !matchDate(internalDate(c.rec), cr.Since, cr.Before) {
		return false
	}
	for _, f := range cr.Flag {
		if !c.hasFlag(f) {
			return false
		}
	}
	for _, f := range cr.NotFlag {
		if c.hasFlag(f) {
			return false
		}
	}
	size := int64(c.rec.GetSize())
	if cr.Larger != 0 && size <= cr.Larger {
		return false
	}
	if cr.Smaller != 0 && size >= cr.Smaller {
		return false
	}
	if cr.ModSeq != nil && c.rec.GetModseq() < cr.ModSeq.ModSeq {
		return false
	}
	if !c.matchExt(cr) { // WITHIN, SAVEDATE, OBJECTID (searchx.go)
		return false
	}
	if len(cr.Header) > 0 || !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
		if !c.loadHeader() {
			return false
		}
		h := mail.Header{Header: gomessage.Header{Header: *c.header}}
		for _, hf := range cr.Header {
			if !matchAddressHeader(hf.Key, h.FieldsByKey(hf.Key), hf.Value) {
				return false
			}
		}
		if !cr.SentSince.IsZero() || !cr.SentBefore.IsZero() {
			t, err := h.Date()
			if err != nil || !matchDate(t, cr.SentSince, cr.SentBefore) {
				return false
			}
		}
	}
	for _, text := range cr.Text {
		if !c.load() || c.textCannotMatch(text, true) || !matchEntity(c.body, text, true) {
			return false
		}
	}
	for _, text := range cr.Body {
		if !c.load() || c.textCannotMatch(text, false) || !matchEntity(c.body, text, false) {
			return false
		}
	}
	for i := range cr.Not {
		if c.match(&cr.Not[i]) {
			return false
		}
	}
	for i := range cr.Or {
		if !c.match(&cr.Or[i][0]) && !c.match(&cr.Or[i][1]) {
			return false
		}
	}
	return true
}

func containsSeq(set imap.SeqSet, seq, max uint32) bool {
	for _, r := range set {
		lo, hi := staticRange(r.Start, r.Stop, max)
		if seq >= lo && seq <= hi {
			return true
		}
	}
	return false
}

func containsUID(set imap.UIDSet, uid, max uint32) bool {
	for _, r := range set {
		lo, hi := staticRange(uint32(r.Start), uint32(r.Stop), max)
		if uid >= lo && uid <= hi {
			return true
		}
	}
	return false
}

// hasFlag compares case-insensitively (RFC 9051 §2.3.2: flags are
// case-insensitive). \Recent is never stored (candidate.hasFlag).
func hasFlag(flags []string, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(x, string(f)) {
			return true
		}
	}
	return false
}

func matchDate(t, since, before time.Time) bool {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && day.Before(since) {
		return false
	}
	if !before.IsZero() && !day.Before(before) {
		return false
	}
	return true
}

// matchHeader: a field exists (empty pattern) or its decoded value holds
// the pattern, case-insensitively (RFC 9051 §6.4.4 HEADER).
func matchHeader(fields gomessage.HeaderFields, pattern string) bool {
	if pattern == "" {
		return fields.Len() > 0
	}
	return fieldsContain(fields, strings.ToLower(pattern))
}

// fieldsContain reports whether one of fields' values, decoded (RFC 2047;
// raw when it does not decode), holds lower, case-insensitively.
func fieldsContain(fields gomessage.HeaderFields, lower string) bool {
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		if strings.Contains(strings.ToLower(v), lower) {
			return true
		}
	}
	return false
}

// maxSearchDepth bounds MIME nesting walked by BODY/TEXT search.
const maxSearchDepth = 16

// searchesText reports whether cr (or a criterion under NOT or OR) is a
// TEXT or BODY search, which reads bodies.
func searchesText(cr *wire.SearchCriteria) bool {
	if len(cr.Text) > 0 || len(cr.Body) > 0 {
		return true
	}
	for i := range cr.Not {
		if searchesText(&cr.Not[i]) {
			return true
		}
	}
	for i := range cr.Or {
		if searchesText(&cr.Or[i][0]) || searchesText(&cr.Or[i][1]) {
			return true
		}
	}
	return false
}

// textCannotMatch is a quick test that spares most messages the MIME parse
// of matchEntity: an ASCII pattern that is not in the raw message, in any
// ASCII letter case, is not in its decoded text either, unless
//   - for TEXT, a header is folded (its value, unfolded, joins two lines);
//   - some part is transfer-encoded (base64, quoted-printable, where a soft
//     line break can split a word), a header has RFC 2047 encoded words
//     ("=?", searched by TEXT), or a charset is one where ASCII text is not
//     ASCII bytes (UTF-16/32, UTF-7) — all named in a header block, the
//     message's own or, in a multipart message, its parts';
//   - the message holds one of the two non-ASCII letters whose lower case
//     is ASCII (U+212A KELVIN SIGN is "k", U+0130 is "i" and a dot), which
//     matchEntity's Unicode lower-casing would turn into the pattern.
//
// Each is spotted in the raw bytes, which may send a message the slow way
// needlessly but never wrongly rules one out (FuzzTextCannotMatch).
func (c *candidate) textCannotMatch(pattern string, includeHeader bool) bool {
	if pattern == "" {
		return false // matches everything
	}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] >= utf8.RuneSelf {
			return false
		}
	}
	if c.rawDiffers == 0 {
		c.rawDiffers = rawTextDiffers(c.body)
	}
	if c.rawDiffers&rawDecodes != 0 || (includeHeader && c.rawDiffers&rawFolded != 0) {
		return false
	}
	return !containsFoldASCII(c.body, strings.ToLower(pattern))
}

// What rawTextDiffers finds, as bits.
const (
	rawChecked = 1 << iota // computed
	rawDecodes             // decoding may produce ASCII text the bytes lack
	rawFolded              // a header is folded: its unfolded value joins lines
)

// rawTextDiffers says how body's decoded text may hold ASCII text its raw
// bytes do not (see textCannotMatch).
func rawTextDiffers(body []byte) uint8 {
	found := uint8(rawChecked)
	if bytes.Contains(body, []byte("\u212a")) || bytes.Contains(body, []byte("\u0130")) {
		found |= rawDecodes
	}
	head := body
	if end := bytes.Index(body, []byte("\n\r\n")); end >= 0 {
		head = body[:end]
	} else if end := bytes.Index(body, []byte("\n\n")); end >= 0 {
		head = body[:end]
	}
	head = bytes.ToLower(head)
	if bytes.Contains(head, []byte("multipart")) {
		head = bytes.ToLower(body) // the parts' headers are in the body
	}
	for _, marker := range []string{"base64", "quoted-printable", "=?", "utf-16", "utf16", "utf-32", "utf32",
		"utf-7", "utf7", "ucs-2", "ucs2", "ucs-4", "ucs4"} {
		if bytes.Contains(head, []byte(marker)) {
			found |= rawDecodes
		}
	}
	// RFC 5322 §2.2.3: unfolding removes the line break before a line
	// that starts with white space.
	if bytes.Contains(head, []byte("\n ")) || bytes.Contains(head, []byte("\n\t")) {
		found |= rawFolded
	}
	return found
}

// containsFoldASCII reports whether s holds pattern (lower-case ASCII,
// not empty) with its ASCII letters in any case, without lowering a copy
// of s.
func containsFoldASCII(s []byte, pattern string) bool {
	first := pattern[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper = first - ('a' - 'A')
	}
	for len(s) >= len(pattern) {
		i := bytes.IndexByte(s[:len(s)-len(pattern)+1], first)
		if upper != first {
			if j := bytes.IndexByte(s[:len(s)-len(pattern)+1], upper); j >= 0 && (i < 0 || j < i) {
				i = j
			}
		}
		if i < 0 {
			return false
		}
		if equalFoldASCII(s[i:i+len(pattern)], pattern) {
			return true
		}
		s = s[i+1:]
	}
	return false
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := range len(lower) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// matchEntity searches the decoded text parts (and, for TEXT, the
// headers) of a message for pattern, case-insensitively.
func matchEntity(body []byte, pattern string, includeHeader bool) bool {
	if pattern == "" {
		return true
	}
	e, err := gomessage.Read(bytes.NewReader(body))
	if e == nil {
		// Unparseable: fall back to the raw bytes.
		_ = err
		return bytes.Contains(bytes.ToLower(body), bytes.ToLower([]byte(pattern)))
	}
	return matchPart(e, strings.ToLower(pattern), includeHeader, 0)
}

func matchPart(e *gomessage.Entity, pattern string, includeHeader bool, depth int) bool {
	if includeHeader && fieldsContain(e.Header.Fields(), pattern) {
		return true
	}
	if mr := e.MultipartReader(); mr != nil {
		if depth >= maxSearchDepth {
			return false
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				return false
			}
			if matchPart(part, pattern, includeHeader, depth+1) {
				return true
			}
		}
	}
	t, _, _ := e.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") && !strings.HasPrefix(t, "message/") {
		return false
	}
	buf, err := io.ReadAll(io.LimitReader(e.Body, 64<<20))
	if err != nil && len(buf) == 0 {
		return false
	}
	return bytes.Contains(bytes.ToLower(buf), []byte(pattern))
}
