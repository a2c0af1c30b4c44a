package acl

import (
	"errors"
	"fmt"
	"strings"
)

// Rights is a set of RFC 4314 §2.1 rights.
type Rights uint16

// The rights of RFC 4314 §2.1, in the order the RFC lists them.
const (
	Lookup        Rights = 1 << iota // l: the mailbox is visible to LIST, SUBSCRIBE
	Read                             // r: SELECT, EXAMINE, STATUS, FETCH, SEARCH, COPY from
	Seen                             // s: keep \Seen (STORE, APPEND, COPY into; a body FETCH sets it)
	Write                            // w: other flags and keywords (not \Seen, \Deleted)
	Insert                           // i: APPEND, COPY and MOVE into
	Post                             // p: deliver into (Sieve fileinto, LMTP); not IMAP
	CreateMailbox                    // k: CREATE below, RENAME to below
	DeleteMailbox                    // x: DELETE, RENAME away
	DeleteMessage                    // t: set or clear \Deleted
	Expunge                          // e: EXPUNGE, and MOVE away with t
	Admin                            // a: SETACL, DELETEACL, GETACL, LISTRIGHTS
)

// None and All are the empty and the full set.
const (
	None Rights = 0
	All  Rights = Lookup | Read | Seen | Write | Insert | Post | CreateMailbox | DeleteMailbox | DeleteMessage | Expunge | Admin
)

// letters are the rights in canonical order: String writes them so.
const letters = "lrswipkxtea"

// obsoleteCreate and obsoleteDelete are RFC 2086's c and d as RFC 4314
// §2.1.1 lets a server map them (its second group, as Dovecot does):
// c is k; d is x, t and e.
const (
	obsoleteCreate = CreateMailbox
	obsoleteDelete = DeleteMailbox | DeleteMessage | Expunge
)

// ErrUnknownRight: a rights string holds a letter RFC 4314 does not
// define; SETACL answers BAD (§3.1: "MUST NOT silently ignore").
var ErrUnknownRight = errors.New("acl: unknown right")

// Has reports whether every right of x is in r.
func (r Rights) Has(x Rights) bool { return r&x == x }

// String is r in canonical order ("lrswipkxtea"), the form stored in
// AclSet records; "" for none.
func (r Rights) String() string {
	var b strings.Builder
	for i := range len(letters) {
		if r&(1<<i) != 0 {
			b.WriteByte(letters[i])
		}
	}
	return b.String()
}

// Format is r as GETACL, MYRIGHTS and LISTRIGHTS answer it: String, then
// the obsolete "c" when k is held and "d" when x, t and e all are, for
// RFC 2086 clients (RFC 4314 §2.1.1).
func (r Rights) Format() string {
	s := r.String()
	if r.Has(obsoleteCreate) {
		s += "c"
	}
	if r.Has(obsoleteDelete) {
		s += "d"
	}
	return s
}

// Parse reads a rights string without modifier: RFC 4314 letters in any
// order and repeated, c and d as §2.1.1 maps them. An unknown letter is
// ErrUnknownRight.
func Parse(s string) (Rights, error) {
	var r Rights
	for i := range len(s) {
		c := s[i]
		switch {
		case c == 'c':
			r |= obsoleteCreate
		case c == 'd':
			r |= obsoleteDelete
		case strings.IndexByte(letters, c) >= 0:
			r |= 1 << strings.IndexByte(letters, c)
		default:
			return None, fmt.Errorf("%w %q in %q", ErrUnknownRight, c, s)
		}
	}
	return r, nil
}

// Mode is how SETACL's rights string changes an identifier's rights
// (RFC 4314 §3.1).
type Mode uint8

const (
	Replace Mode = iota // "lrs": these rights exactly
	Add                 // "+lrs": these rights too
	Remove              // "-lrs": not these rights
)

// ParseModification splits SETACL's rights argument: a leading "+" adds,
// "-" removes, anything else replaces (RFC 4314 §3.1).
func ParseModification(s string) (Mode, Rights, error) {
	mode := Replace
	switch {
	case strings.HasPrefix(s, "+"):
		mode, s = Add, s[1:]
	case strings.HasPrefix(s, "-"):
		mode, s = Remove, s[1:]
	}
	r, err := Parse(s)
	return mode, r, err
}

// Modify applies SETACL's rights argument to an identifier's current
// rights; None means the identifier leaves the ACL.
func Modify(current Rights, modification string) (Rights, error) {
	mode, r, err := ParseModification(modification)
	if err != nil {
		return current, err
	}
	switch mode {
	case Add:
		return current | r, nil
	case Remove:
		return current &^ r, nil
	}
	return r, nil
}

// FlagRight is the right that setting or clearing flag needs (RFC 4314
// §4, STORE and APPEND): s for \Seen, t for \Deleted, w for any other
// flag or keyword. flag is compared case-insensitively.
func FlagRight(flag string) Rights {
	switch {
	case strings.EqualFold(flag, `\Seen`):
		return Seen
	case strings.EqualFold(flag, `\Deleted`):
		return DeleteMessage
	}
	return Write
}

// AllowedFlags is flags without those rights does not let a user set
// (RFC 4314 §4: APPEND, COPY and delivery keep only the flags the
// target's rights allow; STORE ignores the others as Dovecot does).
func AllowedFlags(rights Rights, flags []string) []string {
	var out []string
	for _, f := range flags {
		if rights.Has(FlagRight(f)) {
			out = append(out, f)
		}
	}
	return out
}
