package mailbox

import (
	"encoding/binary"
	"fmt"
	"strings"

	evlog "github.com/surat-mail/surat/log"
)

func decodeMailboxID(v []byte) uint64 {
	if len(v) != mailboxIDLen {
		return 0 // no mailbox has id 0, so loading it fails loudly
	}
	return binary.BigEndian.Uint64(v)
}

// loadMailbox returns the mailbox, or a NO_SUCH_MAILBOX refusal.
func (t *txn) loadMailbox(id uint64) (*evlog.MailboxRecord, error) {
	mb := new(evlog.MailboxRecord)
	ok, err := t.getRecord(mailboxKey(id), mb)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, "mailbox id %d", id)
	}
	return mb, nil
}

func (t *txn) saveMailbox(mb *evlog.MailboxRecord) error {
	return t.putRecord(mailboxKey(mb.GetId()), mb)
}

// mailboxIDByName looks a canonical name up among the user's mailboxes.
func (t *txn) mailboxIDByName(address, name string) (uint64, bool, error) {
	v, ok, err := t.get(mailboxByNameKey(address, name))
	if err != nil || !ok {
		return 0, false, err
	}
	return decodeMailboxID(v), true, nil
}

// counter reads a counter stored as a big-endian integer of width bytes.
func (t *txn) counter(name string) (uint64, error) {
	v, ok, err := t.get(counterKey(name))
	if err != nil || !ok {
		return 0, err
	}
	switch len(v) {
	case 4:
		return uint64(binary.BigEndian.Uint32(v)), nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("counter %s of %d bytes", name, len(v))
}

// nextUIDValidity returns max(hint, last+1) and stores it: UIDVALIDITY
// never repeats and never decreases on this store (RFC 9051 §2.3.1.1).
func (t *txn) nextUIDValidity(hint uint32) (uint32, error) {
	last, err := t.counter(counterUIDValidity)
	if err != nil {
		return 0, err
	}
	if last >= uint64(^uint32(0)) {
		return 0, refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "UIDVALIDITY values exhausted")
	}
	v := max(uint32(last)+1, hint)
	return v, t.put(counterKey(counterUIDValidity), binary.BigEndian.AppendUint32(nil, v))
}

// newMailbox creates a mailbox under a canonical name the caller checked
// is free.
func (t *txn) newMailbox(address, name, specialUse string, hint uint32) (*evlog.MailboxRecord, error) {
	last, err := t.counter(counterMailboxID)
	if err != nil {
		return nil, err
	}
	id := last + 1
	if err := t.put(counterKey(counterMailboxID), binary.BigEndian.AppendUint64(nil, id)); err != nil {
		return nil, err
	}
	uv, err := t.nextUIDValidity(hint)
	if err != nil {
		return nil, err
	}
	mb := &evlog.MailboxRecord{
		Id: id, Address: address, Name: name, SpecialUse: specialUse,
		UidValidity: uv, UidNext: 1, HighestModseq: 1,
		ExpungeHorizon: 1, // nothing expunged yet: the history is whole
	}
	if err := t.saveMailbox(mb); err != nil {
		return nil, err
	}
	if err := t.put(mailboxByNameKey(address, name), binary.BigEndian.AppendUint64(nil, id)); err != nil {
		return nil, err
	}
	t.changes.add(Change{Index: t.index, MailboxID: id, Address: address, ModSeq: 1, Kind: MailboxCreated})
	return mb, nil
}

// ensureParents creates the missing superiors of a hierarchical name
// (RFC 9051 §6.3.4 and §6.3.6: the server SHOULD create them).
func (t *txn) ensureParents(address, name string, hint uint32) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		parent := name[:i]
		_, ok, err := t.mailboxIDByName(address, parent)
		if err != nil {
			return err
		}
		if !ok {
			if _, err := t.newMailbox(address, parent, "", hint); err != nil {
				return err
			}
		}
	}
	return nil
}

// parentOf is the id of the mailbox directly above name in address's
// mailboxes, and whether it exists (a top-level name has none).
func (t *txn) parentOf(address, name string) (uint64, bool, error) {
	i := strings.LastIndexByte(name, '/')
	if i <= 0 {
		return 0, false, nil
	}
	return t.mailboxIDByName(address, name[:i])
}

func (t *txn) mailboxCreated(e *evlog.MailboxCreated) (*evlog.EventResult, error) {
	u, err := t.loadUser(e.GetAddress())
	if err != nil {
		return nil, err
	}
	name, err := canonicalMailboxName(e.GetName())
	if err != nil {
		return nil, err
	}
	use, err := canonicalSpecialUse(e.GetSpecialUse())
	if err != nil {
		return nil, err
	}
	if _, ok, err := t.mailboxIDByName(u.GetAddress(), name); err != nil {
		return nil, err
	} else if ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_MAILBOX_EXISTS, "mailbox %q", name)
	}
	if err := checkNameDepth(name, e.GetMaxNameDepth()); err != nil {
		return nil, err
	}
	// The parent as it is before this event: its ACL passes to the new
	// mailbox (apply_acl.go), and another user needs k on it.
	parentID, parentExists, err := t.parentOf(u.GetAddress(), name)
	if err != nil {
		return nil, err
	}
	if err := t.mayCreateBelow(u.GetAddress(), e.GetActor(), name, parentID, parentExists); err != nil { // apply_acl.go
		return nil, err
	}
	if err := t.ensureParents(u.GetAddress(), name, e.GetUidValidityHint()); err != nil {
		return nil, err
	}
	mb, err := t.newMailbox(u.GetAddress(), name, use, e.GetUidValidityHint())
	if err != nil {
		return nil, err
	}
	if err := t.checkMailboxCount(u.GetAddress(), 0, e.GetMaxMailboxes()); err != nil {
		return nil, err
	}
	if parentExists {
		if err := t.inheritACL(parentID, mb); err != nil { // apply_acl.go
			return nil, err
		}
	}
	return &evlog.EventResult{MailboxId: mb.GetId(), UidValidity: mb.GetUidValidity(), Modseq: mb.GetHighestModseq()}, nil
}

// mailboxRenamed renames a mailbox and the mailboxes below it
// (RFC 9051 §6.3.6).
func (t *txn) mailboxRenamed(e *evlog.MailboxRenamed) (*evlog.EventResult, error) {
	mb, err := t.loadMailbox(e.GetMailboxId())
	if err != nil {
		return nil, err
	}
	newName, err := canonicalMailboxName(e.GetNewName())
	if err != nil {
		return nil, err
	}
	addr := mb.GetAddress()
	if _, ok, err := t.mailboxIDByName(addr, newName); err != nil {
		return nil, err
	} else if ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_MAILBOX_EXISTS, "mailbox %q", newName)
	}
	if actor := e.GetActor(); actor != "" && actor != addr {
		if mb.GetName() == inboxName {
			return nil, refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "%s may not rename %s's INBOX", actor, addr)
		}
		if err := t.mayDelete(mb, actor); err != nil { // x: the name goes (apply_acl.go)
			return nil, err
		}
		parentID, parentExists, err := t.parentOf(addr, newName)
		if err != nil {
			return nil, err
		}
		if err := t.mayCreateBelow(addr, actor, newName, parentID, parentExists); err != nil { // k: the new one comes
			return nil, err
		}
	}
	before, err := t.mailboxCount(addr, e.GetMaxMailboxes())
	if err != nil {
		return nil, err
	}
	if mb.GetName() == inboxName {
		if err := checkNameDepth(newName, e.GetMaxNameDepth()); err != nil {
			return nil, err
		}
		r, err := t.renameInbox(mb, newName, e.GetUidValidityHint())
		if err != nil {
			return nil, err
		}
		return r, t.checkMailboxCount(addr, before, e.GetMaxMailboxes())
	}
	oldName := mb.GetName()
	below := mailboxByNameKey(addr, oldName+"/")
	children, err := t.scan(below, prefixEnd(below))
	if err != nil {
		return nil, err
	}
	renamed := []*evlog.MailboxRecord{mb}
	for _, c := range children {
		child, err := t.loadMailbox(decodeMailboxID(c.value))
		if err != nil {
			return nil, err
		}
		renamed = append(renamed, child)
	}
	// Free every old name first: a name may pass from one renamed mailbox
	// to another (renaming "a" to "a/b" moves "a/c" to "a/b/c").
	for _, r := range renamed {
		if err := t.del(mailboxByNameKey(addr, r.GetName())); err != nil {
			return nil, err
		}
	}
	for _, r := range renamed {
		to, err := canonicalMailboxName(newName + strings.TrimPrefix(r.GetName(), oldName))
		if err != nil {
			return nil, err
		}
		if _, ok, err := t.mailboxIDByName(addr, to); err != nil {
			return nil, err
		} else if ok {
			return nil, refuse(evlog.ErrorCode_ERROR_CODE_MAILBOX_EXISTS, "mailbox %q (renaming %q)", to, r.GetName())
		}
		if err := checkNameDepth(to, e.GetMaxNameDepth()); err != nil {
			return nil, err
		}
		r.Name = to
		if err := t.put(mailboxByNameKey(addr, to), binary.BigEndian.AppendUint64(nil, r.GetId())); err != nil {
			return nil, err
		}
		if err := t.saveMailbox(r); err != nil {
			return nil, err
		}
		t.changes.add(Change{Index: t.index, MailboxID: r.GetId(), Address: addr, ModSeq: r.GetHighestModseq(), Kind: MailboxRenamed})
	}
	if err := t.ensureParents(addr, newName, e.GetUidValidityHint()); err != nil {
		return nil, err
	}
	if err := t.checkMailboxCount(addr, before, e.GetMaxMailboxes()); err != nil {
		return nil, err
	}
	return &evlog.EventResult{MailboxId: mb.GetId(), UidValidity: mb.GetUidValidity(), Modseq: mb.GetHighestModseq()}, nil
}

// renameInbox moves INBOX's messages into a new mailbox and leaves INBOX
// empty (RFC 9051 §6.3.6); see the package doc for the UID choices.
func (t *txn) renameInbox(inbox *evlog.MailboxRecord, newName string, hint uint32) (*evlog.EventResult, error) {
	addr := inbox.GetAddress()
	if err := t.ensureParents(addr, newName, hint); err != nil {
		return nil, err
	}
	nm, err := t.newMailbox(addr, newName, "", hint)
	if err != nil {
		return nil, err
	}
	msgs, err := t.scan(messagePrefix(inbox.GetId()), prefixEnd(messagePrefix(inbox.GetId())))
	if err != nil {
		return nil, err
	}
	nm.UidNext = inbox.GetUidNext()
	if len(msgs) > 0 {
		inboxModseq := t.bump(inbox)
		modseq := t.bump(nm)
		moved := make([]uint32, 0, len(msgs))
		for _, m := range msgs {
			uid, err := parseMessageKey(m.key)
			if err != nil {
				return nil, err
			}
			rec := new(evlog.MessageRecord)
			if err := evlog.UnmarshalRecord(m.value, rec); err != nil {
				return nil, fmt.Errorf("decode message %d/%d: %w", inbox.GetId(), uid, err)
			}
			rec.Modseq = modseq
			moved = append(moved, uid)
			if err := t.del(m.key); err != nil {
				return nil, err
			}
			if err := t.putRecord(messageKey(nm.GetId(), uid), rec); err != nil {
				return nil, err
			}
		}
		nm.Messages, nm.Size = inbox.GetMessages(), inbox.GetSize()
		inbox.Messages, inbox.Size = 0, 0
		// For INBOX's clients the moved messages were expunged (QRESYNC
		// reports them as VANISHED).
		if err := t.recordExpunges(inbox, moved); err != nil {
			return nil, err
		}
		t.changes.add(Change{Index: t.index, MailboxID: inbox.GetId(), Mailbox: inbox.GetName(), Address: addr, ModSeq: inboxModseq, Kind: MessagesExpunged})
		t.changes.add(Change{Index: t.index, MailboxID: nm.GetId(), Mailbox: nm.GetName(), Address: addr, ModSeq: modseq, Kind: MessagesAdded})
	}
	if err := t.saveMailbox(inbox); err != nil {
		return nil, err
	}
	if err := t.saveMailbox(nm); err != nil {
		return nil, err
	}
	return &evlog.EventResult{MailboxId: nm.GetId(), UidValidity: nm.GetUidValidity(), Modseq: nm.GetHighestModseq()}, nil
}

func (t *txn) mailboxDeleted(e *evlog.MailboxDeleted) (*evlog.EventResult, error) {
	mb, err := t.loadMailbox(e.GetMailboxId())
	if err != nil {
		return nil, err
	}
	// RFC 9051 §6.3.5: it is an error to attempt to delete INBOX.
	if mb.GetName() == inboxName {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "INBOX cannot be deleted")
	}
	if err := t.mayDelete(mb, e.GetActor()); err != nil { // apply_acl.go
		return nil, err
	}
	u, err := t.loadUser(mb.GetAddress())
	if err != nil {
		return nil, err
	}
	if err := t.deleteMailbox(mb, u); err != nil {
		return nil, err
	}
	return &evlog.EventResult{MailboxId: mb.GetId()}, t.putRecord(userKey(u.GetAddress()), u)
}

// deleteMailbox removes a mailbox and its messages, dereferencing their
// bodies and taking their sizes off u (which the caller saves). Mailboxes
// below it stay.
func (t *txn) deleteMailbox(mb *evlog.MailboxRecord, u *evlog.UserRecord) error {
	msgs, err := t.scan(messagePrefix(mb.GetId()), prefixEnd(messagePrefix(mb.GetId())))
	if err != nil {
		return err
	}
	for _, m := range msgs {
		rec := new(evlog.MessageRecord)
		if err := evlog.UnmarshalRecord(m.value, rec); err != nil {
			return fmt.Errorf("decode message %q: %w", m.key, err)
		}
		if err := t.derefBlob(rec.GetBlob()); err != nil {
			return err
		}
		if err := subtractUsage(u, rec.GetSize()); err != nil {
			return err
		}
		if err := t.del(m.key); err != nil {
			return err
		}
	}
	if err := t.del(mailboxKey(mb.GetId())); err != nil {
		return err
	}
	if err := t.deleteExpunges(mb.GetId()); err != nil {
		return err
	}
	if err := t.dropMailboxSharing(mb); err != nil { // apply_acl.go
		return err
	}
	t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Address: mb.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: MailboxDeleted})
	return t.del(mailboxByNameKey(mb.GetAddress(), mb.GetName()))
}

// subscribed edits the subscription list; a name may be subscribed whether
// or not a mailbox has it (RFC 9051 §6.3.7).
func (t *txn) subscribed(e *evlog.Subscribed) (*evlog.EventResult, error) {
	u, err := t.loadUser(e.GetAddress())
	if err != nil {
		return nil, err
	}
	name, err := canonicalMailboxName(e.GetName())
	if err != nil {
		return nil, err
	}
	key := subscriptionKey(u.GetAddress(), name)
	t.changes.add(Change{Index: t.index, Address: u.GetAddress(), Kind: SubscriptionsChanged})
	if e.GetSubscribed() {
		if err := t.checkSubscriptionCount(u.GetAddress(), key, e.GetMaxSubscriptions()); err != nil {
			return nil, err
		}
		return nil, t.put(key, nil)
	}
	return nil, t.del(key)
}

// ---------------------------------------------------------------- limits

// The limits on a user's mailboxes travel in MailboxCreated and
// MailboxRenamed, stamped by the proposer from its configuration (0: none),
// so that every node refuses alike whatever its own flags say and entries
// written before the limits existed apply as they always did. A refusal
// (MAILBOX_LIMIT) drops the whole event, parents it created included.

var errMailboxLimit = evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT

// checkNameDepth refuses a canonical name with more than limit hierarchy
// levels ("a/b/c" has 3).
func checkNameDepth(name string, limit uint32) error {
	if d := strings.Count(name, "/") + 1; limit > 0 && d > int(limit) {
		return refuse(errMailboxLimit, "mailbox name %q has %d hierarchy levels, more than the limit of %d", name, d, limit)
	}
	return nil
}

// mailboxCount counts the user's mailboxes as this proposal sees them; with
// no limit it counts nothing and returns 0.
func (t *txn) mailboxCount(address string, limit uint32) (n uint64, err error) {
	if limit == 0 {
		return 0, nil
	}
	p := mailboxByNamePrefix(address)
	err = scanRange(t.b, p, prefixEnd(p), func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// checkMailboxCount refuses an event that left the user with more than
// limit mailboxes and more than before: a user already past a limit lowered
// since may still rename, which creates no mailbox.
func (t *txn) checkMailboxCount(address string, before uint64, limit uint32) error {
	n, err := t.mailboxCount(address, limit)
	if err != nil {
		return err
	}
	if limit > 0 && n > uint64(limit) && n > before {
		return refuse(errMailboxLimit, "%s would have %d mailboxes, more than the limit of %d", address, n, limit)
	}
	return nil
}

// checkSubscriptionCount refuses a new subscription past limit (names need
// not exist, RFC 9051 §6.3.7, so the mailbox count does not bound them);
// subscribing a name again adds nothing and passes.
func (t *txn) checkSubscriptionCount(address string, key []byte, limit uint32) error {
	if limit == 0 {
		return nil
	}
	if ok, err := t.has(key); err != nil || ok {
		return err
	}
	var n uint64
	p := subscriptionPrefix(address)
	if err := scanRange(t.b, p, prefixEnd(p), func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	}); err != nil {
		return err
	}
	if n >= uint64(limit) {
		return refuse(errMailboxLimit, "%s has %d subscriptions, the limit", address, n)
	}
	return nil
}
