package sortthread

import "strings"

// MessageIDs returns the valid message identifiers in a Message-ID,
// References or In-Reply-To value, in order, normalised (RFC 5256 §3,
// REFERENCES: implementations MUST normalise msg-ids so that differences
// in quoting do not make two identifiers differ): the text between "<"
// and ">" without white space, quoting or escapes. An identifier without
// "@" is not a valid msg-id (RFC 5322 §3.6.4) and is left out; so is
// text outside angle brackets, and comments. At most max identifiers are
// returned (max <= 0: all).
func MessageIDs(value string, max int) []string {
	var ids []string
	i := 0
	for i < len(value) && (max <= 0 || len(ids) < max) {
		switch value[i] {
		case '(':
			i = skipComment(value, i)
		case '"':
			// A quoted string outside brackets (a phrase in an obsolete
			// In-Reply-To): skip it whole.
			i = skipQuoted(value, i)
		case '<':
			id, next, ok := msgID(value, i+1)
			i = next
			if ok {
				ids = append(ids, id)
			}
		default:
			i++
		}
	}
	return ids
}

// msgID reads a msg-id's content from value[i:] (after "<") up to ">";
// next is where scanning goes on.
func msgID(value string, i int) (id string, next int, ok bool) {
	// Most identifiers need no normalising: take them as they are.
	if end := strings.IndexByte(value[i:], '>'); end >= 0 {
		id = value[i : i+end]
		if !strings.ContainsAny(id, "<\"\\ \t\r\n") {
			return id, i + end + 1, validID(id)
		}
	}
	var b strings.Builder
	for i < len(value) {
		c := value[i]
		switch c {
		case '>':
			id = b.String()
			return id, i + 1, validID(id)
		case '<':
			// An unclosed identifier: start again at this one.
			return "", i, false
		case '"', '\\':
			// Quoting of the local part (RFC 5322 id-left is dot-atom-text
			// or, obsolete, a quoted local-part): normalised away.
			if c == '\\' && i+1 < len(value) {
				i++
				if e := value[i]; !strings.ContainsRune(" \t\r\n<>", rune(e)) {
					b.WriteByte(e)
				}
			}
		case ' ', '\t', '\r', '\n':
		default:
			b.WriteByte(c)
		}
		i++
	}
	return "", i, false
}

// validID: a msg-id has an id-left and an id-right (RFC 5322 §3.6.4).
func validID(id string) bool {
	return id != "" && strings.Contains(id, "@") && id[0] != '@' && id[len(id)-1] != '@'
}

func skipComment(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return i
}

func skipQuoted(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}
