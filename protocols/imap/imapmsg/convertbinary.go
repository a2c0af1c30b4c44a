package imapmsg

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"
)

// ConvertBinary returns the message raw with every leaf part that holds
// binary data re-encoded in base64: a part whose Content-Transfer-Encoding
// is "binary", or one with NUL octets and no base64 or quoted-printable
// encoding. Its Content-Transfer-Encoding field becomes "base64" (added
// when it had none); nothing else changes. changed is false, and out is
// raw itself, when no part needed it.
//
// A message appended as a literal8 (RFC 3516 §4.4) may hold such parts,
// which BODY[] could not return: a literal holds no NUL (RFC 9051 §4.3).
// Dovecot converts them so when they are appended; BINARY[] still returns
// the original octets.
func ConvertBinary(raw []byte) (out []byte, changed bool) {
	m := Parse(raw)
	var edits []edit
	m.collectBinary(&m.Root, &edits)
	if len(edits) == 0 {
		return raw, false
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	var buf bytes.Buffer
	buf.Grow(len(raw) + len(raw)/3)
	at := 0
	for _, e := range edits {
		buf.Write(raw[at:e.start])
		e.write(&buf)
		at = e.end
	}
	buf.Write(raw[at:])
	return buf.Bytes(), true
}

// edit replaces raw[start:end] with text, or with the base64 of body.
type edit struct {
	start, end int
	text       string
	body       []byte
	final      bool // the body runs to the message's end: end with CRLF
}

func (e edit) write(buf *bytes.Buffer) {
	if e.body == nil {
		buf.WriteString(e.text)
		return
	}
	// RFC 2045 §6.8: lines of at most 76 characters.
	enc := base64.StdEncoding
	for p := e.body; len(p) > 0; {
		n := min(len(p), 57)
		var line [76]byte
		enc.Encode(line[:], p[:n])
		buf.Write(line[:enc.EncodedLen(n)])
		p = p[n:]
		if len(p) > 0 || e.final {
			buf.WriteString("\r\n")
		}
	}
}

func (m *Message) collectBinary(p *Part, edits *[]edit) {
	switch {
	case p.IsMultipart():
		for k := range p.Parts {
			m.collectBinary(&p.Parts[k], edits)
		}
		return
	case p.IsMessage():
		m.collectBinary(p.Message, edits)
		return
	}
	enc := p.Encoding
	if strings.EqualFold(enc, "base64") || strings.EqualFold(enc, "quoted-printable") {
		return
	}
	body := m.Body(p)
	if !strings.EqualFold(enc, "binary") && bytes.IndexByte(body, 0) < 0 {
		return
	}
	const field = "Content-Transfer-Encoding: base64\r\n"
	h := string(m.Header(p))
	replaced := false
	for i := 0; ; {
		f, next, ok := nextField(h, i)
		if !ok {
			break
		}
		if isName(f.name, "Content-Transfer-Encoding") {
			*edits = append(*edits, edit{start: p.HeaderStart + i, end: p.HeaderStart + next, text: field})
			replaced = true
			break
		}
		i = next
	}
	if !replaced {
		// Before the blank line that ends the header (or at its end when
		// it has none).
		hdr := m.Header(p)
		text := field
		if len(hdr) > 0 && hdr[len(hdr)-1] != '\n' {
			// A header with no line break at its end.
			text = "\r\n" + field
		}
		at := p.HeaderStart + blankLine(hdr)
		*edits = append(*edits, edit{start: at, end: at, text: text})
	}
	*edits = append(*edits, edit{start: p.BodyStart, end: p.End, body: body, final: p.End == len(m.raw)})
}

// blankLine is the offset of the blank line that ends the header block h,
// or len(h) when it has none.
func blankLine(h []byte) int {
	switch {
	case bytes.Equal(h, []byte("\r\n")) || bytes.Equal(h, []byte("\n")):
		return 0
	case bytes.HasSuffix(h, []byte("\n\r\n")):
		return len(h) - 2
	case bytes.HasSuffix(h, []byte("\n\n")):
		return len(h) - 1
	}
	return len(h)
}
