package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// listArgs are LIST's arguments (RFC 9051 §6.3.9 with RFC 5258
// LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE).
type listArgs struct {
	ref      string
	patterns []string
	opts     imap.ListOptions
	// mailboxID: RETURN (STATUS (MAILBOXID)) (RFC 8474 §4.2)
	mailboxID bool
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
				a.opts.ReturnStatus, err = statusItems(d, &a.mailboxID)
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

// cmdList: LIST (RFC 9051 §6.3.9) and LSUB (RFC 3501 §6.3.9).
func cmdList(s *session, c *command) error {
	if c.name == "LSUB" {
		return cmdLsub(s, c)
	}
	a, err := readListArgs(c.dec)
	if err != nil {
		return err
	}
	s.statusID = a.mailboxID
	return s.List(func(data *imap.ListData) error {
		return s.writeList(data)
	}, a.ref, a.patterns, &a.opts)
}

// cmdLsub: LSUB ref pattern (RFC 3501 §6.3.9): the subscribed names that
// match, and, with "%", a name that does not match but has a subscribed
// name below it is returned as its matching ancestor, \Noselect unless
// subscribed itself. Only \Noselect is returned, as Dovecot does.
func cmdLsub(s *session, c *command) error {
	d := c.dec
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
	pattern, err := d.ListMailbox()
	if err != nil {
		return err
	}
	if err := d.End(); err != nil {
		return err
	}
	subs, err := s.srv.cfg.Store.Subscriptions(s.user)
	if err != nil {
		return replyFor(err)
	}
	ref, pattern = canonicalInbox(ref), canonicalInbox(pattern)
	subscribed := map[string]bool{}
	for _, n := range subs {
		subscribed[n] = true
	}
	found := map[string]bool{} // name → subscribed
	for _, n := range subs {
		if listMatch(n, ref, pattern) {
			found[n] = true
			continue
		}
		for i := len(n) - 1; i > 0; i-- {
			if n[i] == delim && listMatch(n[:i], ref, pattern) {
				found[n[:i]] = found[n[:i]] || subscribed[n[:i]]
				break
			}
		}
	}
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	sortMailboxNames(names)
	for _, n := range names {
		var attrs []imap.MailboxAttr
		if !found[n] {
			attrs = []imap.MailboxAttr{imap.MailboxAttrNoSelect}
		}
		e := s.enc.Untagged().Atom("LSUB").SP().List(len(attrs), func(i int) { s.enc.Atom(string(attrs[i])) })
		if e.SP().Quoted(string(delim)).SP().Mailbox(n).CRLF().Err() != nil {
			return e.Err()
		}
	}
	return nil
}

// writeList writes one LIST response (RFC 9051 §7.3.1), its
// CHILDINFO extended item (RFC 5258 §3.5), and for LIST-STATUS the STATUS
// response after it (RFC 5819 §2).
func (s *session) writeList(data *imap.ListData) error {
	attrs := data.Attrs
	e := s.enc.Untagged().Atom("LIST").SP().List(len(attrs), func(i int) { s.enc.Atom(string(attrs[i])) })
	e.SP().Quoted(string(delim)).SP().Mailbox(data.Mailbox)
	if data.ChildInfo != nil && data.ChildInfo.Subscribed {
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
