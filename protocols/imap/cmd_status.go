package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// statusOptions checks the STATUS items asked (wire.StatusOptions) are
// served and returns them in go-imap's form.
func statusOptions(o *wire.StatusOptions) (*imap.StatusOptions, error) {
	if o.HighestModSeq || o.DeletedStorage || o.MailboxID {
		return nil, bad("STATUS item not supported")
	}
	return &o.StatusOptions, nil
}

// cmdStatus: STATUS (RFC 9051 §6.3.11).
func cmdStatus(s *session, c *command) error {
	sc, err := c.dec.ReadStatus()
	if err != nil {
		return err
	}
	opts, err := statusOptions(&sc.Options)
	if err != nil {
		return err
	}
	data, err := s.Status(sc.Mailbox, opts)
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
