package imap

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	evlog "github.com/surat-mail/surat/log"
)

// Fetch answers FETCH and UID FETCH (RFC 9051 §6.4.5) from the projection:
// flags, sizes and dates from the message record, ENVELOPE, BODYSTRUCTURE
// and sections parsed from the stored body with go-message (go-imap's
// Extract* helpers). A whole-body BODY[] is streamed chunk by chunk. A
// non-PEEK body fetch sets \Seen through one FlagsChanged event first, and
// the response then carries the new FLAGS (§6.4.5).
func (s *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	sel := s.sel
	pairs := sel.resolve(numSet)
	if len(pairs) == 0 {
		return nil
	}
	seenSet := map[uint32]bool{}
	if !sel.readOnly && marksSeen(options) {
		var unseen []uint32
		cur, _ := sel.state.current()
		for _, p := range pairs {
			if j := cur.index(p.uid); j < 0 || !slices.Contains(cur.msgs[j].flags, `\Seen`) {
				unseen = append(unseen, p.uid)
			}
		}
		if len(unseen) > 0 {
			out, err := s.srv.propose(ev(&evlog.Event_FlagsChanged{FlagsChanged: &evlog.FlagsChanged{
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
	for _, p := range pairs {
		m, err := s.srv.cfg.Store.Message(sel.state.id, p.uid)
		if err != nil {
			// Expunged by another session and not yet reported: RFC 2180
			// §4.1.2 lets the server omit it.
			continue
		}
		if err := s.fetchOne(w, p, m, options, seenSet[p.uid]); err != nil {
			return err
		}
	}
	return nil
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

// fetchOne writes one FETCH response. The response writer holds go-imap's
// encoder lock until Close, so Close is always called.
func (s *session) fetchOne(w *imapserver.FetchWriter, p seqUID, m *evlog.MessageRecord, options *imap.FetchOptions, seenChanged bool) (err error) {
	var body []byte
	needBody := options.Envelope || options.BodyStructure != nil || len(options.BinarySection) > 0 ||
		len(options.BinarySectionSize) > 0 || slices.ContainsFunc(options.BodySection, func(bs *imap.FetchItemBodySection) bool { return !wholeBody(bs) })
	if needBody {
		if body, err = s.srv.cfg.Store.Blob(m.GetBlob()); err != nil {
			s.log.Warn("imap fetch: body unreadable", "mailbox", s.sel.name, "uid", p.uid, "err", err)
			return replyFor(err)
		}
	}
	rw := w.CreateMessage(p.seq)
	closed := false
	defer func() {
		if !closed {
			if cerr := rw.Close(); err == nil {
				err = cerr
			}
		}
	}()
	if options.UID {
		rw.WriteUID(imap.UID(p.uid))
	}
	if options.Flags || seenChanged {
		rw.WriteFlags(imapFlags(m.GetFlags()))
	}
	if options.InternalDate {
		rw.WriteInternalDate(internalDate(m))
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(int64(m.GetSize()))
	}
	if options.Envelope {
		if h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(body))); err == nil {
			rw.WriteEnvelope(imapserver.ExtractEnvelope(h))
		} else {
			rw.WriteEnvelope(&imap.Envelope{})
		}
	}
	if options.BodyStructure != nil {
		rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(body)))
	}
	for _, bs := range options.BodySection {
		if wholeBody(bs) {
			if err := s.streamBody(rw, bs, m); err != nil {
				return err
			}
			continue
		}
		buf := imapserver.ExtractBodySection(bytes.NewReader(body), bs)
		if err := writeLiteral(rw.WriteBodySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bs := range options.BinarySection {
		buf := imapserver.ExtractBinarySection(bytes.NewReader(body), bs)
		if err := writeLiteral(rw.WriteBinarySection(bs, int64(len(buf))), buf); err != nil {
			return err
		}
	}
	for _, bss := range options.BinarySectionSize {
		rw.WriteBinarySectionSize(bss, imapserver.ExtractBinarySectionSize(bytes.NewReader(body), bss))
	}
	closed = true
	return rw.Close()
}

// wholeBody is BODY[] or BODY[]<partial>: served from the store's chunks
// without parsing or holding the whole body.
func wholeBody(bs *imap.FetchItemBodySection) bool {
	return len(bs.Part) == 0 && bs.Specifier == imap.PartSpecifierNone &&
		len(bs.HeaderFields) == 0 && len(bs.HeaderFieldsNot) == 0
}

func (s *session) streamBody(rw *imapserver.FetchResponseWriter, bs *imap.FetchItemBodySection, m *evlog.MessageRecord) error {
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
