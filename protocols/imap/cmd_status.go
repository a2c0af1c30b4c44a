package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// statusItems reads STATUS's parenthesised item list (RFC 9051 §6.3.11,
// RFC 8438 SIZE, RFC 7889 APPENDLIMIT; RECENT of RFC 3501); MAILBOXID
// (RFC 8474 §4.2), which go-imap's options lack, sets *mailboxID.
func statusItems(d *wire.Decoder, mailboxID *bool) (*imap.StatusOptions, error) {
	var o imap.StatusOptions
	err := d.List(func() error {
		kw, err := d.Keyword()
		if err != nil {
			return err
		}
		switch kw {
		case "MESSAGES":
			o.NumMessages = true
		case "UIDNEXT":
			o.UIDNext = true
		case "UIDVALIDITY":
			o.UIDValidity = true
		case "UNSEEN":
			o.NumUnseen = true
		case "DELETED":
			o.NumDeleted = true
		case "SIZE":
			o.Size = true
		case "RECENT":
			o.NumRecent = true
		case "APPENDLIMIT":
			o.AppendLimit = true
		case "MAILBOXID":
			*mailboxID = true
		default:
			return bad("Unknown STATUS item " + kw)
		}
		return nil
	})
	return &o, err
}

// cmdStatus: STATUS (RFC 9051 §6.3.11).
func cmdStatus(s *session, c *command) error {
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
	s.statusID = false
	opts, err := statusItems(d, &s.statusID)
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	data, err := s.Status(name, opts)
	if err != nil {
		return err
	}
	return s.writeStatus(data)
}

// writeStatus writes "* STATUS name (item value ...)" (RFC 9051 §7.3.2),
// items in the order Dovecot sends them.
func (s *session) writeStatus(data *imap.StatusData) error {
	e := s.enc.Untagged().Atom("STATUS").SP().Mailbox(data.Mailbox).SP().Open()
	n := 0
	item := func(name string) *wire.Encoder {
		if n > 0 {
			e.SP()
		}
		n++
		return e.Atom(name).SP()
	}
	if data.NumMessages != nil {
		item("MESSAGES").Number(*data.NumMessages)
	}
	if data.NumRecent != nil {
		item("RECENT").Number(*data.NumRecent)
	}
	if data.UIDNext != 0 {
		item("UIDNEXT").Number(uint32(data.UIDNext))
	}
	if data.UIDValidity != 0 {
		item("UIDVALIDITY").Number(data.UIDValidity)
	}
	if s.statusID {
		if id := s.mailboxIDOf(data.Mailbox); id != "" {
			item("MAILBOXID").Open().Atom(id).Close() // RFC 8474 §4.2
		}
	}
	if data.NumUnseen != nil {
		item("UNSEEN").Number(*data.NumUnseen)
	}
	if data.NumDeleted != nil {
		item("DELETED").Number(*data.NumDeleted)
	}
	if data.Size != nil {
		item("SIZE").Number64(uint64(*data.Size))
	}
	if data.AppendLimit != nil {
		item("APPENDLIMIT").Number(*data.AppendLimit)
	}
	return e.Close().CRLF().Err()
}
