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
	if err := d.SP(); err != nil {
		return err
	}
	name, err := d.Mailbox()
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	var opts imap.AppendOptions
	if b, err := d.Peek(); err != nil {
		return err
	} else if b == '(' {
		if opts.Flags, err = d.FlagList(); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
	}
	if b, err := d.Peek(); err != nil {
		return err
	} else if b == '"' {
		if opts.Time, err = d.DateTime(); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
	}
	lit, err := d.LiteralHeader()
	if err != nil {
		return err
	}
	mb, err := s.appendTarget(name, lit.Size)
	if err != nil {
		return err
	}
	r, err := d.AcceptLiteral()
	if err != nil {
		return err
	}
	s.setReadDeadline(literalRead)
	body := make([]byte, lit.Size)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	s.setReadDeadline(commandRead)
	if err := d.End(); err != nil {
		return err
	}
	data, err := s.Append(mb, body, &opts)
	if err != nil {
		return err
	}
	if data != nil {
		c.code = "APPENDUID " + utoa(data.UIDValidity) + " " + utoa(uint32(data.UID))
	}
	return nil
}
