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
// existence is not revealed). Creating, deleting and renaming mailboxes
// in another user's namespace is not served (NO [NOPERM]).

// errNoPerm is RFC 5530 §3's NOPERM: the mailbox exists, the right is
// missing (RFC 4314 §4).
var errNoPerm = no(imap.ResponseCodeNoPerm, "Permission denied")

// errOtherUsers answers CREATE, RENAME and DELETE of names in the Other
// Users namespace.
var errOtherUsers = no(imap.ResponseCodeNoPerm, "Mailboxes of other users cannot be created, renamed or deleted here")

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
// (storeRestricted), CLOSE expunges only with e.
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

// stripCopiedFlags takes from the copies COPY or MOVE put into another
// user's mailbox the flags the user's rights there do not allow (RFC 4314
// §4: COPY keeps only those). The copies carry their originals' flags
// when they are made (Copied has no mask), so this is a second proposal:
// until it commits, a disallowed flag shows on the copies.
func (s *session) stripCopiedFlags(dst *evlog.MailboxRecord, uids []*evlog.UidRange) {
	if dst.GetAddress() == s.user {
		return
	}
	rights, err := s.srv.cfg.Store.Rights(s.user, dst.GetId())
	if err != nil || rights.Has(acl.Seen|acl.Write|acl.DeleteMessage) {
		return
	}
	var strip []string
	for _, uid := range expandRanges(uids) {
		m, err := s.srv.cfg.Store.Message(dst.GetId(), uid)
		if err != nil {
			continue
		}
		for _, f := range m.GetFlags() {
			if !rights.Has(acl.FlagRight(f)) && !containsFold(strip, f) {
				strip = append(strip, f)
			}
		}
	}
	if len(strip) == 0 {
		return
	}
	_, err = s.propose(&evlog.Event{Kind: &evlog.Event_FlagsChanged{FlagsChanged: &evlog.FlagsChanged{
		MailboxId: dst.GetId(), Uids: uids, Op: evlog.FlagOp_FLAG_OP_REMOVE, Flags: strip,
	}}})
	if err != nil {
		s.log.Warn("imap: removing flags from copies into a shared mailbox failed", "mailbox", dst.GetName(), "err", err)
	}
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// storeRestricted is STORE (RFC 9051 §6.4.6) for a user who may not change
// every flag of the selected mailbox: flags without their right
// (acl.FlagRight) are ignored, as Dovecot does, and FLAGS (replace) sets
// the allowed flags named and clears the allowed ones not named, leaving
// the others as they are. Both go in one proposal.
func (s *session) storeRestricted(w *fetchWriter, pairs []seqUID, isUID bool, op evlog.FlagOp, names []string, silent bool) error {
	sel := s.sel
	rights := sel.rights
	allowed := acl.AllowedFlags(rights, names)
	uids := uidRanges(uidsOf(pairs))
	var events []*evlog.Event
	flagEvent := func(op evlog.FlagOp, flags []string) {
		events = append(events, &evlog.Event{Kind: &evlog.Event_FlagsChanged{FlagsChanged: &evlog.FlagsChanged{
			MailboxId: sel.state.id, Uids: uids, Op: op, Flags: flags,
		}}})
	}
	switch op {
	case evlog.FlagOp_FLAG_OP_REPLACE:
		var clear []string
		cur, _ := sel.state.current()
		for _, p := range pairs {
			j := cur.index(p.uid)
			if j < 0 {
				continue
			}
			for _, f := range cur.msgs[j].flags {
				if rights.Has(acl.FlagRight(f)) && !containsFold(names, f) && !containsFold(clear, f) {
					clear = append(clear, f)
				}
			}
		}
		if len(allowed) > 0 {
			flagEvent(evlog.FlagOp_FLAG_OP_ADD, allowed)
		}
		if len(clear) > 0 {
			flagEvent(evlog.FlagOp_FLAG_OP_REMOVE, clear)
		}
	default:
		if len(allowed) > 0 {
			flagEvent(op, allowed)
		}
	}
	if len(events) > 0 {
		out, err := s.propose(events...)
		if err != nil {
			s.log.Info("imap store failed", "mailbox", sel.name, "err", err)
			return replyFor(err)
		}
		sel.suppress = map[uint32]uint64{}
		for _, res := range out.GetResults() {
			for _, uid := range expandRanges(res.GetUids()) {
				sel.suppress[uid] = max(sel.suppress[uid], res.GetModseq())
			}
		}
		s.refreshSelected(sel.state.id)
	}
	if silent {
		return nil
	}
	for _, p := range pairs {
		m, err := s.srv.cfg.Store.Message(sel.state.id, p.uid)
		if err != nil {
			continue // expunged meanwhile
		}
		// As Store does: keywords not announced yet wait for the poll
		// (keywords.go), \Recent for IMAP4rev1 sessions (recent.go).
		fl, hidden := sel.visibleFlags(m.GetFlags())
		if hidden {
			sel.reportAgain(p.uid)
			continue
		}
		rw := w.CreateMessage(p.seq)
		if isUID {
			rw.WriteUID(imap.UID(p.uid))
		}
		rw.WriteFlags(sel.withRecent(p.uid, fl))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}
