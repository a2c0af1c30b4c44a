package acl

import "strings"

// The "Other Users" namespace (RFC 2342 §5): a mailbox another user
// shared is named OtherUsersPrefix + owner's address + "/" + its name in
// the owner's namespace, with "/" as the hierarchy delimiter, as
// Dovecot's "shared/%u/". protocols/imap announces it in NAMESPACE and
// resolves names under it; Sieve's fileinto files into such a name when
// the recipient has the p right (mailbox/, Recipient.shared_owner).
const (
	OtherUsersPrefix = "Other Users/"
	Delimiter        = '/'
)

// SharedName is the name user sees for owner's mailbox name.
func SharedName(owner, name string) string {
	return OtherUsersPrefix + owner + string(Delimiter) + name
}

// SplitShared splits a name under the "Other Users" namespace into the
// owner and the mailbox's name in the owner's namespace. The prefix is
// matched case-insensitively (a Sieve script's spelling) and the owner
// lower-cased; an owner without "@" is taken in domain (the user's own,
// as Dovecot's %n when both share a domain). ok is false for a name not
// under the prefix, with no mailbox part, or whose owner is not shaped
// like an address.
func SplitShared(name, domain string) (owner, mailbox string, ok bool) {
	if len(name) < len(OtherUsersPrefix) || !strings.EqualFold(name[:len(OtherUsersPrefix)], OtherUsersPrefix) {
		return "", "", false
	}
	owner, mailbox, ok = strings.Cut(name[len(OtherUsersPrefix):], string(Delimiter))
	if !ok || owner == "" || mailbox == "" {
		return "", "", false
	}
	owner = strings.ToLower(owner)
	if !strings.Contains(owner, "@") {
		if domain == "" {
			return "", "", false
		}
		owner += "@" + strings.ToLower(domain)
	}
	if !looksLikeAddress(owner) {
		return "", "", false
	}
	return owner, mailbox, true
}

// IsOtherUsers reports whether name is the namespace's prefix itself
// (without its delimiter) or lies under it: LIST's "Other Users" level,
// and the names CREATE must refuse in the personal namespace.
func IsOtherUsers(name string) bool {
	p := OtherUsersPrefix[:len(OtherUsersPrefix)-1]
	return strings.EqualFold(name, p) ||
		len(name) >= len(OtherUsersPrefix) && strings.EqualFold(name[:len(OtherUsersPrefix)], OtherUsersPrefix)
}
