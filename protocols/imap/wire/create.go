package wire

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// CreateCommand is a CREATE (RFC 9051 §6.3.4) with the USE parameter of
// CREATE-SPECIAL-USE (RFC 6154 §3).
type CreateCommand struct {
	Mailbox string
	Use     []imap.MailboxAttr // canonical case for the RFC 6154 attributes
}

var useAttrs = []imap.MailboxAttr{imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts,
	imap.MailboxAttrFlagged, imap.MailboxAttrJunk, imap.MailboxAttrSent, imap.MailboxAttrTrash, imap.MailboxAttrImportant}

// ReadCreate reads the arguments of CREATE through the end of the
// command:
//
//	create = "CREATE" SP mailbox [create-params]
//	create-params = SP "(" create-param *(SP create-param) ")"
//	create-param = "USE" SP "(" [use-attr *(SP use-attr)] ")"
//
// Unknown parameters get BAD; an unknown use-attr is returned as sent,
// for the dispatcher's NO [USEATTR] (RFC 6154 §3).
func (d *Decoder) ReadCreate() (*CreateCommand, error) {
	c := &CreateCommand{}
	var err error
	c.Mailbox, err = d.mailboxParams("Empty CREATE parameters", func() error {
		if err := d.ExpectKeyword("USE"); err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		c.Use = []imap.MailboxAttr{}
		return d.List(func() error {
			f, err := d.Flag()
			if err != nil {
				return err
			}
			attr := imap.MailboxAttr(f)
			for _, a := range useAttrs {
				if strings.EqualFold(string(a), string(attr)) {
					attr = a
				}
			}
			c.Use = append(c.Use, attr)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
