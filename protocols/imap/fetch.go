package imap

import (
	"errors"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

// Fetch answers FETCH and UID FETCH (RFC 9051 §6.4.5) from the projection:
// flags, sizes and dates from the message records of the mailbox's
// current snapshot, ENVELOPE, BODYSTRUCTURE and sections computed from the
// stored body by package imapmsg. ENVELOPE and
// header-only sections read only the header block, through the node's
// header cache (headercache.go). A whole-body BODY[] is streamed chunk by chunk. A
// non-PEEK body fetch sets \Seen through one FlagsChanged event first, and
// the response then carries the new FLAGS (§6.4.5).
func (s *session) Fetch(w *fetchWriter, numSet imap.NumSet, options *imap.FetchOptions) (err error) {
	sel := s.sel
	pairs := sel.resolve(numSet)
	if len(pairs) == 0 {
		return nil
	}
	if lc := connOf(s.conn); lc != nil && len(pairs) > 1 {
		lc.holdWrites()
		defer func() {
			if werr := lc.releaseWrites(); err == nil {
				err = werr
			}
		}()
	}
	seenSet := map[uint32]bool{}
	if !sel.readOnly && sel.rights.Has(acl.Seen) && marksSeen(options) { // RFC 4314 §4
		var unseen []uint32
		cur, _ := sel.state.current()
		for _, p := range pairs {
			if j := cur.index(p.uid); j < 0 || !slices.Contains(cur.msgs[j].flags, `\Seen`) {
				unseen = append(unseen, p.uid)
			}
		}
		if len(unseen) > 0 {
			out, err := s.propose(ev(&evlog.Event_FlagsChanged{FlagsChanged: &evlog.FlagsChanged{
				MailboxId: sel.state.id, Uids: uidRanges(unseen), Op: evlog.FlagOp_FLAG_OP_ADD, Flags: []string{`\Seen`},
			}}))
			if err != nil {
				return replyFor(err)
			}
			if res := out.GetResults(); len(res) > 0 {
				sel.suppress = map[uint32]uint64{}
				for _, uid := range expandRanges(res[0].GetUids()) {
					seenSet[uid] = true
					sel.suppress[uid] = res[0].GetModseq()
				}
			}
			s.refreshSelected(sel.state.id)
		}
	}
	// Flags, sizes, dates and body hashes come from the mailbox's current
	// snapshot, brought up to the store's state first (one record read),
	// instead of one record read per message.
	cur, err := sel.state.refresh(false)
	if err != nil || cur == nil || cur.gone {
		cur = nil
	}
	if options.ChangedSince > 0 {
		// RFC 7162 §3.1.4.1, by the messages' current modseqs.
		if cur != nil {
			pairs = changedSince(cur, pairs, options.ChangedSince)
		} else {
			pairs = changedSince(sel.view, pairs, options.ChangedSince)
		}
	}
	// Headers for ENVELOPE and header sections are read ahead into the
	// node's cache a batch at a time, each batch under one store view.
	prefetch := cur != nil && options.BodyStructure == nil && len(options.BinarySection) == 0 &&
		len(options.BinarySectionSize) == 0 && (options.Envelope || slices.ContainsFunc(options.BodySection, headerOnly)) &&
		!slices.ContainsFunc(options.BodySection, func(bs *imap.FetchItemBodySection) bool { return !wholeBody(bs) && !headerOnly(bs) })
	readBodies := cur != nil && (needsBody(options) || w.ext.needsBody())
	var bodies map[string][]byte
	for k, p := range pairs {
		if readBodies && k%bodyBatch == 0 {
			batch := make([]uint32, 0, bodyBatch)
			for _, q := range pairs[k:min(k+bodyBatch, len(pairs))] {
				batch = append(batch, q.uid)
			}
			bodies = s.srv.readBodies(cur, batch)
		}
		if prefetch && k%prefetchBatch == 0 {
			var hashes [][]byte
			for _, q := range pairs[k:min(k+prefetchBatch, len(pairs))] {
				if j := cur.index(q.uid); j >= 0 {
					hashes = append(hashes, cur.msgs[j].rec.GetBlob())
				}
			}
			s.srv.prefetchHeaders(hashes)
		}
		var m *evlog.MessageRecord
		if cur != nil {
			if j := cur.index(p.uid); j >= 0 {
				m = cur.msgs[j].rec
			}
		}
		if m == nil {
			// Not in the snapshot (or no snapshot): read the record.
			if m, err = s.srv.cfg.Store.Message(sel.state.id, p.uid); err != nil {
				// Expunged by another session and not yet reported: RFC
				// 2180 §4.1.2 lets the server omit it.
				continue
			}
		}
		if err := s.fetchOne(w, p, m, options, seenSet[p.uid], bodies[string(m.GetBlob())]); err != nil {
			if errors.Is(err, errExpunged) {
				continue
			}
			return err
		}
	}
	return nil
}

// prefetchBatch is how many messages' headers FETCH reads ahead under one
// store view.
const prefetchBatch = 256

// Bodies FETCH reads ahead: up to bodyBatch messages at a time, each at
// most maxBatchedBody, up to bodyBatchBytes in all; larger bodies are
// streamed chunk by chunk as before.
const (
	bodyBatch      = 128
	maxBatchedBody = 1 << 20
	bodyBatchBytes = 8 << 20
)

// needsBody reports whether a FETCH with options reads message bodies
// beyond their header blocks.
func needsBody(options *imap.FetchOptions) bool {
	return options.BodyStructure != nil || len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0 ||
		slices.ContainsFunc(options.BodySection, func(bs *imap.FetchItemBodySection) bool { return !headerOnly(bs) })
}

// readBodies reads the bodies of the messages uids, those small enough,
// under one store iterator, keyed by blob hash. A body it cannot read is
// left out: fetchOne then reads it alone and answers its error.
func (srv *Server) readBodies(cur *snapshot, uids []uint32) map[string][]byte {
	var hashes [][]byte
	total := 0
	for _, uid := range uids {
		j := cur.index(uid)
		if j < 0 {
			continue
		}
		rec := cur.msgs[j].rec
		size := int(rec.GetSize())
		if size > maxBatchedBody || total+size > bodyBatchBytes {
			continue
		}
		total += size
		hashes = append(hashes, rec.GetBlob())
	}
	out := make(map[string][]byte, len(hashes))
	err := srv.cfg.Store.Bodies(hashes, func(i int, body []byte, err error) {
		if err == nil {
			out[string(hashes[i])] = body
		}
	})
	if err != nil {
		srv.log.Warn("imap fetch: reading bodies ahead failed", "err", err)
	}
	return out
}

// errExpunged is fetchOne's answer when the message's body is gone
// because the message was expunged since the snapshot was read: the
// message is omitted (RFC 2180 §4.1.2), as when its record is gone.
var errExpunged = errors.New("imap: message expunged during fetch")

// headerOnly is a section served from the header block alone: BODY[HEADER],
// BODY[HEADER.FIELDS (...)], BODY[HEADER.FIELDS.NOT (...)] and
// RFC822.HEADER, on the message itself (not a part).
func headerOnly(bs *imap.FetchItemBodySection) bool {
	return len(bs.Part) == 0 && bs.Specifier == imap.PartSpecifierHeader
}

func marksSeen(options *imap.FetchOptions) bool {
	for _, bs := range options.BodySection {
		if !bs.Peek {
			return true
		}
	}
	for _, bs := range options.BinarySection {
		if !bs.Peek {
			return true
		}
	}
	return false
}

// fetchOne writes one FETCH response. Every section is computed before
// the response starts (imapmsg), so that a part that cannot be decoded
// (BINARY of an unknown transfer encoding) fails the command with NO
// [UNKNOWN-CTE] (RFC 3516 §4.3) instead of leaving a response half-sent.
// A whole BODY[] too large to have been read ahead is streamed last-minute
// from the store's chunks.
func (s *session) fetchOne(w *fetchWriter, p seqUID, m *evlog.MessageRecord, options *imap.FetchOptions, seenChanged bool, readAhead []byte) (err error) {
	body := readAhead
	var hdr *headerEntry
	needBody := options.BodyStructure != nil || len(options.BinarySection) > 0 ||
		len(options.BinarySectionSize) > 0 || slices.ContainsFunc(options.BodySection, func(bs *imap.FetchItemBodySection) bool {
		return !wholeBody(bs) && !headerOnly(bs)
	}) || w.ext.needsBody()
	needHeader := !needBody && (options.Envelope || slices.ContainsFunc(options.BodySection, headerOnly))
	if needHeader && body == nil {
		// From the node's header cache, or the body read only up to the
		// end of its header.
		if hdr, err = s.srv.header(m.GetBlob()); err != nil {
			return s.bodyUnreadable(p, err)
		}
		needBody = hdr == nil
	}
	if needBody && body == nil {
		if body, err = s.srv.cfg.Store.Blob(m.GetBlob()); err != nil {
			return s.bodyUnreadable(p, err)
		}
	}
	// The bytes header-only sections and ENVELOPE are read from: the
	// header block, or the whole body (parsing stops at the same blank
	// line either way).
	head := body
	if hdr != nil {
		head = hdr.header
	}
	var msg *imapmsg.Message // parsed once, if a section needs it
	parsed := func() *imapmsg.Message {
		if msg == nil {
			msg = imapmsg.Parse(body)
		}
		return msg
	}
	sections := make([][]byte, len(options.BodySection))
	for i, bs := range options.BodySection {
		switch {
		case wholeBody(bs) && body == nil:
			// Streamed below.
		case wholeBody(bs):
			sections[i] = imapmsg.PartialOf(body, bs.Partial)
		case headerOnly(bs):
			sections[i] = imapmsg.HeaderSection(head, bs)
		default:
			sections[i], _ = parsed().BodySection(bs)
		}
	}
	binaries := make([][]byte, len(options.BinarySection))
	for i, bs := range options.BinarySection {
		if binaries[i], err = parsed().BinarySection(bs); err != nil {
			return errUnknownCTE
		}
	}
	binarySizes := make([]int64, len(options.BinarySectionSize))
	for i, bs := range options.BinarySectionSize {
		if binarySizes[i], err = parsed().BinarySize(bs.Part); err != nil {
			return errUnknownCTE
		}
	}

	rw := w.CreateMessage(p.seq)
	// RFC 7162 §3.1: with CONDSTORE, a FETCH that set \Seen carries UID
	// and MODSEQ too.
	condSeen := seenChanged && s.cond.condstore
	if options.UID || condSeen {
		rw.WriteUID(imap.UID(p.uid))
	}
	if options.Flags || seenChanged {
		fl, hidden := s.sel.visibleFlags(m.GetFlags())
		if hidden { // a new keyword: the poll announces it, then the flags (keywords.go)
			s.sel.reportAgain(p.uid)
		}
		rw.WriteFlags(s.sel.withRecent(p.uid, fl))
	}
	if options.ModSeq || condSeen {
		rw.WriteModSeq(m.GetModseq())
	}
	if options.InternalDate {
		rw.WriteInternalDate(internalDate(m))
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(int64(m.GetSize()))
	}
	w.ext.write(rw, m, parsed) // PREVIEW, EMAILID, THREADID, SAVEDATE (fetchx.go)
	if options.Envelope {
		if hdr != nil {
			rw.WriteEnvelope(hdr.envelope())
		} else {
			rw.WriteEnvelope(imapmsg.ParseEnvelope(head))
		}
	}
	if options.BodyStructure != nil {
		rw.WriteBodyStructure(&parsed().Root, options.BodyStructure.Extended)
	}
	for i, bs := range options.BodySection {
		if wholeBody(bs) && body == nil {
			if err := s.streamBody(rw, bs, m); err != nil {
				return err
			}
			continue
		}
		if err := writeLiteral(rw.WriteBodySection(bs, int64(len(sections[i]))), sections[i]); err != nil {
			return err
		}
	}
	for i, bs := range options.BinarySection {
		if err := writeLiteral(rw.WriteBinarySection(bs, binaries[i]), binaries[i]); err != nil {
			return err
		}
	}
	for i, bss := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(bss, uint32(min(binarySizes[i], 1<<32-1)))
	}
	return rw.Close()
}

// errUnknownCTE answers BINARY of a part whose transfer encoding is not
// known (RFC 3516 §4.3).
var errUnknownCTE = no("UNKNOWN-CTE", "Unknown content transfer encoding")

// wholeBody is BODY[] or BODY[]<partial>: served from the store's chunks
// without parsing or holding the whole body.
// bodyUnreadable answers a body that cannot be read: errExpunged when the
// message is gone (the caller omits it), else a NO.
func (s *session) bodyUnreadable(p seqUID, err error) error {
	if errors.Is(err, mailbox.ErrNotFound) {
		if _, merr := s.srv.cfg.Store.Message(s.sel.state.id, p.uid); errors.Is(merr, mailbox.ErrNotFound) {
			return errExpunged
		}
	}
	s.log.Warn("imap fetch: body unreadable", "mailbox", s.sel.name, "uid", p.uid, "err", err)
	return replyFor(err)
}

func wholeBody(bs *imap.FetchItemBodySection) bool {
	return len(bs.Part) == 0 && bs.Specifier == imap.PartSpecifierNone &&
		len(bs.HeaderFields) == 0 && len(bs.HeaderFieldsNot) == 0
}

func (s *session) streamBody(rw *fetchResponse, bs *imap.FetchItemBodySection, m *evlog.MessageRecord) error {
	size := int64(m.GetSize())
	offset, length := int64(0), size
	if bs.Partial != nil {
		// RFC 9051 §6.4.5: <offset.length>, truncated to what exists.
		offset = min(bs.Partial.Offset, size)
		length = min(bs.Partial.Size, size-offset)
	}
	r, err := s.srv.cfg.Store.BlobReader(m.GetBlob())
	if err != nil {
		s.log.Warn("imap fetch: body unreadable", "mailbox", s.sel.name, "err", err)
		return replyFor(err)
	}
	defer r.Close()
	if offset > 0 {
		if _, err := io.CopyN(io.Discard, r, offset); err != nil {
			return replyFor(err)
		}
	}
	wc := rw.WriteBodySection(bs, length)
	n, err := io.Copy(wc, io.LimitReader(r, length))
	if err == nil && n < length {
		// The literal's size is on the wire already: pad rather than
		// desynchronise the stream (the body was collected mid-read).
		_, err = wc.Write(make([]byte, length-n))
	}
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeLiteral(wc io.WriteCloser, buf []byte) error {
	_, err := wc.Write(buf)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}

// internalDate is the message's INTERNALDATE in its recorded zone.
func internalDate(m *evlog.MessageRecord) time.Time {
	return time.Unix(m.GetInternalDateUnix(), 0).In(time.FixedZone("", int(m.GetInternalDateOffset())))
}
