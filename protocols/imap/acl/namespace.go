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

// The public namespace (RFC 2342 §5, "Shared" there): a domain's public
// folders are the mailboxes of one account its administrator names
// (DomainSettingsChanged.public_folders), shown to the domain's other
// users as PublicPrefix + the mailbox's name in that account, as
// Dovecot's public namespace "Shared/". Only a user whose domain has
// public folders has the namespace: for others a name under the prefix is
// an ordinary personal name.
const PublicPrefix = "Shared/"

// PublicName is the name a user sees for the public account's mailbox
// name.
func PublicName(name string) string { return PublicPrefix + name }

// SplitPublic returns the public account's mailbox name under the public
// namespace's name. The prefix is matched case-insensitively (a Sieve
// script's spelling); ok is false for a name not under it or with nothing
// after it.
func SplitPublic(name string) (mailbox string, ok bool) {
	if len(name) <= len(PublicPrefix) || !strings.EqualFold(name[:len(PublicPrefix)], PublicPrefix) {
		return "", false
	}
	return name[len(PublicPrefix):], true
}

// IsPublic reports whether name is the public namespace's prefix itself
// (without its delimiter) or lies under it: LIST's "Shared" level, and
// the names CREATE and RENAME refuse when the namespace exists.
func IsPublic(name string) bool {
	p := PublicPrefix[:len(PublicPrefix)-1]
	return strings.EqualFold(name, p) ||
		len(name) >= len(PublicPrefix) && strings.EqualFold(name[:len(PublicPrefix)], PublicPrefix)
}

// SplitNamespaced resolves a name in either shared namespace into the
// owner of the mailbox and its name in the owner's namespace: under
// "Other Users/" with SplitShared, under "Shared/" as publicAccount's
// (the user's domain's public folders; "" when it has none, and then the
// name is not namespaced). What Sieve's fileinto and IMAP both use.
func SplitNamespaced(name, domain, publicAccount string) (owner, mailbox string, ok bool) {
	if owner, mailbox, ok = SplitShared(name, domain); ok {
		return owner, mailbox, true
	}
	if publicAccount == "" {
		return "", "", false
	}
	if mailbox, ok = SplitPublic(name); !ok {
		return "", "", false
	}
	return publicAccount, mailbox, true
}
