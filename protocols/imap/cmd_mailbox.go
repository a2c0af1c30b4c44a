package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/acl"
)

// cmdCreate: CREATE name [(USE (attr))] (RFC 9051 §6.3.4, RFC 6154 §3
// CREATE-SPECIAL-USE).
func cmdCreate(s *session, c *command) error {
	cc, err := c.dec.ReadCreate()
	if err != nil {
		return err
	}
	if s.inOtherNamespace(cc.Mailbox) {
		return s.createShared(cc.Mailbox, len(cc.Use) > 0) // shared.go
	}
	return s.Create(cc.Mailbox, &imap.CreateOptions{SpecialUse: cc.Use})
}

// cmdDelete: DELETE (RFC 9051 §6.3.5).
func cmdDelete(s *session, c *command) error {
	name, err := c.dec.ReadMailboxArg()
	if err != nil {
		return err
	}
	if b, err := s.lookup(name); err == nil && b.owner != s.user {
		return s.deleteShared(b) // shared.go
	}
	return s.Delete(name)
}

// cmdRename: RENAME (RFC 9051 §6.3.6).
func cmdRename(s *session, c *command) error {
	from, to, err := c.dec.ReadRename()
	if err != nil {
		return err
	}
	b, err := s.lookup(from)
	fromOther := err == nil && b.owner != s.user
	switch toOther := s.inOtherNamespace(to); {
	case fromOther && toOther:
		return s.renameShared(b, to) // shared.go
	case fromOther || toOther:
		return errOtherUsers // not from one user to another
	}
	return s.Rename(from, to, nil)
}

// cmdSubscribe: SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8).
func cmdSubscribe(s *session, c *command) error {
	name, err := c.dec.ReadMailboxArg()
	if err != nil {
		return err
	}
	return s.subscribe(name, c.name == "SUBSCRIBE")
}

// cmdNamespace: NAMESPACE (RFC 2342, RFC 9051 §6.3.10): the personal
// namespace, the Other Users one of the mailboxes others shared
// (shared.go), and the shared (public) one when the user's domain has
// public folders (public.go).
func cmdNamespace(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	e := s.enc.Untagged().Atom("NAMESPACE").SP()
	e.Open().Open().Quoted("").SP().Quoted(string(delim)).Close().Close().SP()
	e.Open().Open().Quoted(acl.OtherUsersPrefix).SP().Quoted(string(acl.Delimiter)).Close().Close().SP()
	s.writePublicNamespace(e)
	return e.CRLF().Err()
}
