package imapmsg

import (
	"github.com/emersion/go-imap/v2"
)

// Find is the part with the IMAP part number path (RFC 9051 §6.4.5): the
// parts of a multipart are numbered from 1, a non-multipart message has
// one part, 1, its body, and the numbers after a message/rfc822 part's
// number are those of its encapsulated message. The empty path is the
// message itself. nil when there is no such part.
func (m *Message) Find(path []int) *Part {
	p := &m.Root
	msg := p // where the next number is looked up
	for _, n := range path {
		switch {
		case msg == nil:
			return nil
		case msg.IsMultipart():
			if n < 1 || n > len(msg.Parts) {
				return nil
			}
			p = &msg.Parts[n-1]
		case n == 1:
			p = msg
		default:
			return nil
		}
		switch {
		case p.IsMultipart():
			msg = p
		case p.IsMessage():
			msg = p.Message
		default:
			msg = nil
		}
	}
	return p
}

// BodySection is the content of BODY[section]<partial> (RFC 9051
// §6.4.5), and whether the section exists. A missing part gives empty
// content and false: Dovecot answers it as an empty string. The content
// is a slice of the message (HEADER.FIELDS and HEADER.FIELDS.NOT build
// theirs): the caller must not change it.
//
//   - HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT and TEXT of the message, or
//     of a message/rfc822 part's encapsulated message; of another part,
//     its own header and body (Dovecot reads them so).
//   - MIME: the part's own header (for part 1 of a non-multipart message,
//     the message's header).
//   - no specifier: the part's body; for the message itself (BODY[]), all
//     of it.
func (m *Message) BodySection(bs *imap.FetchItemBodySection) ([]byte, bool) {
	p := m.Find(bs.Part)
	if p == nil {
		return []byte{}, false
	}
	var b []byte
	switch bs.Specifier {
	case imap.PartSpecifierMIME:
		b = m.Header(p)
	case imap.PartSpecifierHeader:
		if len(bs.Part) > 0 && p.IsMessage() {
			p = p.Message
		}
		b = m.Header(p)
		if len(bs.HeaderFields) > 0 {
			b = HeaderFields(b, bs.HeaderFields, false)
		} else if len(bs.HeaderFieldsNot) > 0 {
			b = HeaderFields(b, bs.HeaderFieldsNot, true)
		}
	case imap.PartSpecifierText:
		if len(bs.Part) > 0 && p.IsMessage() {
			p = p.Message
		}
		b = m.Body(p)
	default:
		if len(bs.Part) == 0 {
			b = m.raw
		} else {
			b = m.Body(p)
		}
	}
	return PartialOf(b, bs.Partial), true
}

// HeaderSection is BODY[HEADER...]<partial> of the message itself, read
// from its header block alone (the header cache's entry): the section
// fields of bs other than Specifier HEADER with no part are ignored.
func HeaderSection(header []byte, bs *imap.FetchItemBodySection) []byte {
	b := header[:HeaderEnd(header)]
	if len(bs.HeaderFields) > 0 {
		b = HeaderFields(b, bs.HeaderFields, false)
	} else if len(bs.HeaderFieldsNot) > 0 {
		b = HeaderFields(b, bs.HeaderFieldsNot, true)
	}
	return PartialOf(b, bs.Partial)
}

// HeaderFields picks from the header block header the fields named in
// names (not: those not named), ASCII case-insensitively, in the order of
// the header, each as written (folded lines included), and ends them with
// a blank line (RFC 9051 §6.4.5 HEADER.FIELDS): with no field picked, the
// blank line alone.
func HeaderFields(header []byte, names []string, not bool) []byte {
	h := header[:HeaderEnd(header)]
	out := make([]byte, 0, 256)
	for i := 0; i < len(h); {
		end := fieldEnd(h, i)
		if end == i {
			break
		}
		line := h[i:end]
		i = end
		c := -1
		for k, b := range line {
			if b == ':' {
				c = k
				break
			}
		}
		if c <= 0 {
			continue
		}
		name := line[:c]
		for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
			name = name[:len(name)-1]
		}
		named := false
		for _, n := range names {
			if equalFold(name, n) {
				named = true
				break
			}
		}
		if named != not {
			out = append(out, line...)
			if line[len(line)-1] != '\n' {
				// The last field of a header with no blank line.
				out = append(out, "\r\n"...)
			}
		}
	}
	return append(out, "\r\n"...)
}

// equalFold reports whether b and s are equal under ASCII case folding.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// fieldEnd is the end of the field starting at h[i] (its continuation
// lines and final line break included), or i at the blank line that ends
// the header.
func fieldEnd(h []byte, i int) int {
	if h[i] == '\n' || (h[i] == '\r' && i+1 < len(h) && h[i+1] == '\n') {
		return i
	}
	end := i
	for end < len(h) {
		j := indexByte(h[end:], '\n')
		if j < 0 {
			return len(h)
		}
		end += j + 1
		if end >= len(h) || (h[end] != ' ' && h[end] != '\t') {
			break
		}
	}
	return end
}

// PartialOf cuts the partial range p (RFC 9051 §6.4.5 <offset.length>)
// out of b: from offset, at most length octets, empty when offset is past
// the end. No sum of offset and length is formed, so no value overflows;
// a negative offset or length (no parser should give one) is empty.
func PartialOf(b []byte, p *imap.SectionPartial) []byte {
	if p == nil {
		return b
	}
	return Partial(b, p.Offset, p.Size)
}

// Partial is PartialOf with the offset and length given.
func Partial(b []byte, offset, length int64) []byte {
	if offset < 0 || length < 0 || offset >= int64(len(b)) {
		return b[:0]
	}
	rest := b[offset:]
	if length < int64(len(rest)) {
		rest = rest[:length]
	}
	return rest
}
