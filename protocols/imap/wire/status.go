package wire

import "github.com/emersion/go-imap/v2"

// StatusOptions are the STATUS items (RFC 9051 §6.3.11): go-imap's, plus
// MAILBOXID (RFC 8474 §4.2). NumRecent is IMAP4rev1's RECENT,
// NumDeleted DELETED, Size SIZE (RFC 8438), AppendLimit APPENDLIMIT
// (RFC 7889), DeletedStorage DELETED-STORAGE (RFC 9208 §4.2),
// HighestModSeq HIGHESTMODSEQ (RFC 7162 §3.1.6).
type StatusOptions struct {
	imap.StatusOptions
	MailboxID bool
}

// StatusCommand is a STATUS.
type StatusCommand struct {
	Mailbox string
	Options StatusOptions
}

// ReadStatus reads the arguments of STATUS through the end of the
// command:
//
//	status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
func (d *Decoder) ReadStatus() (*StatusCommand, error) {
	c := &StatusCommand{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	var err error
	if c.Mailbox, err = d.Mailbox(); err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	if c.Options, err = d.statusAtts(); err != nil {
		return nil, err
	}
	return c, d.End()
}

// statusAtts reads "(" status-att *(SP status-att) ")".
func (d *Decoder) statusAtts() (StatusOptions, error) {
	var o StatusOptions
	n := 0
	err := d.List(func() error {
		n++
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
		case "HIGHESTMODSEQ":
			o.HighestModSeq = true
		case "APPENDLIMIT":
			o.AppendLimit = true
		case "DELETED-STORAGE":
			o.DeletedStorage = true
		case "MAILBOXID":
			o.MailboxID = true
		default:
			return syntaxf("Unknown STATUS item %s", kw)
		}
		return nil
	})
	if err == nil && n == 0 {
		err = syntaxf("Empty STATUS item list")
	}
	return o, err
}
