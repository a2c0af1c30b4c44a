package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// cmdSelect: SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3). A mailbox
// already selected is closed first, with an untagged OK [CLOSED] (RFC 9051
// §7.1, RFC 7162 §3.2.11). On failure the session is left authenticated.
func cmdSelect(s *session, c *command) error {
	sc, err := c.dec.ReadSelect()
	if err != nil {
		return err
	}
	name := sc.Mailbox
	opts := &imap.SelectOptions{ReadOnly: c.name == "EXAMINE"}
	qresync, err := s.selectCondstore(sc) // RFC 7162 (cmd_condstore.go)
	if err != nil {
		return err
	}
	if s.state == stateSelected {
		s.unselect()
		s.state = stateAuthenticated
		s.enc.Status("*", "OK", "CLOSED", "Previous mailbox is now closed")
	}
	data, err := s.Select(name, opts)
	if err != nil {
		return err
	}
	e := s.enc
	e.Untagged().Number(data.NumMessages).SP().Atom("EXISTS").CRLF()
	if !s.rev2 {
		// IMAP4rev1 (RFC 3501 §6.3.1): RECENT, and the first unseen.
		e.Untagged().Number(data.NumRecent).SP().Atom("RECENT").CRLF()
		if data.FirstUnseenSeqNum != 0 {
			e.Status("*", "OK", "UNSEEN "+utoa(data.FirstUnseenSeqNum), "First unseen")
		}
	}
	e.Status("*", "OK", "UIDVALIDITY "+utoa(data.UIDValidity), "UIDs valid")
	e.Status("*", "OK", "UIDNEXT "+utoa(uint32(data.UIDNext)), "Predicted next UID")
	e.Untagged().Atom("FLAGS").SP().Flags(data.Flags).CRLF()
	e.StatusCode("*", "OK", func(e2 *wire.Encoder) { e2.Atom("PERMANENTFLAGS").SP().Flags(data.PermanentFlags) }, "Permanent flags")
	e.Status("*", "OK", "MAILBOXID ("+mailboxObjectID(s.sel.state.id, data.UIDValidity)+")", "Ok") // RFC 8474 §4.1
	if s.rev2 {
		// RFC 9051 §6.3.2: the mailbox's LIST response.
		e.Untagged().Atom("LIST").SP().Open().Close().SP().Quoted(string(delim)).SP().Mailbox(s.sel.name).CRLF()
	}
	s.state = stateSelected
	c.code = "READ-WRITE"
	if s.sel.readOnly {
		c.code = "READ-ONLY"
	}
	if err := s.writeSelectCondstore(qresync); err != nil {
		return err
	}
	return e.Err()
}

// cmdClose: CLOSE (RFC 9051 §6.4.1: expunges silently, unless the mailbox
// is read-only) and UNSELECT (RFC 3691, RFC 9051 §6.4.2).
func cmdClose(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	if c.name == "CLOSE" {
		if err := s.Expunge(noExpunges{}, nil); err != nil {
			return err
		}
	}
	s.unselect()
	s.state = stateAuthenticated
	return nil
}
