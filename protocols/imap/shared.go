package imap

import (
	"errors"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// Shared folders (RFC 4314 ACL, RFC 2342 §5 "Other Users" namespace).
// A mailbox another user shared is named acl.SharedName(owner, name)
// here and read by its id like any other, so SELECT, IDLE and the
// unilateral updates need nothing of their own: the node's one feed
// subscription (hub.go) carries every user's changes. What is shared is
// the rights: each command checks those it needs (acl/commands.go's
// table), answering NO [NOPERM] without them, or NO [NONEXISTENT] when
// the user may neither list nor read the mailbox (RFC 4314 §4: its
// existence is not revealed). Creating below another user's mailbox
// needs k on it, deleting one x, renaming one x on it and k on the new
// parent, which must be the same owner's (createShared, deleteShared,
// renameShared; apply checks again).

// errNoPerm is RFC 5530 §3's NOPERM: the mailbox exists, the right is
// missing (RFC 4314 §4).
var errNoPerm = no(imap.ResponseCodeNoPerm, "Permission denied")

// errOtherUsers answers CREATE and RENAME in the Other Users and Shared
// namespaces but below a mailbox the user may see, and RENAME from one
// user to another.
var errOtherUsers = no(imap.ResponseCodeNoPerm, "Mailboxes of other users are created or renamed only below one of theirs")

// createShared is CREATE of name below another user's mailbox (the Other
// Users or Shared namespace): the parent must be one the user may see,
// and the user needs k on it (RFC 4314 §4). The mailbox is the owner's;
// apply checks the right again and gives it its parent's ACL.
func (s *session) createShared(name string, specialUse bool) error {
	b, leaf, err := s.sharedParent(name)
	if err != nil {
		return err
	}
	if !b.rights.Has(acl.CreateMailbox) {
		return errNoPerm
	}
	if specialUse {
		return no(responseCodeUseAttr, "Special-use attributes are the owner's to set")
	}
	maxCount, maxDepth := s.srv.cfg.mailboxLimits() // the owner's, counted by apply
	_, err = s.propose(ev(&evlog.Event_MailboxCreated{MailboxCreated: &evlog.MailboxCreated{
		Address: b.owner, Name: b.rec.GetName() + string(delim) + leaf, Actor: s.user,
		UidValidityHint: uint32(s.srv.cfg.Now().Unix()),
		MaxMailboxes:    maxCount, MaxNameDepth: maxDepth,
	}}))
	if err != nil {
		s.log.Info("imap create failed", "mailbox", name, "err", err)
		return replyFor(err)
	}
	return nil
}

// sharedParent splits name, in the Other Users or Shared namespace, into
// the other user's mailbox directly above it, which the user must be able
// to see, and the last level; errOtherUsers for any other name.
func (s *session) sharedParent(name string) (parent *box, leaf string, err error) {
	name = strings.TrimRight(name, string(delim))
	i := strings.LastIndexByte(name, delim)
	if i < 0 {
		return nil, "", errOtherUsers
	}
	parent, err = s.lookup(name[:i])
	if err != nil || parent.owner == s.user {
		return nil, "", errOtherUsers
	}
	return parent, name[i+1:], nil
}

// renameShared is RENAME of another user's mailbox b to name, below
// another mailbox of the same owner: the user needs x on b and k on the
// new parent (RFC 4314 §4), which apply checks again.
func (s *session) renameShared(b *box, name string) error {
	parent, leaf, err := s.sharedParent(name)
	if err != nil {
		return err
	}
	if parent.owner != b.owner {
		return errOtherUsers
	}
	if !b.rights.Has(acl.DeleteMailbox) || !parent.rights.Has(acl.CreateMailbox) {
		return errNoPerm
	}
	maxCount, maxDepth := s.srv.cfg.mailboxLimits() // the owner's, counted by apply
	_, err = s.propose(ev(&evlog.Event_MailboxRenamed{MailboxRenamed: &evlog.MailboxRenamed{
		MailboxId: b.rec.GetId(), NewName: parent.rec.GetName() + string(delim) + leaf, Actor: s.user,
		UidValidityHint: uint32(s.srv.cfg.Now().Unix()),
		MaxMailboxes:    maxCount, MaxNameDepth: maxDepth,
	}}))
	if err != nil {
		s.log.Info("imap rename failed", "mailbox", b.name, "err", err)
	}
	return replyFor(err)
}

// deleteShared is DELETE of another user's mailbox b: the user needs x on
// it (RFC 4314 §4), which apply checks again.
func (s *session) deleteShared(b *box) error {
	if !b.rights.Has(acl.DeleteMailbox) {
		return errNoPerm
	}
	_, err := s.propose(ev(&evlog.Event_MailboxDeleted{MailboxDeleted: &evlog.MailboxDeleted{
		MailboxId: b.rec.GetId(), Actor: s.user,
	}}))
	if err != nil {
		s.log.Info("imap delete failed", "mailbox", b.name, "err", err)
	}
	return replyFor(err)
}

// box is a mailbox a command names: one of the user's own, or one another
// user shared with them.
type box struct {
	rec    *evlog.MailboxRecord
	owner  string     // the owner's address
	rights acl.Rights // the session user's: acl.All on their own
	name   string     // its name as this user sees it
}

// need answers NO [NOPERM] unless the user holds every right of want on
// b, and NO [NONEXISTENT] when they hold neither l nor r (RFC 4314 §4:
// the mailbox is not revealed).
func (b *box) need(want acl.Rights) error {
	switch {
	case b.rights.Has(want):
		return nil
	case b.rights&(acl.Lookup|acl.Read) == 0:
		return errNonExistent
	}
	return errNoPerm
}

// lookup resolves a mailbox name: the user's own, or under the Other
// Users prefix another user's that they hold a right on, or under the
// Shared prefix (when the user's domain has public folders, public.go)
// the public account's. A name under a prefix that does not resolve there
// is tried as the user's own (one made before the namespace existed).
// ErrNonExistent when none exists.
func (s *session) lookup(name string) (*box, error) {
	var pub string
	if acl.IsPublic(name) {
		pub = s.publicAccount() // public.go
	}
	if owner, inOwners, ok := acl.SplitNamespaced(name, domainOf(s.user), pub); ok && owner != s.user {
		m, err := s.srv.cfg.Store.SharedMailboxByName(s.user, owner, inOwners)
		switch {
		case err == nil:
			b := &box{rec: m.Mailbox, owner: m.Owner, rights: m.Rights, name: m.Name()}
			if !acl.IsOtherUsers(name) {
				b.name = acl.PublicName(m.Mailbox.GetName())
			}
			return b, nil
		case !errors.Is(err, mailbox.ErrNotFound):
			return nil, replyFor(err)
		}
	}
	mb, err := s.mailboxByName(name)
	if err != nil {
		return nil, err
	}
	return &box{rec: mb, owner: s.user, rights: acl.All, name: mb.GetName()}, nil
}

// domainOf is the domain of an address ("" without one): an owner named
// without a domain in the Other Users namespace is taken in the user's.
func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		return address[i+1:]
	}
	return ""
}

// selectedRights are the rights a command needs on the selected mailbox
// (RFC 4314 §4; acl/commands.go). STORE checks its own per flag
// (Store: FlagsChanged.flag_rights), CLOSE expunges only with e.
var selectedRights = map[string]acl.Rights{
	"FETCH": acl.Read, "UID FETCH": acl.Read,
	"SEARCH": acl.Read, "UID SEARCH": acl.Read,
	"SORT": acl.Read, "UID SORT": acl.Read,
	"THREAD": acl.Read, "UID THREAD": acl.Read,
	"COPY": acl.Read, "UID COPY": acl.Read,
	// MOVE expunges from the source (RFC 6851 §3.3).
	"MOVE": acl.Read | acl.DeleteMessage | acl.Expunge, "UID MOVE": acl.Read | acl.DeleteMessage | acl.Expunge,
	"EXPUNGE": acl.Expunge, "UID EXPUNGE": acl.Expunge,
}

// checkRights refuses a command the user lacks the rights for on the
// selected mailbox (selectedRights), after reading them again if its ACL
// changed.
func (s *session) checkRights(command string) error {
	if s.sel == nil {
		return nil
	}
	s.syncRights()
	if want, ok := selectedRights[command]; ok && !s.sel.rights.Has(want) {
		return errNoPerm
	}
	return nil
}

// aclUnknown is a selected.aclGen no hub count has: the rights are read
// at the first syncRights.
const aclUnknown = ^uint64(0)

// syncRights reads the user's rights on the selected mailbox again when
// the hub saw its ACL change (an ACLChanged in the feed, from any node)
// since they were last read. The user's own mailbox needs none: the owner
// holds every right.
func (s *session) syncRights() {
	sel := s.sel
	if sel == nil || sel.owner == s.user {
		return
	}
	gen := sel.state.aclGen.Load()
	if gen == sel.aclGen {
		return
	}
	r, err := s.srv.cfg.Store.Rights(s.user, sel.state.id)
	switch {
	case errors.Is(err, mailbox.ErrNotFound):
		r = acl.None // deleted: the poll reports it
	case err != nil:
		s.log.Warn("imap: reading rights failed", "mailbox", sel.name, "err", err)
		return // read again next time
	}
	sel.aclGen, sel.rights = gen, r
}

// permittedFlags is what PERMANENTFLAGS offers a user with rights (RFC
// 4314 §4: a flag the user may not store is not permanent for them; \*,
// new keywords, needs w).
func permittedFlags(rights acl.Rights, flags []imap.Flag) []imap.Flag {
	if rights.Has(acl.Seen | acl.Write | acl.DeleteMessage) {
		return flags
	}
	var out []imap.Flag
	for _, f := range flags {
		if rights.Has(acl.FlagRight(string(f))) {
			out = append(out, f)
		}
	}
	return out
}

// listShared adds the mailboxes shared with the user to LIST's entries
// (RFC 4314 §4: those with l), under the Other Users prefix, or the
// Shared one for the public account's (public.go); List makes "Other
// Users", "Other Users/<owner>" and "Shared" \Noselect parents of them, as
// Dovecot shows its shared namespace's levels.
func (s *session) listShared(entry func(name string) *listEntry) error {
	shared, err := s.srv.cfg.Store.SharedWith(s.user)
	if err != nil {
		return replyFor(err)
	}
	pub := ""
	if len(shared) > 0 {
		pub = s.publicAccount() // public.go
	}
	for _, m := range shared {
		e := entry(sharedListName(m, pub))
		e.rec, e.shared, e.rights = m.Mailbox, true, m.Rights
	}
	return nil
}

// allowedFlags is what an APPEND into mb keeps of flags: all of them in
// the user's own mailbox, in another's those the user's rights allow (RFC
// 4314 §4, acl.AllowedFlags).
func (s *session) allowedFlags(mb *evlog.MailboxRecord, flags []string) ([]string, error) {
	if mb.GetAddress() == s.user || len(flags) == 0 {
		return flags, nil
	}
	rights, err := s.srv.cfg.Store.Rights(s.user, mb.GetId())
	if err != nil {
		return nil, replyFor(err)
	}
	return acl.AllowedFlags(rights, flags), nil
}

// copyFlagRights is what COPY or MOVE into dst stamps as the copies'
// flag_rights: the user's rights there when dst is another user's and
// they do not cover every flag (RFC 4314 §4: the copies keep only the
// flags the user may set), else 0 (all).
func (s *session) copyFlagRights(dst *evlog.MailboxRecord) (uint32, error) {
	if dst.GetAddress() == s.user {
		return 0, nil
	}
	rights, err := s.srv.cfg.Store.Rights(s.user, dst.GetId())
	if err != nil {
		return 0, replyFor(err)
	}
	if rights.Has(acl.Seen | acl.Write | acl.DeleteMessage) {
		return 0, nil
	}
	return uint32(rights), nil
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}
