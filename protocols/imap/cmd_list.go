package imap

import (
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// listArgs are LIST's arguments (RFC 9051 §6.3.9 with RFC 5258
// LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE).
type listArgs struct {
	ref      string
	patterns []string
	opts     imap.ListOptions
}

// readListArgs reads LIST's arguments after the command name.
func readListArgs(d *wire.Decoder) (*listArgs, error) {
	a := &listArgs{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	if b, err := d.Peek(); err != nil {
		return nil, err
	} else if b == '(' {
		err := d.List(func() error {
			kw, err := d.Keyword()
			switch {
			case err != nil:
				return err
			case kw == "SUBSCRIBED":
				a.opts.SelectSubscribed = true
			case kw == "REMOTE": // no remote mailboxes: nothing more
			case kw == "RECURSIVEMATCH":
				a.opts.SelectRecursiveMatch = true
			case kw == "SPECIAL-USE":
				a.opts.SelectSpecialUse = true
			default:
				return bad("Unknown LIST selection option " + kw)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if a.opts.SelectRecursiveMatch && !a.opts.SelectSubscribed && !a.opts.SelectSpecialUse {
			// RFC 5258 §3: RECURSIVEMATCH alone is an error.
			return nil, bad("RECURSIVEMATCH needs another selection option")
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	ref, err := d.Mailbox()
	if err != nil {
		return nil, err
	}
	a.ref = ref
	if err := d.SP(); err != nil {
		return nil, err
	}
	if b, err := d.Peek(); err != nil {
		return nil, err
	} else if b == '(' {
		err := d.List(func() error {
			p, err := d.ListMailbox()
			a.patterns = append(a.patterns, p)
			return err
		})
		if err != nil {
			return nil, err
		}
	} else {
		p, err := d.ListMailbox()
		if err != nil {
			return nil, err
		}
		if p != "" {
			a.patterns = append(a.patterns, p)
		}
	}
	if ok, err := d.Maybe(' '); err != nil {
		return nil, err
	} else if ok {
		if err := d.ExpectKeyword("RETURN"); err != nil {
			return nil, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		err := d.List(func() error {
			kw, err := d.Keyword()
			switch {
			case err != nil:
				return err
			case kw == "SUBSCRIBED":
				a.opts.ReturnSubscribed = true
			case kw == "CHILDREN":
				a.opts.ReturnChildren = true
			case kw == "SPECIAL-USE":
				a.opts.ReturnSpecialUse = true
			case kw == "STATUS":
				if err := d.SP(); err != nil {
					return err
				}
				a.opts.ReturnStatus, err = statusItems(d)
				return err
			default:
				return bad("Unknown LIST return option " + kw)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return a, d.End()
}

// cmdList: LIST (RFC 9051 §6.3.9) and LSUB (RFC 3501 §6.3.9, as LIST
// (SUBSCRIBED) answered with LSUB responses).
func cmdList(s *session, c *command) error {
	var a *listArgs
	if c.name == "LSUB" {
		d := c.dec
		a = &listArgs{}
		a.opts.SelectSubscribed = true
		if err := d.SP(); err != nil {
			return err
		}
		ref, err := d.Mailbox()
		if err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		p, err := d.ListMailbox()
		if err != nil {
			return err
		}
		if err := d.End(); err != nil {
			return err
		}
		a.ref = ref
		if p != "" {
			a.patterns = []string{p}
		}
	} else {
		var err error
		if a, err = readListArgs(c.dec); err != nil {
			return err
		}
	}
	return s.List(func(data *imap.ListData) error {
		return s.writeList(c.name, data)
	}, a.ref, a.patterns, &a.opts)
}

// writeList writes one LIST (or LSUB) response (RFC 9051 §7.3.1), its
// CHILDINFO extended item (RFC 5258 §3.5), and for LIST-STATUS the STATUS
// response after it (RFC 5819 §2).
func (s *session) writeList(name string, data *imap.ListData) error {
	attrs := data.Attrs
	if name == "LSUB" {
		// RFC 3501 §6.3.9: LSUB has no \Subscribed; a name that only a
		// subscription holds is \Noselect.
		attrs = nil
		for _, at := range data.Attrs {
			switch {
			case strings.EqualFold(string(at), string(imap.MailboxAttrSubscribed)):
			case strings.EqualFold(string(at), string(imap.MailboxAttrNonExistent)):
				attrs = append(attrs, imap.MailboxAttrNoSelect)
			default:
				attrs = append(attrs, at)
			}
		}
	}
	e := s.enc.Untagged().Atom(name).SP().List(len(attrs), func(i int) { s.enc.Atom(string(attrs[i])) })
	e.SP().Quoted(string(delim)).SP().Mailbox(data.Mailbox)
	if data.ChildInfo != nil && data.ChildInfo.Subscribed && name == "LIST" {
		e.SP().Open().Quoted("CHILDINFO").SP().Open().Quoted("SUBSCRIBED").Close().Close()
	}
	if e.CRLF().Err() != nil {
		return e.Err()
	}
	if data.Status != nil {
		data.Status.Mailbox = data.Mailbox
		return s.writeStatus(data.Status)
	}
	return nil
}
