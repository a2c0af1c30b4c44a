// Package address is Surat's one mail address type: every protocol and the
// admin API parse an address once, here, into one canonical form, and
// compare, store and look up only that form.
//
// The canonical form is local@domain with
//   - the domain as IDNA A-labels (RFC 5890 §2.3.2.1, via UTS #46 as
//     golang.org/x/net/idna's Lookup profile does), lower-case, without a
//     trailing dot (RFC 5321 §2.3.5: a domain in a path is fully qualified;
//     the root's dot is not part of it);
//   - the local part lower-cased. RFC 5321 §2.4 lets the receiving host
//     decide how to compare local parts; Surat's accounts and aliases are
//     case-insensitive, as with Postfix and Dovecot defaults.
//
// There are two constructors, for two deliberate rules:
//   - Account parses an account or alias name (a login, an admin request):
//     a dot-atom ASCII local part of at most 64 octets (RFC 5322 §3.4.1,
//     RFC 5321 §4.1.2 Dot-string, §4.5.3.1.1), a host-name domain, at most
//     254 octets in all (RFC 5321 §4.5.3.1.3: a path of 256 with its <>).
//   - Path parses the mailbox of an SMTP path as a client sent it (MAIL
//     FROM, RCPT TO): any printable local part, UTF-8 included (RFC 6531
//     §3.3 with SMTPUTF8), because a recipient elsewhere may have one; the
//     same domain rule and total length. A Path address that is not also
//     an Account can never be a local user, so looking it up simply finds
//     nothing.
//
// The package does no I/O.
package address

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits of RFC 5321 §4.5.3.1.
const (
	MaxLocalLen   = 64  // §4.5.3.1.1
	MaxDomainLen  = 253 // §4.5.3.1.2 (255 octets on the wire, less the length octets)
	MaxAddressLen = 254 // §4.5.3.1.3: a path of 256 octets includes "<" and ">"
	maxLabelLen   = 63  // RFC 1035 §2.3.4
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("bad address")

// Address is a parsed address in canonical form. The zero value is no
// address.
type Address struct {
	local, domain string
}

// String is the canonical local@domain ("" for the zero Address).
func (a Address) String() string {
	if a.IsZero() {
		return ""
	}
	return a.local + "@" + a.domain
}

// Local is the canonical local part.
func (a Address) Local() string { return a.local }

// Domain is the canonical domain: A-labels, lower-case, no trailing dot.
func (a Address) Domain() string { return a.domain }

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a.local == "" && a.domain == "" }

// Account parses an account or alias address (see the package doc);
// surrounding white space is ignored.
func Account(s string) (Address, error) {
	s = strings.TrimSpace(s)
	local, domain, err := split(s)
	if err != nil {
		return Address{}, err
	}
	if len(local) > MaxLocalLen {
		return Address{}, syntaxf(s, "local part longer than %d characters", MaxLocalLen)
	}
	if err := checkDotAtom(local); err != nil {
		return Address{}, syntaxf(s, "%v", err)
	}
	return build(s, strings.ToLower(local), domain)
}

// Path parses the mailbox of an SMTP path (see the package doc). A local
// part may be UTF-8 (RFC 6531 §3.3) or a quoted string as sent, but never
// holds white space or control characters.
func Path(s string) (Address, error) {
	local, domain, err := split(s)
	if err != nil {
		return Address{}, err
	}
	if !utf8.ValidString(local) {
		return Address{}, syntaxf(s, "local part is not UTF-8")
	}
	if strings.ContainsFunc(local, func(r rune) bool { return r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
		return Address{}, syntaxf(s, "local part contains white space or a control character")
	}
	return build(s, strings.ToLower(local), domain)
}

// Domain parses a domain name (a --domain value, the domain of an address)
// into its canonical form.
func Domain(s string) (string, error) {
	d, err := canonicalDomain(s)
	if err != nil {
		return "", fmt.Errorf("%w: domain %q: %v", ErrSyntax, s, err)
	}
	return d, nil
}

// split cuts s at its last '@'.
func split(s string) (local, domain string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("%w: empty", ErrSyntax)
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", "", syntaxf(s, "want local@domain")
	}
	if at == 0 {
		return "", "", syntaxf(s, "empty local part")
	}
	return s[:at], s[at+1:], nil
}

func build(s, local, domain string) (Address, error) {
	d, err := canonicalDomain(domain)
	if err != nil {
		return Address{}, syntaxf(s, "%v", err)
	}
	a := Address{local: local, domain: d}
	if n := len(local) + 1 + len(d); n > MaxAddressLen {
		return Address{}, syntaxf(s, "longer than %d characters", MaxAddressLen)
	}
	return a, nil
}

// canonicalDomain maps d to lower-case A-labels and checks it is a host
// name: RFC 1035 §2.3.1 letters, digits and hyphens, with RFC 1123 §2.1's
// leading digits. Address literals ([192.0.2.1]) are not domains here:
// Surat serves no mail for them.
func canonicalDomain(d string) (string, error) {
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", errors.New("empty domain")
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c <= ' ' || c == 0x7f {
			return "", errors.New("domain contains white space or a control character")
		}
	}
	if !utf8.ValidString(d) {
		return "", errors.New("domain is not UTF-8")
	}
	ascii, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", fmt.Errorf("domain is not a valid internationalised name: %v", err)
	}
	ascii = strings.ToLower(ascii)
	// The A-label form must be a fixed point: what is stored must parse
	// to itself when a client sends it back.
	if again, err := idna.Lookup.ToASCII(ascii); err != nil || again != ascii {
		return "", errors.New("domain is not a valid internationalised name")
	}
	if ascii == "" || len(ascii) > MaxDomainLen {
		return "", fmt.Errorf("domain must be 1 to %d characters", MaxDomainLen)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > maxLabelLen {
			return "", errors.New("domain has an empty or over-long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", errors.New("domain has a label starting or ending with '-'")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("domain contains %q", c)
			}
		}
	}
	return ascii, nil
}

// isAtext is atext of RFC 5322 §3.2.3.
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// checkDotAtom checks RFC 5322 §3.2.3's dot-atom-text.
func checkDotAtom(s string) error {
	if s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return errors.New("local part has a leading, trailing or double dot")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isAtext(c) {
			return fmt.Errorf("local part contains %q", c)
		}
	}
	return nil
}

func syntaxf(s, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrSyntax, s, fmt.Sprintf(format, args...))
}
