package sortthread

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Collate returns the key under which s sorts by the i;unicode-casemap
// collation (RFC 5051 §2): every character replaced by its titlecase
// mapping, then the string normalised to NFKD. Two strings compare by
// comparing their keys octet by octet (i;octet). Invalid UTF-8 is kept
// byte for byte.
func Collate(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// ASCII titlecase is upper case, and ASCII is NFKD already.
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteRune(unicode.ToTitle(r))
		i += n
	}
	return norm.NFKD.String(b.String())
}
