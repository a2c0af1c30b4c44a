package imap

import (
	"io"
	"time"

	"github.com/emersion/go-imap/v2"
	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/imapmsg"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// cmdAppend: APPEND mailbox [flags] [date-time] literal (RFC 9051
// §6.3.12), with MULTIAPPEND's further messages (RFC 3502) and literal8
// data (RFC 3516 §4.4). Each message literal is refused before its
// continuation request when it cannot be stored (appendTarget), so the
// client never sends it; a non-synchronising one is then read and
// dropped. A CATENATE message (RFC 4469) is assembled first
// (catenate.go). One message is stored by Append; several are all filed in one
// proposal or none is (RFC 3502 §6.3.11: "all or none"), see
// multiAppend.
func cmdAppend(s *session, c *command) error {
	d := c.dec
	name, err := d.ReadAppendMailbox()
	if err != nil {
		return err
	}
	ma := &multiAppend{s: s}
	defer ma.release()
	for {
		m, err := d.NextAppendMessage()
		if err != nil {
			return err
		}
		if m == nil {
			break
		}
		if m.UTF8 && !s.utf8 {
			return bad("APPEND UTF8 needs ENABLE UTF8=ACCEPT") // RFC 6855 §4
		}
		if err := ma.add(name, m); err != nil {
			return err
		}
	}
	return ma.commit(c)
}

// maxMultiAppend bounds the messages of one APPEND, and
// maxAppendEventBytes the size of their Appended events together: they
// are filed in one proposal, and a proposal is bounded (DESIGN.md
// invariant 4).
const (
	maxMultiAppend      = 1000
	maxAppendEventBytes = 512 << 10
)

// multiAppendPin is how long the chunks of a MULTIAPPEND's first messages
// are kept from the blob collector while the rest of the command is read:
// a command that takes longer may fail (NO), and stores nothing then.
const multiAppendPin = 30 * time.Minute

// multiAppend collects the messages of one APPEND. Each message's body is
// read whole (as a single APPEND's is); once the next one comes, the
// previous one's chunks are proposed as BlobStored (pinned against the
// blob collector), so that at most two bodies are held at a time. The
// Appended events are then proposed together, with the last message's
// last chunk: the messages are filed all at once, or, on any refusal,
// none is (chunks stored for nothing are collected later).
type multiAppend struct {
	s       *session
	mb      *evlog.MailboxRecord
	events  []*evlog.Event
	bytes   int   // of events
	total   int64 // octets appended so far
	pending *appendBody
	pinned  int64 // the pin of the chunks proposed so far
	learn   [][]byte
}

// appendBody is a message read but whose chunks are not proposed yet.
type appendBody struct {
	body []byte
	opts imap.AppendOptions
}

func (ma *multiAppend) release() { ma.pending, ma.learn = nil, nil }

// add reads one message of the APPEND.
func (ma *multiAppend) add(name string, m *wire.AppendMessage) error {
	s := ma.s
	if ma.pending != nil {
		if len(ma.events)+1 >= maxMultiAppend {
			return no(imap.ResponseCodeLimit, "Too many messages in one APPEND")
		}
		if err := ma.stage(); err != nil {
			return err
		}
	}
	// check refuses a message of size octets before its data is sent.
	check := func(size int64) error {
		if ma.mb != nil {
			return s.appendMore(ma.mb, len(ma.events), ma.total, size)
		}
		mb, err := s.appendTarget(name, size)
		ma.mb = mb
		return err
	}
	var body []byte
	binary := m.Literal.Binary
	if m.Catenate {
		var err error
		if body, binary, err = s.readCatenate(check); err != nil {
			return err
		}
	} else {
		if err := check(m.Literal.Size); err != nil {
			return err
		}
		r, err := s.dec.AcceptLiteral()
		if err != nil {
			return err
		}
		s.setReadDeadline(literalRead)
		body = make([]byte, m.Literal.Size)
		if _, err := io.ReadFull(r, body); err != nil {
			return err
		}
		s.setReadDeadline(commandRead)
	}
	size := int64(len(body))
	if binary {
		// RFC 3516 §4.4: binary parts of a literal8 are stored in base64,
		// as Dovecot does, so that BODY[] never holds a NUL; BINARY[]
		// decodes them back.
		body, _ = imapmsg.ConvertBinary(body)
	}
	ma.total += size
	ma.pending = &appendBody{body: body, opts: imap.AppendOptions{Flags: m.Flags, Time: m.Time}}
	return nil
}

// stage proposes the pending message's chunks and keeps its Appended
// event for commit.
func (ma *multiAppend) stage() error {
	s, p := ma.s, ma.pending
	ma.pending = nil
	chunks := evlog.Chunks(p.body)
	// The pin covers the rest of the command (multiAppendPin) and the
	// chunks' proposals.
	until := s.srv.cfg.Now().Add(multiAppendPin + time.Duration(len(chunks))*s.srv.cfg.ProposeTimeout + pinMargin).Unix()
	ma.pinned = max(ma.pinned, until)
	for _, c := range chunks {
		c.PinnedUntilUnix = ma.pinned
		if _, err := s.propose(ev(&evlog.Event_BlobStored{BlobStored: c})); err != nil {
			s.log.Warn("imap append chunk failed", "mailbox", ma.mb.GetName(), "err", err)
			return replyFor(err)
		}
	}
	return ma.file(p, chunks[0])
}

// file adds the Appended event of body p, whose chunk c names the blob.
func (ma *multiAppend) file(p *appendBody, c *evlog.BlobStored) error {
	s := ma.s
	appended, err := s.appendedEvent(ma.mb, c.GetHash(), c.GetSize(), &p.opts)
	if err != nil {
		return err
	}
	e := ev(&evlog.Event_Appended{Appended: appended})
	ma.bytes += proto.Size(e)
	if ma.bytes > maxAppendEventBytes {
		return no(imap.ResponseCodeLimit, "Too many messages in one APPEND")
	}
	ma.events = append(ma.events, e)
	if s.srv.cfg.SpamLearner != nil && ma.mb.GetSpecialUse() != "" {
		ma.learn = append(ma.learn, p.body)
	}
	return nil
}

// commit files the messages read: one by Append, several in one proposal
// with the last one's last chunk (its others first), and answers
// APPENDUID (RFC 4315 §3, with a UID set for several).
func (ma *multiAppend) commit(c *command) error {
	s := ma.s
	p := ma.pending
	if p == nil {
		return bad("APPEND without a message") // the grammar reads one at least
	}
	if len(ma.events) == 0 {
		data, err := s.Append(ma.mb, p.body, &p.opts)
		if err != nil {
			return err
		}
		if data != nil {
			c.code = "APPENDUID " + utoa(data.UIDValidity) + " " + utoa(uint32(data.UID))
		}
		return nil
	}
	chunks := evlog.Chunks(p.body)
	until := s.srv.cfg.Now().Add(time.Duration(len(chunks))*s.srv.cfg.ProposeTimeout + pinMargin).Unix()
	for _, ch := range chunks[:len(chunks)-1] {
		ch.PinnedUntilUnix = until
		if _, err := s.propose(ev(&evlog.Event_BlobStored{BlobStored: ch})); err != nil {
			return replyFor(err)
		}
	}
	last := chunks[len(chunks)-1]
	if err := ma.file(p, last); err != nil {
		return err
	}
	out, err := s.propose(append([]*evlog.Event{ev(&evlog.Event_BlobStored{BlobStored: last})}, ma.events...)...)
	if err != nil {
		s.log.Info("imap append failed", "mailbox", ma.mb.GetName(), "count", len(ma.events), "err", err)
		if replyFor(err) == errNonExistent {
			return errTryCreate
		}
		return replyFor(err)
	}
	s.refreshSelected(ma.mb.GetId())
	var uids imap.UIDSet
	var validity uint32
	for _, r := range out.GetResults()[1:] {
		validity = r.GetUidValidity()
		for _, u := range r.GetUids() {
			uids.AddRange(imap.UID(u.GetFirst()), imap.UID(u.GetLast()))
		}
	}
	s.log.Info("imap append", "mailbox", ma.mb.GetName(), "count", len(ma.events), "size", ma.total)
	if l := s.srv.cfg.SpamLearner; l != nil {
		for _, b := range ma.learn {
			l.Appended(s.ctx, s.user, ma.mb.GetSpecialUse(), b)
		}
	}
	if validity != 0 && len(uids) > 0 {
		c.code = "APPENDUID " + utoa(validity) + " " + uids.String()
	}
	return nil
}
