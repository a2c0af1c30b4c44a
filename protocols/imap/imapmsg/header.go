package imapmsg

import (
	"bytes"
	"strings"
)

// HeaderEnd is the length of the header block at the start of p, through
// the blank line that ends it (RFC 5322 §2.1), or len(p) when p holds no
// blank line: then the whole of p is header, as Dovecot reads it.
func HeaderEnd(p []byte) int {
	if n := headerEnd(p); n >= 0 {
		return n
	}
	return len(p)
}

// headerEnd is HeaderEnd, or -1 when p holds no blank line.
func headerEnd(p []byte) int {
	if len(p) > 0 && p[0] == '\n' {
		return 1
	}
	if len(p) > 1 && p[0] == '\r' && p[1] == '\n' {
		return 2
	}
	// The earliest line break followed by an empty line, CRLF or LF.
	for i := 0; ; {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(p) && p[i] == '\n' {
			return i + 1
		}
		if i+1 < len(p) && p[i] == '\r' && p[i+1] == '\n' {
			return i + 2
		}
	}
}

// field is one header field: its name and its raw value (after the colon,
// folding and the final line break included), both substrings of the
// header they were read from.
type field struct {
	name, value string
	// line is the whole field, name and final line break included.
	line string
}

// nextField reads the field at h[i:] and returns it and the offset of the
// next one. ok is false at the end of the header (the blank line or the
// end of h). A line without a colon is skipped as no field (its name is
// empty).
func nextField(h string, i int) (f field, next int, ok bool) {
	if i >= len(h) || h[i] == '\n' || (h[i] == '\r' && i+1 < len(h) && h[i+1] == '\n') {
		return field{}, len(h), false
	}
	// The field runs to the first line break not followed by WSP (RFC 5322
	// §2.2.3).
	end := i
	for {
		j := strings.IndexByte(h[end:], '\n')
		if j < 0 {
			end = len(h)
			break
		}
		end += j + 1
		if end >= len(h) || (h[end] != ' ' && h[end] != '\t') {
			break
		}
	}
	f.line = h[i:end]
	if c := strings.IndexByte(f.line, ':'); c > 0 {
		f.name = strings.TrimRight(f.line[:c], " \t")
		f.value = f.line[c+1:]
	}
	return f, end, true
}

// value is a field's value as Dovecot reads it: unfolded (RFC 5322
// §2.2.3), with the white space around it trimmed.
func value(raw string) string {
	v := strings.Trim(raw, " \t\r\n")
	if strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, '\r') < 0 {
		return v
	}
	return unfold(v)
}

// unfold removes every CR and LF of s (RFC 5322 §2.2.3: the white space
// after a fold stays), as mailheader.Unfold does, without building a
// replacer per call.
func unfold(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return string(b)
}

// isName reports whether the field name n is name, ASCII case-insensitively
// (RFC 5322 §1.2.2).
func isName(n, name string) bool { return strings.EqualFold(n, name) }

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }

// MaxHeaderParse bounds the part of a header block whose fields are read
// (for the ENVELOPE and the MIME fields): a header longer than 1 MiB is
// no mail but an attack, and its fields past that are ignored rather than
// copied. Sections still return the header whole.
const MaxHeaderParse = 1 << 20

// headerString is the header block b (its first MaxHeaderParse octets) as
// a string, its NUL octets dropped:
// no IMAP string can hold one (RFC 9051 §4.3, CHAR8), and a header has
// no use for them.
func headerString(b []byte) string {
	if len(b) > MaxHeaderParse {
		b = b[:MaxHeaderParse]
	}
	if bytes.IndexByte(b, 0) < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c != 0 {
			out = append(out, c)
		}
	}
	return string(out)
}
