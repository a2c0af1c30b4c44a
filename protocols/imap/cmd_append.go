package imap

import (
	"io"

	"github.com/emersion/go-imap/v2"
)

// cmdAppend: APPEND mailbox [flags] [date-time] literal (RFC 9051
// §6.3.12). The message literal is refused before its continuation
// request when it cannot be stored (appendTarget), so the client never
// sends it; a non-synchronising one is then read and dropped.
func cmdAppend(s *session, c *command) error {
	d := c.dec
	name, err := d.ReadAppendMailbox()
	if err != nil {
		return err
	}
	m, err := d.NextAppendMessage()
	if err != nil {
		return err
	}
	if m == nil || m.Catenate || m.UTF8 {
		return bad("APPEND form not supported") // MULTIAPPEND, CATENATE: not yet
	}
	mb, err := s.appendTarget(name, m.Literal.Size)
	if err != nil {
		return err
	}
	r, err := d.AcceptLiteral()
	if err != nil {
		return err
	}
	s.setReadDeadline(literalRead)
	body := make([]byte, m.Literal.Size)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	s.setReadDeadline(commandRead)
	if next, err := d.NextAppendMessage(); err != nil {
		return err
	} else if next != nil {
		return bad("APPEND of several messages not supported") // MULTIAPPEND: not yet
	}
	data, err := s.Append(mb, body, &imap.AppendOptions{Flags: m.Flags, Time: m.Time})
	if err != nil {
		return err
	}
	if data != nil {
		c.code = "APPENDUID " + utoa(data.UIDValidity) + " " + utoa(uint32(data.UID))
	}
	return nil
}
