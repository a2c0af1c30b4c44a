package mailbox

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// ACL returns a mailbox's owner and access control list (RFC 4314 §3.3
// GETACL), sorted with acl.Sort; the owner's own rights (all of them)
// are implicit and not in it. ErrNotFound when the mailbox does not
// exist. Reads only.
func (s *Store) ACL(mailboxID uint64) (owner string, entries []acl.Entry, err error) {
	err = s.view(func(r reader) error {
		mb := new(evlog.MailboxRecord)
		if err := readRecord(r, mailboxKey(mailboxID), mb); err != nil {
			return err
		}
		owner = mb.GetAddress()
		entries, err = readACL(r, mailboxID)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	acl.Sort(entries)
	return owner, entries, nil
}

func readACL(r reader, mailboxID uint64) ([]acl.Entry, error) {
	var out []acl.Entry
	p := aclPrefix(mailboxID)
	err := scanRange(r, p, prefixEnd(p), func(k, v []byte) (bool, error) {
		e, err := decodeACLEntry(p, k, v)
		if err != nil {
			return false, err
		}
		out = append(out, e)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: read the ACL of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// Rights returns the rights user holds on a mailbox (RFC 4314 §3.5
// MYRIGHTS; acl.Evaluate): all of them for its owner. ErrNotFound when
// the mailbox does not exist. Reads only.
func (s *Store) Rights(user string, mailboxID uint64) (acl.Rights, error) {
	var rights acl.Rights
	err := s.view(func(r reader) error {
		mb := new(evlog.MailboxRecord)
		if err := readRecord(r, mailboxKey(mailboxID), mb); err != nil {
			return err
		}
		entries, err := readACL(r, mailboxID)
		rights = acl.Evaluate(mb.GetAddress(), user, entries)
		return err
	})
	return rights, err
}

// SharedMailbox is a mailbox another user shared, as one user sees it.
type SharedMailbox struct {
	Owner   string               // the owner's address: the name's second level under acl.OtherUsersPrefix
	Mailbox *evlog.MailboxRecord // its name is the owner's
	Rights  acl.Rights           // what the user may do (never None)
}

// Name is the mailbox's name in the user's "Other Users" namespace.
func (m SharedMailbox) Name() string { return acl.SharedName(m.Owner, m.Mailbox.GetName()) }

// SharedWith lists the mailboxes other users shared with user that user
// may see (the l right, RFC 4314 §4 LIST), sorted by owner then name:
// what LIST shows under the "Other Users" namespace. It reads the ACL
// index for user, "anyone" and "authenticated" (a few short range scans)
// and, for each mailbox found, its record and ACL, in ONE consistent
// view: cheap enough for every LIST. Reads only.
func (s *Store) SharedWith(user string) ([]SharedMailbox, error) {
	var out []SharedMailbox
	err := s.view(func(r reader) error {
		var ids []uint64
		for _, ident := range []string{user, acl.Anyone, acl.Authenticated} {
			p := aclByIdentifierPrefix(ident)
			err := scanRange(r, p, prefixEnd(p), func(k, _ []byte) (bool, error) {
				id, err := parseACLByIdentifierKey(ident, k)
				ids = append(ids, id)
				return err == nil, err
			})
			if err != nil {
				return fmt.Errorf("mailbox: mailboxes shared with %s: %w", user, err)
			}
		}
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			m, err := readShared(r, user, id)
			if err != nil {
				return err
			}
			if m.Rights.Has(acl.Lookup) && m.Owner != user {
				out = append(out, m)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b SharedMailbox) int {
		return cmp.Or(cmp.Compare(a.Owner, b.Owner), cmp.Compare(a.Mailbox.GetName(), b.Mailbox.GetName()))
	})
	return out, err
}

func readShared(r reader, user string, id uint64) (SharedMailbox, error) {
	mb := new(evlog.MailboxRecord)
	if err := readRecord(r, mailboxKey(id), mb); err != nil {
		return SharedMailbox{}, fmt.Errorf("mailbox: shared mailbox %d: %w", id, err)
	}
	entries, err := readACL(r, id)
	if err != nil {
		return SharedMailbox{}, err
	}
	return SharedMailbox{Owner: mb.GetAddress(), Mailbox: mb, Rights: acl.Evaluate(mb.GetAddress(), user, entries)}, nil
}

// SharedMailboxByName resolves owner's mailbox name for user (SELECT,
// STATUS, APPEND... of a name under the "Other Users" namespace, split
// with acl.SplitShared): the mailbox with user's rights on it, or
// ErrNotFound when it does not exist or user holds no right at all on it
// (RFC 4314 §4: a mailbox without l is answered as if it did not exist,
// unless another right reveals it; which command needs which right is
// the caller's to check). Reads only.
func (s *Store) SharedMailboxByName(user, owner, name string) (SharedMailbox, error) {
	canon, err := canonicalMailboxName(name)
	if err != nil {
		return SharedMailbox{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	var m SharedMailbox
	err = s.view(func(r reader) error {
		v, ok, err := readValue(r, mailboxByNameKey(owner, canon))
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		m, err = readShared(r, user, decodeMailboxID(v))
		return err
	})
	if err != nil {
		return SharedMailbox{}, err
	}
	if m.Rights == acl.None {
		return SharedMailbox{}, ErrNotFound
	}
	return m, nil
}

// SaveDate is a message's save date (RFC 8514 SAVEDATE) in Unix seconds:
// when it entered its mailbox, or its internal date when the event that
// put it there did not say (deliveries, whose internal date is their
// arrival, and entries from before the field).
func SaveDate(m *evlog.MessageRecord) int64 {
	if m.GetSavedUnix() != 0 {
		return m.GetSavedUnix()
	}
	return m.GetInternalDateUnix()
}

// PublicFolders returns the account whose mailboxes are domain's public
// folders (DomainSettingsChanged.public_folders; IMAP's "Shared/"
// namespace, Sieve's fileinto "Shared/..."), "" when the domain has none,
// is not local, or the account no longer exists (a deleted account leaves
// the setting in place, as a catch-all's does, and it is ignored here).
// Two point reads.
func (s *Store) PublicFolders(domain string) (string, error) {
	var account string
	err := s.point(func(r getter) error {
		rec := new(evlog.DomainRecord)
		switch err := readRecord(r, domainKey(domain), rec); {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		a := rec.GetPublicFolders()
		if a == "" {
			return nil
		}
		_, ok, err := readValue(r, userKey(a))
		if ok {
			account = a
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("mailbox: public folders of %s: %w", domain, err)
	}
	return account, nil
}
