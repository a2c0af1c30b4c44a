package admin

import (
	"errors"
	"fmt"
	"strings"
)

// CanonicalAddress validates a mailbox address for an account and returns
// it lower-cased. Accounts are plain dot-atom local@domain (RFC 5322 §3.4.1,
// RFC 5321 §4.1.2 Dot-string): quoted local parts and address literals are
// refused, and the domain must be an ASCII host name (an IDNA A-label).
func CanonicalAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("bad address: empty")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", fmt.Errorf("bad address %q: want local@domain", s)
	}
	local, domain := s[:at], strings.ToLower(strings.TrimSuffix(s[at+1:], "."))
	// RFC 5321 §4.5.3.1.1: local part at most 64 octets.
	if local == "" || len(local) > 64 {
		return "", fmt.Errorf("bad address %q: local part must be 1 to 64 characters", s)
	}
	if err := checkDotAtom(local); err != nil {
		return "", fmt.Errorf("bad address %q: %v", s, err)
	}
	if err := CheckDomain(domain); err != nil {
		return "", fmt.Errorf("bad address %q: %v", s, err)
	}
	addr := strings.ToLower(local) + "@" + domain
	// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including "<>".
	if len(addr) > 254 {
		return "", fmt.Errorf("bad address %q: longer than 254 characters", s)
	}
	return addr, nil
}

// CheckDomain validates an ASCII host name (RFC 1035 §2.3.1 with RFC 1123
// §2.1's leading digits).
func CheckDomain(d string) error {
	if d == "" || len(d) > 253 {
		return errors.New("domain must be 1 to 253 characters")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("domain %q has an empty or over-long label", d)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("domain %q has a label starting or ending with '-'", d)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				if c >= 0x80 {
					return fmt.Errorf("domain %q is not ASCII: use its IDNA A-label (xn--...)", d)
				}
				return fmt.Errorf("domain %q contains %q", d, c)
			}
		}
	}
	return nil
}

// atext of RFC 5322 §3.2.3.
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

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
