package imap

import (
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// The ACL commands (RFC 4314 §3) on the user's own mailboxes and on those
// shared with them (shared.go's lookup). The ACL is replicated state
// (AclSet, mailbox/apply_acl.go): SETACL and DELETEACL are proposals whose
// actor apply checks again against the ACL at commit, so a right revoked
// meanwhile cannot be used; the reads come from this node's projection.

// cmdSetACL: SETACL mailbox identifier mod-rights (RFC 4314 §3.1).
func cmdSetACL(s *session, c *command) error {
	ac, err := c.dec.ReadSetACL()
	if err != nil {
		return err
	}
	if _, _, err := acl.ParseModification(ac.Rights); err != nil {
		// §3.1: an unknown right MUST NOT be silently ignored.
		return bad("Invalid rights: " + ac.Rights)
	}
	return s.setACL(ac.Mailbox, ac.Identifier, ac.Rights)
}

// cmdDeleteACL: DELETEACL mailbox identifier (RFC 4314 §3.2).
func cmdDeleteACL(s *session, c *command) error {
	ac, err := c.dec.ReadMailboxIdentifier()
	if err != nil {
		return err
	}
	return s.setACL(ac.Mailbox, ac.Identifier, "")
}

// setACL proposes one AclSet: rights is SETACL's argument, "" removes
// the identifier.
func (s *session) setACL(name, identifier, rights string) error {
	ident, err := acl.CanonicalIdentifier(identifier)
	if err != nil {
		return bad("Invalid identifier: " + identifier)
	}
	b, err := s.lookup(name)
	if err != nil {
		return err
	}
	if err := b.need(acl.Admin); err != nil { // RFC 4314 §4
		return err
	}
	_, err = s.propose(&evlog.Event{Kind: &evlog.Event_AclSet{AclSet: &evlog.AclSet{
		Owner: b.owner, MailboxId: b.rec.GetId(), Identifier: ident, Rights: rights, Actor: s.user,
	}}})
	if err != nil {
		s.log.Info("imap setacl failed", "mailbox", b.name, "err", err)
		return replyFor(err)
	}
	s.log.Info("imap setacl", "mailbox", b.name, "identifier", ident, "rights", rights)
	return nil
}

// cmdGetACL: GETACL mailbox (RFC 4314 §3.3): "* ACL mailbox identifier
// rights ...", the owner first with every right (the owner's rights are
// implicit, mailbox.Store.ACL), then the entries in acl.Sort's order.
func cmdGetACL(s *session, c *command) error {
	name, err := c.dec.ReadMailboxArg()
	if err != nil {
		return err
	}
	b, err := s.lookup(name)
	if err != nil {
		return err
	}
	if err := b.need(acl.Admin); err != nil {
		return err
	}
	owner, entries, err := s.srv.cfg.Store.ACL(b.rec.GetId())
	if err != nil {
		return replyFor(err)
	}
	e := s.enc.Untagged().Atom("ACL").SP().Mailbox(name)
	e.SP().AString(owner).SP().AString(acl.All.Format())
	for _, x := range entries {
		e.SP().AString(x.Identifier).SP().AString(x.Rights.Format())
	}
	return e.CRLF().Err()
}

// cmdListRights: LISTRIGHTS mailbox identifier (RFC 4314 §3.4): the
// rights always granted to identifier, then those that may be granted,
// each on its own (acl.ListRights).
func cmdListRights(s *session, c *command) error {
	ac, err := c.dec.ReadMailboxIdentifier()
	if err != nil {
		return err
	}
	ident, err := acl.CanonicalIdentifier(ac.Identifier)
	if err != nil {
		return bad("Invalid identifier: " + ac.Identifier)
	}
	b, err := s.lookup(ac.Mailbox)
	if err != nil {
		return err
	}
	if err := b.need(acl.Admin); err != nil {
		return err
	}
	required, optional := acl.ListRights(b.owner, ident)
	e := s.enc.Untagged().Atom("LISTRIGHTS").SP().Mailbox(ac.Mailbox).SP().AString(ac.Identifier)
	e.SP().AString(required.String())
	for _, o := range optional {
		e.SP().AString(o)
	}
	return e.CRLF().Err()
}

// cmdMyRights: MYRIGHTS mailbox (RFC 4314 §3.5): any right lets a user
// ask (§4); a mailbox they hold none on does not exist for them.
func cmdMyRights(s *session, c *command) error {
	name, err := c.dec.ReadMailboxArg()
	if err != nil {
		return err
	}
	b, err := s.lookup(name)
	if err != nil {
		return err
	}
	return s.enc.Untagged().Atom("MYRIGHTS").SP().Mailbox(name).SP().AString(b.rights.Format()).CRLF().Err()
}
