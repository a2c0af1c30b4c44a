package mailheader

import (
	"bytes"
	"iter"
	"mime/quotedprintable"
	"strings"
)

// OneLine replaces line breaks and NULs, which would end a header field
// early or start another, by spaces: for text from a script or a peer
// that goes into a field Surat writes.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
}

// Lines yields the lines of the header section at the start of msg
// without their line ends, CRLF or a bare LF (mail from elsewhere may
// have either), up to the empty line that ends the section (RFC 5322
// §2.1) or the end of msg.
func Lines(msg []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		rest := msg
		for len(rest) > 0 {
			line := rest
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				line, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) == 0 || !yield(line) {
				return
			}
		}
	}
}

// CRLF gives every line of s a CRLF end (RFC 5322 §2.1; text from
// scripts arrives with LF, CRLF or a mix).
func CRLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

// TextEntity is a plain-text MIME entity: its Content-Type and
// Content-Transfer-Encoding fields, the empty line, and text with CRLF
// line ends, ending in CRLF. It is 7bit US-ASCII when text is ASCII with
// no line over HardLimit (RFC 5322 §2.1.1; RFC 2045 §2.7), else
// quoted-printable UTF-8 (RFC 2045 §6.7), invalid UTF-8 replaced by
// U+FFFD.
func TextEntity(text string) []byte {
	text = CRLF(text)
	if !strings.HasSuffix(text, "\r\n") {
		text += "\r\n"
	}
	var b bytes.Buffer
	if isASCII(text) && !hasLongLine(text) {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n")
		b.WriteString("Content-Transfer-Encoding: 7bit\r\n\r\n")
		b.WriteString(text)
		return b.Bytes()
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(strings.ToValidUTF8(text, "\uFFFD"))) // a bytes.Buffer does not fail
	_ = w.Close()
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// hasLongLine reports whether a line of s (CRLF line ends) is longer
// than HardLimit.
func hasLongLine(s string) bool {
	for _, l := range strings.Split(s, "\r\n") {
		if len(l) > HardLimit {
			return true
		}
	}
	return false
}
