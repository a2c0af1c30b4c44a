package mailbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// Shared folders (event 140, RFC 4314): a mailbox's ACL is one record per
// identifier under its id, with an index by identifier so that the
// mailboxes shared with a user are found without reading every ACL
// (SharedWith). Rights are stored in acl.Rights' canonical form, never
// empty: an identifier left with no rights leaves the ACL. The owner's
// own rights are implicit (all of them) and never stored as such.
const (
	prefixACL             = "acl/"
	prefixACLByIdentifier = "acu/"

	// MaxACLEntries bounds a mailbox's ACL (ACL_LIMIT past it): every
	// LIST of a user it names reads the whole ACL.
	MaxACLEntries = 64
)

var errACLLimit = evlog.ErrorCode_ERROR_CODE_ACL_LIMIT

func aclPrefix(mailboxID uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixACL), mailboxID)
}

func aclKey(mailboxID uint64, identifier string) []byte {
	return append(aclPrefix(mailboxID), identifier...)
}

func aclByIdentifierPrefix(identifier string) []byte {
	return []byte(prefixACLByIdentifier + identifier + "\x00")
}

func aclByIdentifierKey(identifier string, mailboxID uint64) []byte {
	return binary.BigEndian.AppendUint64(aclByIdentifierPrefix(identifier), mailboxID)
}

// parseACLByIdentifierKey returns the mailbox id of a key under
// aclByIdentifierPrefix(identifier).
func parseACLByIdentifierKey(identifier string, k []byte) (uint64, error) {
	p := aclByIdentifierPrefix(identifier)
	if len(k) != len(p)+mailboxIDLen || !bytes.HasPrefix(k, p) {
		return 0, fmt.Errorf("ACL index key %q", k)
	}
	return binary.BigEndian.Uint64(k[len(p):]), nil
}

// decodeACLEntries reads the records under aclPrefix(id).
func decodeACLEntries(mailboxID uint64, records []kv) ([]acl.Entry, error) {
	out := make([]acl.Entry, 0, len(records))
	p := aclPrefix(mailboxID)
	for _, r := range records {
		e, err := decodeACLEntry(p, r.key, r.value)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeACLEntry(prefix, k, v []byte) (acl.Entry, error) {
	rights, err := acl.Parse(string(v))
	if err != nil || rights == acl.None || len(k) <= len(prefix) {
		return acl.Entry{}, fmt.Errorf("ACL record %q = %q: %v", k, v, err)
	}
	return acl.Entry{Identifier: string(k[len(prefix):]), Rights: rights}, nil
}

func (t *txn) aclEntries(mailboxID uint64) ([]acl.Entry, error) {
	records, err := t.scan(aclPrefix(mailboxID), prefixEnd(aclPrefix(mailboxID)))
	if err != nil {
		return nil, err
	}
	return decodeACLEntries(mailboxID, records)
}

// aclSet implements SETACL and DELETEACL (RFC 4314 §3.1, §3.2).
func (t *txn) aclSet(e *evlog.AclSet) (*evlog.EventResult, error) {
	mb, err := t.loadMailbox(e.GetMailboxId())
	if err != nil {
		return nil, err
	}
	owner := mb.GetAddress()
	if e.GetOwner() != owner {
		// The id is not the owner's mailbox (ids are never reused, so
		// the proposer looked at another state).
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, "mailbox id %d is not %s's", mb.GetId(), e.GetOwner())
	}
	ident, err := acl.CanonicalIdentifier(e.GetIdentifier())
	if err != nil {
		return nil, refuse(errInvalid, "%v", err)
	}
	if name, _ := acl.Negative(ident); acl.IsAddress(name) {
		if err := t.mustHave(userKey(name), evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, "ACL identifier %q", name); err != nil {
			return nil, err
		}
	}
	entries, err := t.aclEntries(mb.GetId())
	if err != nil {
		return nil, err
	}
	// RFC 4314 §3.1: SETACL needs the a right; checked here too, against
	// the ACL as it is when the event applies, so that a right taken away
	// meanwhile cannot be used.
	if actor := e.GetActor(); actor != "" && !acl.Evaluate(owner, actor, entries).Has(acl.Admin) {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "%s may not change the ACL of %s's %q", actor, owner, mb.GetName())
	}
	current, present := acl.None, false
	for _, x := range entries {
		if x.Identifier == ident {
			current, present = x.Rights, true
		}
	}
	next, err := acl.Modify(current, e.GetRights())
	if err != nil {
		return nil, refuse(errInvalid, "%v", err)
	}
	res := &evlog.EventResult{MailboxId: mb.GetId(), UidValidity: mb.GetUidValidity(), Modseq: mb.GetHighestModseq()}
	switch name, _ := acl.Negative(ident); {
	case name == owner:
		// The owner holds every right whatever the ACL says
		// (acl.Evaluate): an entry for them would change nothing, so
		// none is kept, and GETACL shows them with all rights.
		return res, nil
	case next == current:
		return res, nil
	case next == acl.None:
		if err := t.del(aclKey(mb.GetId(), ident)); err != nil {
			return nil, err
		}
		if err := t.del(aclByIdentifierKey(ident, mb.GetId())); err != nil {
			return nil, err
		}
	default:
		if !present && len(entries) >= MaxACLEntries {
			return nil, refuse(errACLLimit, "the ACL of %s's %q has %d identifiers, the limit", owner, mb.GetName(), len(entries))
		}
		if err := t.put(aclKey(mb.GetId(), ident), []byte(next.String())); err != nil {
			return nil, err
		}
		if err := t.put(aclByIdentifierKey(ident, mb.GetId()), nil); err != nil {
			return nil, err
		}
	}
	t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Mailbox: mb.GetName(), Address: owner, ModSeq: mb.GetHighestModseq(), Kind: ACLChanged})
	return res, nil
}

// dropMailboxSharing deletes a mailbox's ACL, its index entries and its
// annotations: the shared ones, the owner's private ones and those of the
// users its ACL names (others' private ones, set through "anyone" or an
// entry removed since, go with their user: mailbox ids are never reused,
// so nothing reads them).
func (t *txn) dropMailboxSharing(mb *evlog.MailboxRecord) error {
	id := mb.GetId()
	entries, err := t.aclEntries(id)
	if err != nil {
		return err
	}
	users := []string{mb.GetAddress()}
	for _, e := range entries {
		if err := t.del(aclByIdentifierKey(e.Identifier, id)); err != nil {
			return err
		}
		if name, neg := acl.Negative(e.Identifier); !neg && acl.IsAddress(name) {
			users = append(users, name)
		}
	}
	if err := t.deletePrefix(aclPrefix(id)); err != nil {
		return err
	}
	if err := t.deletePrefix(metadataSharedPrefix(id)); err != nil {
		return err
	}
	for _, u := range users {
		if err := t.deletePrefix(metadataPrivatePrefix(u, id)); err != nil {
			return err
		}
	}
	return nil
}

// dropUserSharing deletes, when a user is deleted, the ACL entries that
// name them (positive or negative) on other users' mailboxes, and their
// private annotations everywhere. Their own mailboxes' ACLs went with
// the mailboxes.
func (t *txn) dropUserSharing(user string) error {
	for _, ident := range []string{user, "-" + user} {
		p := aclByIdentifierPrefix(ident)
		keys, err := t.scan(p, prefixEnd(p))
		if err != nil {
			return err
		}
		for _, k := range keys {
			id, err := parseACLByIdentifierKey(ident, k.key)
			if err != nil {
				return err
			}
			if err := t.del(aclKey(id, ident)); err != nil {
				return err
			}
			if err := t.del(k.key); err != nil {
				return err
			}
			mb, err := t.loadMailbox(id)
			if err != nil {
				var refusal *eventError
				if errors.As(err, &refusal) {
					return fmt.Errorf("ACL index names mailbox %d, which does not exist", id)
				}
				return err
			}
			t.changes.add(Change{Index: t.index, MailboxID: id, Mailbox: mb.GetName(), Address: mb.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: ACLChanged})
		}
	}
	return t.deletePrefix(metadataUserPrefix(user))
}

// fileShared files a Delivered copy into another user's mailbox
// (Recipient.shared_owner: Sieve fileinto "Other Users/owner/name") when
// user holds the p right on it (RFC 4314 §2.1: post, Dovecot's right for
// LDA and Sieve deliveries into shared mailboxes), charged to the owner,
// with only the flags user's rights let them set (RFC 4314 §4). It
// returns nil, and files nothing, when the mailbox does not exist, the
// right is missing or the owner's quota is full: the caller files the
// copy into user's INBOX instead, so that mail is never lost to a filing
// rule. It never creates a mailbox.
func (t *txn) fileShared(user string, r *evlog.Recipient, e *evlog.Delivered, common []string) (*evlog.UidRange, error) {
	owner := r.GetSharedOwner()
	canon, err := canonicalMailboxName(r.GetMailbox())
	if err != nil || checkAddress("shared owner", owner) != nil {
		return nil, nil
	}
	id, ok, err := t.mailboxIDByName(owner, canon)
	if err != nil || !ok {
		return nil, err
	}
	ou, err := t.loadUser(owner)
	if refusedWith(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER) {
		return nil, fmt.Errorf("mailbox %d of %s, who does not exist", id, owner)
	}
	if err != nil {
		return nil, err
	}
	mb, err := t.loadMailbox(id)
	if err != nil {
		return nil, err
	}
	entries, err := t.aclEntries(id)
	if err != nil {
		return nil, err
	}
	rights := acl.Evaluate(owner, user, entries)
	if !rights.Has(acl.Post) || OverQuota(ou, e.GetSize(), 1) {
		return nil, nil
	}
	uid, err := t.insertMessage(mb, ou, &evlog.MessageRecord{
		Blob: e.GetBlob(), Size: e.GetSize(), Flags: acl.AllowedFlags(rights, recipientFlags(common, r.GetFlags())),
		InternalDateUnix: e.GetInternalDateUnix(), InternalDateOffset: e.GetInternalDateOffset(),
	})
	if err != nil {
		return nil, err
	}
	if err := t.saveMailbox(mb); err != nil {
		return nil, err
	}
	if err := t.saveUser(ou); err != nil {
		return nil, err
	}
	t.changes.add(Change{Index: t.index, MailboxID: id, Mailbox: mb.GetName(), Address: owner, ModSeq: mb.GetHighestModseq(), Kind: MessagesAdded, UIDs: []uint32{uid}})
	return &evlog.UidRange{First: uid, Last: uid}, nil
}

// keepUnpermitted is next with every flag rights do not let a user change
// (acl.FlagRight) as it is in old: those old has stay, those it lacks do
// not appear (FlagsChanged.flag_rights). Sorted, as stored flags are; the
// two sets cannot hold one flag in two spellings, as a flag's right does
// not depend on its case.
func keepUnpermitted(old, next []string, rights acl.Rights) []string {
	out := make([]string, 0, len(next))
	for _, f := range next {
		if rights.Has(acl.FlagRight(f)) {
			out = append(out, f)
		}
	}
	for _, f := range old {
		if !rights.Has(acl.FlagRight(f)) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// mayCreateBelow refuses, with FORBIDDEN, a mailbox name of owner's that
// actor, another user, asked for (MailboxCreated.actor) unless its parent
// exists and actor holds k on it (RFC 4314 §4: CREATE needs k on the
// parent), by the ACL as it is when the event applies.
func (t *txn) mayCreateBelow(owner, actor, name string, parentID uint64, parentExists bool) error {
	if actor == "" || actor == owner {
		return nil
	}
	if !parentExists {
		return refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "%s may create %s's %q only below a mailbox that exists", actor, owner, name)
	}
	entries, err := t.aclEntries(parentID)
	if err != nil {
		return err
	}
	if !acl.Evaluate(owner, actor, entries).Has(acl.CreateMailbox) {
		return refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "%s may not create mailboxes below %s's mailbox %d", actor, owner, parentID)
	}
	return nil
}

// mayDelete refuses, with FORBIDDEN, the deletion of mb by actor, another
// user (MailboxDeleted.actor), unless actor holds x on it (RFC 4314 §4).
func (t *txn) mayDelete(mb *evlog.MailboxRecord, actor string) error {
	if actor == "" || actor == mb.GetAddress() {
		return nil
	}
	entries, err := t.aclEntries(mb.GetId())
	if err != nil {
		return err
	}
	if !acl.Evaluate(mb.GetAddress(), actor, entries).Has(acl.DeleteMailbox) {
		return refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "%s may not delete %s's %q", actor, mb.GetAddress(), mb.GetName())
	}
	return nil
}

// inheritACL gives mb, just created below parentID, its parent's ACL, as
// Dovecot's ACL plugin does: a folder made inside a shared one is shared
// alike, whoever made it.
func (t *txn) inheritACL(parentID uint64, mb *evlog.MailboxRecord) error {
	entries, err := t.aclEntries(parentID)
	if err != nil || len(entries) == 0 {
		return err
	}
	for _, x := range entries {
		if err := t.put(aclKey(mb.GetId(), x.Identifier), []byte(x.Rights.String())); err != nil {
			return err
		}
		if err := t.put(aclByIdentifierKey(x.Identifier, mb.GetId()), nil); err != nil {
			return err
		}
	}
	t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Mailbox: mb.GetName(), Address: mb.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: ACLChanged})
	return nil
}
