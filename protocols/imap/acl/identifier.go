package acl

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Special identifiers (RFC 4314 §2; "authenticated" is Dovecot's and
// Cyrus's). Every Surat session is authenticated, so both match any user.
const (
	Anyone        = "anyone"
	Authenticated = "authenticated"
)

// MaxIdentifierLen bounds an identifier (an address is at most 254
// octets, RFC 5321 §4.5.3.1.3, plus the "-" of a negative one).
const MaxIdentifierLen = 256

// ErrBadIdentifier: not "anyone", "authenticated" or an address, with or
// without a leading "-".
var ErrBadIdentifier = errors.New("acl: not a valid identifier")

// Entry is one identifier's rights in a mailbox's ACL. Identifier is
// canonical (CanonicalIdentifier); it starts with "-" for negative
// rights, which are taken away from what the others grant (RFC 4314 §2).
type Entry struct {
	Identifier string
	Rights     Rights
}

// Negative reports whether the identifier names negative rights, and the
// identifier they apply to.
func Negative(identifier string) (name string, negative bool) {
	if n, ok := strings.CutPrefix(identifier, "-"); ok {
		return n, true
	}
	return identifier, false
}

// CanonicalIdentifier checks an identifier and returns its stored form:
// "anyone" and "authenticated" in lower case, an address lower-cased
// (Surat's addresses are canonical in lower case), each with a leading
// "-" kept for negative rights. Addresses are checked for shape only
// (local@domain, no space, control character or NUL); whether the user
// exists is apply's question.
func CanonicalIdentifier(identifier string) (string, error) {
	name, neg := Negative(identifier)
	prefix := ""
	if neg {
		prefix = "-"
	}
	lower := strings.ToLower(name)
	switch lower {
	case Anyone, Authenticated:
		return prefix + lower, nil
	}
	// Not UTF-8: ToLower would replace each bad octet with U+FFFD (three
	// octets), so the result could pass MaxIdentifierLen and would not be
	// its own canonical form.
	if len(lower) > MaxIdentifierLen || !utf8.ValidString(identifier) || !looksLikeAddress(lower) {
		return "", fmt.Errorf("%w: %q", ErrBadIdentifier, identifier)
	}
	return prefix + lower, nil
}

func looksLikeAddress(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.HasPrefix(s, "-") {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '"' || r == '/' || r == '\\'
	})
}

// IsAddress reports whether a canonical identifier (without its "-")
// names a user rather than "anyone" or "authenticated".
func IsAddress(identifier string) bool {
	name, _ := Negative(identifier)
	return name != Anyone && name != Authenticated
}

// matches reports whether an identifier (without "-") covers user.
func matches(name, user string) bool {
	return name == Anyone || name == Authenticated || name == user
}

// Evaluate is the rights user holds on a mailbox owned by owner whose
// ACL is entries (RFC 4314 §2): the owner holds All; anyone else the
// union of the positive rights of the identifiers that match them (their
// address, "anyone", "authenticated"), less the union of the negative
// rights of those that match.
func Evaluate(owner, user string, entries []Entry) Rights {
	if user == owner {
		return All
	}
	var grant, deny Rights
	for _, e := range entries {
		name, neg := Negative(e.Identifier)
		if !matches(name, user) {
			continue
		}
		if neg {
			deny |= e.Rights
		} else {
			grant |= e.Rights
		}
	}
	return grant &^ deny
}

// ListRights is LISTRIGHTS' answer for identifier on a mailbox owned by
// owner (RFC 4314 §3.4): the rights always granted, then the groups that
// may be granted independently. The owner always has all rights;
// anyone else none by default, and each right on its own (with the
// obsolete c and d, as Dovecot lists them).
func ListRights(owner, identifier string) (required Rights, optional []string) {
	if identifier == owner {
		return All, nil
	}
	for i := range len(letters) {
		optional = append(optional, letters[i:i+1])
	}
	return None, append(optional, "c", "d")
}

// Sort orders entries by identifier, positive before negative, for
// answers that do not depend on storage order.
func Sort(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int {
		an, aneg := Negative(a.Identifier)
		bn, bneg := Negative(b.Identifier)
		if aneg != bneg {
			if aneg {
				return 1
			}
			return -1
		}
		return strings.Compare(an, bn)
	})
}
