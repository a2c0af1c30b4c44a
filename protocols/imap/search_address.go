package imap

import (
	"strings"

	gomessage "github.com/emersion/go-message"
)

// SEARCH FROM, TO, CC and BCC (RFC 9051 §6.4.4) match the field as
// written, and also its addresses without comments: Dovecot parses the
// address list, so `<user (c)@ (c) example.org>` matches
// "user@example.org" (imaptest's search-addresses script).

// addressFields are the header fields searched as address lists.
var addressFields = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "reply-to": true}

// matchAddressHeader is matchHeader for key; for an address field a value
// that does not hold pattern as written is tried again without its
// comments.
func matchAddressHeader(key string, fields gomessage.HeaderFields, pattern string) bool {
	if !addressFields[strings.ToLower(key)] || pattern == "" {
		return matchHeader(fields, pattern)
	}
	lower := strings.ToLower(pattern)
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		v = strings.ToLower(v)
		if strings.Contains(v, lower) || strings.Contains(addressText(v), lower) {
			return true
		}
	}
	return false
}

// addressText is an address list without its RFC 5322 §3.2.2 comments
// (nested, with quoted-pairs; not inside quoted strings) and without the
// white space around '@' that comments and folding leave.
func addressText(v string) string {
	if !strings.ContainsAny(v, "( \t") {
		return v
	}
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (depth > 0 || quoted):
			if depth == 0 {
				b.WriteByte(c)
				if i+1 < len(v) {
					b.WriteByte(v[i+1])
				}
			}
			i++
		case depth == 0 && c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case quoted:
			b.WriteByte(c)
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	return strings.ReplaceAll(strings.ReplaceAll(s, " @", "@"), "@ ", "@")
}
