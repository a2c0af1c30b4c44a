package imap

import (
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// Public folders (RFC 2342 §5's shared namespace, Dovecot's public
// namespace "Shared/"). A domain's public folders are the mailboxes of one
// ordinary account its administrator names
// (DomainSettingsChanged.public_folders, `surat domain set
// --public-folders`) and manages by logging in as it: creating mailboxes
// and granting rights with SETACL ("anyone lr", "authenticated lrs").
// For the domain's other users they are another user's mailboxes shared
// with them, named acl.PublicName(name) instead of under "Other Users/":
// the same box, rights checks, feed and IDLE (shared.go), flags shared
// by all (Dovecot's public namespace without INDEXPVT). NAMESPACE
// announces the namespace only when the domain has public folders; then a
// name under "Shared/" is reserved for them as names under "Other Users/"
// are (CREATE and RENAME there need k and x on the account's mailboxes,
// shared.go), and otherwise it is an ordinary personal name.

// publicAccount is the account whose mailboxes are the user's domain's
// public folders, "" when the domain has none, or the user is that account
// (its own mailboxes are its personal namespace). Read at each use: two
// point reads, so a setting changed on any node shows at the next command.
func (s *session) publicAccount() string {
	a, err := s.srv.cfg.Store.PublicFolders(domainOf(s.user))
	if err != nil {
		s.log.Warn("imap: reading the public folders' account failed", "err", err)
		return ""
	}
	if a == s.user {
		return ""
	}
	return a
}

// inOtherNamespace reports whether name lies in a namespace of mailboxes
// that are not the user's (Other Users, or Shared when the domain has public
// folders): CREATE and RENAME refuse such names, and APPEND, COPY and
// MOVE never answer [TRYCREATE] for them (RFC 9051 §6.3.12: creating
// would not help).
func (s *session) inOtherNamespace(name string) bool {
	return acl.IsOtherUsers(name) || acl.IsPublic(name) && s.publicAccount() != ""
}

// sharedListName is the name LIST shows for a mailbox shared with the
// user: under Shared/ for the public account's (pub), under Other Users/
// for everyone else's.
func sharedListName(m mailbox.SharedMailbox, pub string) string {
	if pub != "" && m.Owner == pub {
		return acl.PublicName(m.Mailbox.GetName())
	}
	return m.Name()
}

// writePublicNamespace writes NAMESPACE's third element (RFC 2342 §5):
// the public namespace when the user's domain has public folders, NIL
// otherwise.
func (s *session) writePublicNamespace(e *wire.Encoder) {
	if s.publicAccount() == "" {
		e.NIL()
		return
	}
	e.Open().Open().Quoted(acl.PublicPrefix).SP().Quoted(string(acl.Delimiter)).Close().Close()
}
