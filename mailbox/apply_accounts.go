package mailbox

import (
	"bytes"

	evlog "github.com/surat-mail/surat/log"
)

// defaultMailboxes are created with every user: INBOX and the RFC 6154
// special-use mailboxes, all subscribed.
var defaultMailboxes = []struct{ name, specialUse string }{
	{inboxName, ""},
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

// loadUser returns the user, or a NO_SUCH_USER refusal.
func (t *txn) loadUser(address string) (*evlog.UserRecord, error) {
	if err := checkAddress("user", address); err != nil {
		return nil, err
	}
	u := new(evlog.UserRecord)
	ok, err := t.getRecord(userKey(address), u)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, "user %q", address)
	}
	return u, nil
}

// addressTaken reports whether a user or an alias has the address.
func (t *txn) addressTaken(address string) (bool, error) {
	ok, err := t.has(userKey(address))
	if err != nil || ok {
		return ok, err
	}
	return t.has(aliasKey(address))
}

func (t *txn) userCreated(e *evlog.UserCreated) (*evlog.EventResult, error) {
	addr := e.GetAddress()
	if err := checkAddress("user", addr); err != nil {
		return nil, err
	}
	taken, err := t.addressTaken(addr)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_USER_EXISTS, "address %q is a user or an alias", addr)
	}
	u := &evlog.UserRecord{Address: addr, PasswordHash: e.GetPasswordHash(), CreatedUnix: e.GetCreatedUnix(),
		CredentialIndex: t.index, UsedMessagesKnown: true}
	if err := t.putRecord(userKey(addr), u); err != nil {
		return nil, err
	}
	hint := uidValidityHint(e.GetCreatedUnix())
	var inbox *evlog.MailboxRecord
	for _, d := range defaultMailboxes {
		mb, err := t.newMailbox(addr, d.name, d.specialUse, hint)
		if err != nil {
			return nil, err
		}
		if inbox == nil {
			inbox = mb
		}
		if err := t.put(subscriptionKey(addr, d.name), nil); err != nil {
			return nil, err
		}
	}
	t.changes.add(Change{Index: t.index, Address: addr, Kind: UserChanged})
	return &evlog.EventResult{MailboxId: inbox.GetId(), UidValidity: inbox.GetUidValidity()}, nil
}

// uidValidityHint turns a proposer's clock into a UIDVALIDITY hint.
func uidValidityHint(unix int64) uint32 {
	switch {
	case unix <= 0:
		return 1
	case unix > int64(^uint32(0)):
		return ^uint32(0)
	}
	return uint32(unix)
}

func (t *txn) passwordChanged(e *evlog.PasswordChanged) (*evlog.EventResult, error) {
	u, err := t.loadUser(e.GetAddress())
	if err != nil {
		return nil, err
	}
	u.PasswordHash = e.GetPasswordHash()
	u.CredentialIndex = t.index // revokes the sessions bound to the old one
	t.changes.add(Change{Index: t.index, Address: u.GetAddress(), Kind: UserChanged})
	return nil, t.putRecord(userKey(u.GetAddress()), u)
}

func (t *txn) userDeleted(e *evlog.UserDeleted) (*evlog.EventResult, error) {
	u, err := t.loadUser(e.GetAddress())
	if err != nil {
		return nil, err
	}
	addr := u.GetAddress()
	names, err := t.scan(mailboxByNamePrefix(addr), prefixEnd(mailboxByNamePrefix(addr)))
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		mb, err := t.loadMailbox(decodeMailboxID(n.value))
		if err != nil {
			return nil, err
		}
		// The user record goes too, so usage need not be kept.
		if err := t.deleteMailbox(mb, u); err != nil {
			return nil, err
		}
	}
	if err := t.deletePrefix(subscriptionPrefix(addr)); err != nil {
		return nil, err
	}
	if err := t.deleteSpamModel(addr); err != nil {
		return nil, err
	}
	if err := t.deleteSieveState(addr); err != nil {
		return nil, err
	}
	if err := t.dropUserSharing(addr); err != nil { // apply_acl.go
		return nil, err
	}
	aliases, err := t.scan(aliasByTargetPrefix(addr), prefixEnd(aliasByTargetPrefix(addr)))
	if err != nil {
		return nil, err
	}
	for _, a := range aliases {
		alias := string(bytes.TrimPrefix(a.key, aliasByTargetPrefix(addr)))
		if err := t.del(aliasKey(alias)); err != nil {
			return nil, err
		}
		if err := t.del(a.key); err != nil {
			return nil, err
		}
	}
	t.changes.add(Change{Index: t.index, Address: addr, Kind: UserChanged})
	return nil, t.del(userKey(addr))
}

// deletePrefix deletes every key starting with p.
func (t *txn) deletePrefix(p []byte) error {
	entries, err := t.scan(p, prefixEnd(p))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := t.del(e.key); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) aliasAdded(e *evlog.AliasAdded) (*evlog.EventResult, error) {
	alias, target := e.GetAlias(), e.GetTarget()
	if err := checkAddress("alias", alias); err != nil {
		return nil, err
	}
	taken, err := t.addressTaken(alias)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_ALIAS_EXISTS, "address %q is a user or an alias", alias)
	}
	if _, err := t.loadUser(target); err != nil {
		return nil, err
	}
	if err := t.put(aliasKey(alias), []byte(target)); err != nil {
		return nil, err
	}
	t.changes.add(Change{Index: t.index, Address: target, Kind: UserChanged})
	return nil, t.put(aliasByTargetKey(target, alias), nil)
}

func (t *txn) aliasRemoved(e *evlog.AliasRemoved) (*evlog.EventResult, error) {
	alias := e.GetAlias()
	if err := checkAddress("alias", alias); err != nil {
		return nil, err
	}
	target, ok, err := t.get(aliasKey(alias))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_ALIAS, "alias %q", alias)
	}
	if err := t.del(aliasKey(alias)); err != nil {
		return nil, err
	}
	t.changes.add(Change{Index: t.index, Address: string(target), Kind: UserChanged})
	return nil, t.del(aliasByTargetKey(string(target), alias))
}
