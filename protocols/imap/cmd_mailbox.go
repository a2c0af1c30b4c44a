package imap

import (
	"github.com/emersion/go-imap/v2"
)

// cmdCreate: CREATE name [(USE (attr))] (RFC 9051 §6.3.4, RFC 6154 §3
// CREATE-SPECIAL-USE).
func cmdCreate(s *session, c *command) error {
	d := c.dec
	if err := d.SP(); err != nil {
		return err
	}
	name, err := d.Mailbox()
	if err != nil {
		return err
	}
	var opts imap.CreateOptions
	if ok, err := d.Maybe(' '); err != nil {
		return err
	} else if ok {
		// create-param (RFC 4466 §2.2): USE (RFC 6154 §3).
		err := d.List(func() error {
			kw, err := d.Keyword()
			if err != nil {
				return err
			}
			if kw != "USE" {
				return bad("Unknown CREATE parameter " + kw)
			}
			if err := d.SP(); err != nil {
				return err
			}
			return d.List(func() error {
				f, err := d.Flag()
				opts.SpecialUse = append(opts.SpecialUse, imap.MailboxAttr(f))
				return err
			})
		})
		if err != nil {
			return err
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	return s.Create(name, &opts)
}

// oneMailbox reads " mailbox" CRLF.
func oneMailbox(c *command) (string, error) {
	d := c.dec
	if err := d.SP(); err != nil {
		return "", err
	}
	name, err := d.Mailbox()
	if err != nil {
		return "", err
	}
	return name, d.End()
}

// cmdDelete: DELETE (RFC 9051 §6.3.5).
func cmdDelete(s *session, c *command) error {
	name, err := oneMailbox(c)
	if err != nil {
		return err
	}
	return s.Delete(name)
}

// cmdRename: RENAME (RFC 9051 §6.3.6).
func cmdRename(s *session, c *command) error {
	d := c.dec
	if err := d.SP(); err != nil {
		return err
	}
	from, err := d.Mailbox()
	if err != nil {
		return err
	}
	to, err := oneMailbox(c)
	if err != nil {
		return err
	}
	return s.Rename(from, to, nil)
}

// cmdSubscribe: SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8).
func cmdSubscribe(s *session, c *command) error {
	name, err := oneMailbox(c)
	if err != nil {
		return err
	}
	return s.subscribe(name, c.name == "SUBSCRIBE")
}

// cmdNamespace: NAMESPACE (RFC 2342, RFC 9051 §6.3.10): one personal
// namespace, no others.
func cmdNamespace(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	e := s.enc.Untagged().Atom("NAMESPACE").SP()
	e.Open().Open().Quoted("").SP().Quoted(string(delim)).Close().Close()
	return e.SP().NIL().SP().NIL().CRLF().Err()
}
