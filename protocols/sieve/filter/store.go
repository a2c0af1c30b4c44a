package filter

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// StoreState is Scripts, Forwarding, Records and Mailboxes over a node's
// store: what this node has applied, which may lag the leader by an
// entry (apply decides what must be exact: a vacation reply is queued
// once per period whatever a read said).
type StoreState struct{ Store *mailbox.Store }

var (
	_ Scripts    = StoreState{}
	_ Forwarding = StoreState{}
	_ Records    = StoreState{}
	_ Mailboxes  = StoreState{}
)

// ActiveScript implements Scripts.
func (s StoreState) ActiveScript(ctx context.Context, owner string) (string, []byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, false, err
	}
	sc, err := s.Store.ActiveSieveScript(owner)
	if errors.Is(err, mailbox.ErrNotFound) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	return sc.Name, sc.Source, true, nil
}

// Script implements Scripts.
func (s StoreState) Script(ctx context.Context, owner, name string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	sc, err := s.Store.SieveScriptNamed(owner, name)
	if errors.Is(err, mailbox.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return sc.Source, true, nil
}

// Forwarding implements Forwarding.
func (s StoreState) Forwarding(ctx context.Context, user string) ([]string, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	f, ok, err := s.Store.ForwardingOf(user)
	if err != nil || !ok {
		return nil, false, err
	}
	return f.Addresses, f.Keep, nil
}

// VacationReplied implements Records.
func (s StoreState) VacationReplied(user, handle, sender string, now time.Time) (bool, error) {
	return s.Store.VacationRunning(user, handle, sender, now)
}

// DuplicateSeen implements Records.
func (s StoreState) DuplicateSeen(user string, id []byte, now time.Time) (bool, error) {
	return s.Store.DuplicateSeen(user, id, now)
}

// MailboxExists implements Mailboxes. A name in the "Other Users"
// namespace, or in "Shared" when the user's domain has public folders
// (and the user is not their account), exists for the user when its
// owner's mailbox does and the user holds p on it (RFC 4314): the right
// fileinto needs there (mailbox.Recipient.shared_owner), so that a test
// that says yes is a filing that lands (RFC 5490 §3.1 would also count
// i).
func (s StoreState) MailboxExists(user, name string) (bool, error) {
	_, domain, _ := strings.Cut(user, "@")
	var pub string
	if acl.IsPublic(name) {
		var err error
		if pub, err = s.Store.PublicFolders(domain); err != nil {
			return false, err
		}
		if pub == user {
			pub = ""
		}
	}
	if owner, shared, ok := acl.SplitNamespaced(name, domain, pub); ok {
		m, err := s.Store.SharedMailboxByName(user, owner, shared)
		if errors.Is(err, mailbox.ErrNotFound) {
			return false, nil
		}
		return err == nil && m.Rights.Has(acl.Post), err
	}
	_, err := s.Store.MailboxByName(user, name)
	if errors.Is(err, mailbox.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Addresses implements Mailboxes: the user's aliases.
func (s StoreState) Addresses(user string) ([]string, error) { return s.Store.Aliases(user) }
