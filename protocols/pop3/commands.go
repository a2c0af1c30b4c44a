package pop3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// stat is STAT (RFC 1939 §5): messages not marked deleted and their size.
func (s *session) stat(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand(errSyntax)
	}
	s.reply("+OK " + itoa(uint64(s.md.count)) + " " + itoa(s.md.size))
	return true
}

// list is LIST (RFC 1939 §5) and UIDL (§7): one message, or a multi-line
// listing of every message not marked deleted.
func (s *session) list(cmd command, uidl bool) bool {
	md := s.md
	line := func(b []byte, n int, e *entry) []byte {
		b = appendUint(b, uint64(n))
		b = append(b, ' ')
		if uidl {
			return md.appendUIDL(b, e)
		}
		return appendUint(b, e.size)
	}
	switch len(cmd.args) {
	case 0:
	case 1:
		n, ok := parseNumber(cmd.args[0])
		if !ok {
			return s.badCommand(errSyntax)
		}
		e, errReply := md.get(n, false)
		if e == nil {
			s.reply(errReply)
			return true
		}
		s.w.WriteString("+OK ")
		s.w.Write(line(make([]byte, 0, 32), int(n), e))
		s.w.WriteString("\r\n")
		return true
	default:
		return s.badCommand(errSyntax)
	}
	if uidl {
		s.reply("+OK Unique-ID listing follows")
	} else {
		s.reply("+OK " + itoa(uint64(md.count)) + " messages (" + itoa(md.size) + " octets)")
	}
	b := make([]byte, 0, 64)
	for i := range md.msgs {
		e := &md.msgs[i]
		if e.deleted {
			continue
		}
		b = append(line(b[:0], i+1, e), '\r', '\n')
		s.w.Write(b)
	}
	s.reply(".")
	return true
}

// message parses a message-number argument; the reply is set when it
// names no message the command may use.
func (s *session) message(arg string) (*entry, uint64, string) {
	n, ok := parseNumber(arg)
	if !ok {
		return nil, 0, errNoSuchMessage
	}
	e, errReply := s.md.get(n, false)
	return e, n, errReply
}

// retr is RETR (RFC 1939 §5): the whole message, byte-stuffed; it marks
// the message \Seen (doc.go) unless Config.KeepUnseen.
func (s *session) retr(cmd command) bool {
	if len(cmd.args) != 1 {
		return s.badCommand(errSyntax)
	}
	e, _, errReply := s.message(cmd.args[0])
	if e == nil {
		s.reply(errReply)
		return true
	}
	ok, keep := s.send(e, "+OK "+itoa(e.size)+" octets", nil)
	if ok && !s.cfg.KeepUnseen {
		s.md.markSeen(e, s.cfg.Now())
	}
	return keep
}

// top is TOP (RFC 1939 §7): the header, the blank line and the first n
// lines of the body. It does not set \Seen.
func (s *session) top(cmd command) bool {
	if len(cmd.args) != 2 {
		return s.badCommand(errSyntax)
	}
	lines, ok := parseNumber(cmd.args[1])
	if !ok {
		return s.badCommand(errSyntax)
	}
	e, _, errReply := s.message(cmd.args[0])
	if e == nil {
		s.reply(errReply)
		return true
	}
	_, keep := s.send(e, "+OK Top of message follows", &lines)
	return keep
}

// send streams a message's body from the store. The message is checked to
// still exist (another session, on any node, may have expunged it) and the
// first chunk is read before +OK, so a missing message gets -ERR. A body
// that fails after +OK ends the connection: a truncated message must never
// look complete. ok: the message was sent; keep: the session goes on.
func (s *session) send(e *entry, okLine string, topLines *uint64) (ok, keep bool) {
	st := s.cfg.Store
	if _, err := st.Message(s.md.mailboxID, e.uid); err != nil {
		return false, s.readFailed(e, err)
	}
	rc, err := st.BlobReader(e.blob)
	if err != nil {
		return false, s.readFailed(e, err)
	}
	defer rc.Close()
	if s.buf == nil {
		s.buf = make([]byte, copyBufferSize)
	}
	n, rerr := readSome(rc, s.buf)
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return false, s.readFailed(e, rerr)
	}
	s.reply(okLine)
	dw := newDotWriter(s.w)
	var out io.Writer = dw
	var tf *topFilter
	if topLines != nil {
		tf = newTopFilter(dw, *topLines)
		out = tf
	}
	for {
		if n > 0 {
			if _, err := out.Write(s.buf[:n]); err != nil {
				return false, false // the client is gone
			}
		}
		if rerr != nil || (tf != nil && tf.done) {
			break
		}
		n, rerr = readSome(rc, s.buf)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			s.log.Warn("pop3 body read failed mid-message; closing", "uid", e.uid, "err", rerr)
			return false, false
		}
	}
	if err := dw.finish(); err != nil {
		return false, false
	}
	return true, true
}

// readSome reads until it gets bytes or an error (io.Reader may return
// 0, nil).
func readSome(r io.Reader, buf []byte) (int, error) {
	for range 100 {
		n, err := r.Read(buf)
		if n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// readFailed answers a message that could not be read.
func (s *session) readFailed(e *entry, err error) bool {
	if s.cfg.IsNotFound(err) {
		s.log.Info("pop3 message gone", "uid", e.uid)
		s.reply(errGone)
		return true
	}
	s.log.Warn("pop3 message read failed", "uid", e.uid, "err", err)
	s.reply(errTemporary)
	return true
}

// dele is DELE (RFC 1939 §5): a mark, applied only at QUIT.
func (s *session) dele(cmd command) bool {
	if len(cmd.args) != 1 {
		return s.badCommand(errSyntax)
	}
	e, n, errReply := s.message(cmd.args[0])
	if e == nil {
		s.reply(errReply)
		return true
	}
	s.md.markDeleted(e)
	s.reply("+OK Message " + itoa(n) + " deleted")
	return true
}

// rset is RSET (RFC 1939 §5): unmark every deleted message.
func (s *session) rset(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand(errSyntax)
	}
	s.md.reset()
	s.reply("+OK Maildrop has " + itoa(uint64(s.md.count)) + " messages (" + itoa(s.md.size) + " octets)")
	return true
}

// update is QUIT in TRANSACTION: the UPDATE state (RFC 1939 §6). The
// \Seen changes and the deletions are proposed as one batch; +OK only once
// it is committed and applied here (docs/DESIGN.md invariant 1).
func (s *session) update(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand(errSyntax)
	}
	s.quit = true
	md := s.md
	deleted := len(md.msgs) - md.count
	deletedUIDs := md.deleted()
	batches := md.updateBatches()
	// RFC 1939 §6: QUIT alone enters UPDATE, so a client that sends QUIT
	// and leaves at once has still asked for the deletions; they are
	// committed, as Dovecot completes the expunge of a client that left.
	// So this wait is bounded by the server's context, not the session's
	// (which a departed client or the start of Shutdown ends): only Close,
	// Shutdown past its deadline, or ProposeTimeout cut it, and then the
	// client got no +OK and does not believe the messages deleted.
	ctx, cancel := context.WithTimeout(s.srv.fe.Context(), s.cfg.ProposeTimeout)
	defer cancel()
	for i, b := range batches {
		if _, err := propose.Submit(ctx, s.cfg.Proposer, b...); err != nil {
			if i > 0 {
				err = fmt.Errorf("%w: %w", errPartialCommit, err)
			}
			s.log.Warn("pop3 update failed", "err", err, "deleted", deleted, "batch", i, "batches", len(batches))
			s.reply(quitReplyFor(err))
			return false
		}
	}
	md.pendingSeen = nil
	if deleted > 0 {
		s.log.Info("pop3 update", "deleted", deleted, evlog.UIDAttr(deletedUIDs))
	}
	s.reply("+OK Bye (" + itoa(uint64(deleted)) + " messages deleted, " + itoa(uint64(md.count)) + " left)")
	return false
}

func appendUint(b []byte, n uint64) []byte { return strconv.AppendUint(b, n, 10) }
