package wire

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3), or UTF-8
// once the client enabled UTF8=ACCEPT (RFC 6855 §3). INBOX is
// case-insensitive (RFC 9051 §5.1) and always returned as "INBOX".

// Mailbox reads a mailbox name (an astring) and returns it in UTF-8. A
// name that is not valid modified UTF-7 (or UTF-8 under UTF8Accept) is
// refused with NO [CANNOT].
func (d *Decoder) Mailbox() (string, error) {
	s, err := d.Astring()
	if err != nil {
		return "", err
	}
	return d.mailboxName(s)
}

// ListMailbox reads a LIST or LSUB pattern (RFC 9051 §9 list-mailbox: list
// characters including the wildcards "%" and "*", or a string), decoded as
// Mailbox does.
func (d *Decoder) ListMailbox() (string, error) {
	b, err := d.peek()
	if err != nil {
		return "", err
	}
	var s string
	if b == '"' || b == '{' || b == '~' && d.literal8Ahead() {
		s, err = d.String()
	} else {
		s, err = d.readWhile(isListChar)
		if err == nil && s == "" {
			err = syntaxf("Expected a mailbox pattern, got %s", describe(b))
		}
	}
	if err != nil {
		return "", err
	}
	return d.patternName(s), nil
}

// patternName decodes a LIST pattern or reference; one that is not valid
// modified UTF-7 is kept as sent, so it matches nothing rather than
// failing the command (Dovecot answers OK, imaptest's atoms).
func (d *Decoder) patternName(s string) string {
	if strings.EqualFold(s, "INBOX") {
		return "INBOX"
	}
	name, err := d.decodeName(s)
	if err != nil {
		return s
	}
	return name
}

func (d *Decoder) mailboxName(s string) (string, error) {
	if strings.EqualFold(s, "INBOX") {
		return "INBOX", nil
	}
	name, err := d.decodeName(s)
	if err != nil {
		// A name no mailbox can have: NO, not BAD (Dovecot; imaptest's
		// atoms), RFC 5530 §3 CANNOT.
		text := "Invalid mailbox name"
		if se, ok := IsSyntax(err); ok {
			text = se.Text
		}
		return "", &SyntaxError{Text: text, Code: "CANNOT", No: true}
	}
	return name, nil
}

// decodeName decodes a name as sent: UTF-8 under UTF8Accept, else
// modified UTF-7.
func (d *Decoder) decodeName(s string) (string, error) {
	if d.UTF8Accept {
		if !utf8.ValidString(s) {
			return "", syntaxf("Mailbox name is not valid UTF-8")
		}
		return s, nil
	}
	name, err := DecodeMUTF7(s)
	if err != nil {
		return "", err
	}
	return name, nil
}

// DecodeMUTF7 decodes a modified UTF-7 mailbox name (RFC 3501 §5.1.3) to
// UTF-8. It accepts only the canonical encoding (so that one mailbox has
// one spelling): no printable ASCII in base64, no empty or adjacent
// shifted runs, no stray bits. Octets above 0x7F that form valid UTF-8
// are passed through, as Dovecot does for clients that send UTF-8
// without UTF8=ACCEPT.
func DecodeMUTF7(s string) (string, error) {
	if !strings.ContainsAny(s, "&") && isPlainName(s) {
		return s, nil
	}
	var sb strings.Builder
	lastShiftEnd := -1
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '&':
			if i+1 < len(s) && s[i+1] == '-' {
				sb.WriteByte('&')
				i += 2
				continue
			}
			if lastShiftEnd == i {
				return "", syntaxf("Mailbox name is not canonical modified UTF-7")
			}
			end := strings.IndexByte(s[i+1:], '-')
			if end < 0 {
				return "", syntaxf("Mailbox name has an unterminated modified UTF-7 sequence")
			}
			if err := decodeShifted(&sb, s[i+1:i+1+end]); err != nil {
				return "", err
			}
			i += end + 2
			lastShiftEnd = i
		case c < 0x20 || c == 0x7f:
			return "", syntaxf("Mailbox name contains a control character")
		case c < 0x80:
			sb.WriteByte(c)
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				return "", syntaxf("Mailbox name is not valid UTF-8 or modified UTF-7")
			}
			sb.WriteString(s[i : i+n])
			i += n
		}
	}
	return sb.String(), nil
}

func isPlainName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

const mbase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

func mbase64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == ',':
		return 63
	}
	return -1
}

// decodeShifted decodes the modified base64 between "&" and "-".
func decodeShifted(sb *strings.Builder, b64 string) error {
	bad := syntaxf("Mailbox name is not valid modified UTF-7")
	if b64 == "" {
		return bad
	}
	var units []uint16
	var acc uint32
	bits := 0
	for i := 0; i < len(b64); i++ {
		v := mbase64Value(b64[i])
		if v < 0 {
			return bad
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 16 {
			bits -= 16
			units = append(units, uint16(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	if bits >= 6 || acc != 0 || len(units) == 0 {
		return bad
	}
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		switch {
		case utf16.IsSurrogate(u):
			if u >= 0xdc00 || i+1 >= len(units) {
				return bad
			}
			r := utf16.DecodeRune(u, rune(units[i+1]))
			if r == utf8.RuneError {
				return bad
			}
			sb.WriteRune(r)
			i++
		case u >= 0x20 && u <= 0x7e:
			return syntaxf("Mailbox name is not canonical modified UTF-7")
		default:
			sb.WriteRune(u)
		}
	}
	return nil
}

// EncodeMUTF7 encodes a UTF-8 mailbox name in modified UTF-7 (RFC 3501
// §5.1.3). Invalid UTF-8 is encoded as U+FFFD.
func EncodeMUTF7(s string) string {
	if isPlainName(s) && !strings.Contains(s, "&") {
		return s
	}
	var sb strings.Builder
	var run []uint16
	flush := func() {
		if len(run) == 0 {
			return
		}
		sb.WriteByte('&')
		var acc uint32
		bits := 0
		for _, u := range run {
			acc = acc<<16 | uint32(u)
			bits += 16
			for bits >= 6 {
				bits -= 6
				sb.WriteByte(mbase64[(acc>>bits)&63])
			}
			acc &= 1<<bits - 1
		}
		if bits > 0 {
			sb.WriteByte(mbase64[(acc<<(6-bits))&63])
		}
		sb.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		switch {
		case r == '&':
			flush()
			sb.WriteString("&-")
		case r >= 0x20 && r <= 0x7e:
			flush()
			sb.WriteRune(r)
		default:
			run = utf16.AppendRune(run, r)
		}
	}
	flush()
	return sb.String()
}
