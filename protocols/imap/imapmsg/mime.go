package imapmsg

import (
	"bytes"
	"strings"
)

// Bounds on the MIME tree Parse builds, as Dovecot has them: a part nested
// deeper than MaxDepth, or past the MaxParts-th part, is a leaf (its
// content one opaque body).
const (
	MaxDepth = 100
	MaxParts = 10000
)

// Message is a message's MIME tree (RFC 2045, RFC 2046) over its bytes.
// It keeps the bytes it was parsed from (not a copy): they must not change
// while it is used.
type Message struct {
	raw   []byte
	Root  Part
	parts int
}

// Part is one entity of a message: the message itself, a body part of a
// multipart, or a message encapsulated in a message/rfc822 part. Its
// fields are those BODYSTRUCTURE returns (RFC 9051 §7.5.2), raw as written
// in its header, defaults filled in (RFC 2045 §5.2, §6.1; RFC 2046 §5.1.5).
type Part struct {
	// Type and Subtype as written, or the default "text" "plain" (for a
	// part of a multipart/digest, "message" "rfc822").
	Type, Subtype string
	// Params are the Content-Type parameters; a text part without a
	// charset has charset=us-ascii added at the end, as Dovecot does.
	Params      []Param
	ID          NString // Content-ID
	Description NString // Content-Description
	// Encoding is the Content-Transfer-Encoding as written, or "7bit".
	Encoding string
	MD5      NString // Content-MD5
	// Disposition is the Content-Disposition's type ("" when absent: NIL)
	// and DispositionParams its parameters (RFC 2183).
	Disposition       string
	DispositionParams []Param
	Language          []string // Content-Language, nil when absent
	Location          NString  // Content-Location (RFC 2557)

	// HeaderStart, BodyStart and End place the part in the message: its
	// header block (the blank line that ends it included) is
	// [HeaderStart, BodyStart) and its body [BodyStart, End).
	HeaderStart, BodyStart, End int
	// Lines is the number of lines of the body (its line feeds), for
	// text and message parts (RFC 9051 §7.5.2 body-fld-lines).
	Lines int64

	// Parts are a multipart's body parts, in order.
	Parts []Part
	// Message is the encapsulated message of a message/rfc822 (or
	// message/global, RFC 6532 §3.5) part, and Envelope its envelope.
	Message  *Part
	Envelope *Envelope
}

// IsMultipart reports whether p is a multipart with its parts parsed.
func (p *Part) IsMultipart() bool { return len(p.Parts) > 0 }

// IsMessage reports whether p is a message/rfc822 or message/global part
// with its encapsulated message parsed.
func (p *Part) IsMessage() bool { return p.Message != nil }

// IsText reports whether p's type is text.
func (p *Part) IsText() bool { return strings.EqualFold(p.Type, "text") }

// Size is the size of p's body in octets (body-fld-octets).
func (p *Part) Size() int { return p.End - p.BodyStart }

// Parse parses the message raw into its MIME tree. It never fails: a
// malformed message parses as Dovecot reads it, the parts it can find with
// their content as written.
func Parse(raw []byte) *Message {
	m := &Message{raw: raw}
	m.entity(&m.Root, 0, len(raw), 0, false)
	return m
}

// Bytes is the message the tree was parsed from.
func (m *Message) Bytes() []byte { return m.raw }

// Envelope is the ENVELOPE of the message itself.
func (m *Message) Envelope() *Envelope { return ParseEnvelope(m.raw) }

// Header is p's header block, its final blank line included.
func (m *Message) Header(p *Part) []byte { return m.raw[p.HeaderStart:p.BodyStart] }

// Body is p's body.
func (m *Message) Body(p *Part) []byte { return m.raw[p.BodyStart:p.End] }

// entity parses the entity at raw[start:end] into p: its header fields,
// then its parts when it is a multipart or encapsulates a message.
// digest: p is a part of a multipart/digest (RFC 2046 §5.1.5).
func (m *Message) entity(p *Part, start, end, depth int, digest bool) {
	m.parts++
	p.HeaderStart = start
	p.BodyStart = start + HeaderEnd(m.raw[start:end])
	p.End = end
	p.Encoding = "7bit"
	m.header(p, headerString(m.raw[p.HeaderStart:p.BodyStart]))
	if p.Type == "" {
		if digest {
			p.Type, p.Subtype = "message", "rfc822"
		} else {
			p.Type, p.Subtype = "text", "plain"
		}
	}
	if p.IsText() {
		if _, ok := paramValue(p.Params, "charset"); !ok {
			// RFC 2045 §5.2, RFC 2046 §4.1.2: text without a charset is
			// US-ASCII; Dovecot says so in the parameters.
			p.Params = append(p.Params, Param{Name: "charset", Value: "us-ascii"})
		}
	}
	descend := depth < MaxDepth && m.parts < MaxParts
	switch {
	case strings.EqualFold(p.Type, "multipart"):
		boundary, _ := paramValue(p.Params, "boundary")
		if descend && boundary != "" {
			m.multipart(p, boundary, depth)
			return
		}
		// A multipart whose parts cannot be read is one opaque body
		// (BODYSTRUCTURE has no multipart without parts).
		p.Type, p.Subtype = "application", "octet-stream"
	case strings.EqualFold(p.Type, "message") && (strings.EqualFold(p.Subtype, "rfc822") || strings.EqualFold(p.Subtype, "global")):
		if !descend {
			// BODYSTRUCTURE has no message/rfc822 without its message.
			p.Type, p.Subtype = "application", "octet-stream"
			return
		}
		e := &Part{}
		p.Message = e
		m.entity(e, p.BodyStart, p.End, depth+1, false)
		p.Envelope = ParseEnvelope(m.Header(e))
		// The body's lines are the encapsulated message's header lines and
		// its body's, counted once: a chain of nested messages costs one
		// pass, not one per level.
		p.Lines = int64(bytes.Count(m.Header(e), []byte{'\n'}))
		if e.IsText() || e.IsMessage() {
			p.Lines += e.Lines
		} else {
			p.Lines += int64(bytes.Count(m.Body(e), []byte{'\n'}))
		}
	case p.IsText():
		p.Lines = int64(bytes.Count(m.raw[p.BodyStart:p.End], []byte{'\n'}))
	}
}

// header reads the MIME fields of p's header h (RFC 2045 §3).
func (m *Message) header(p *Part, h string) {
	var seen uint8
	for i := 0; ; {
		f, next, ok := nextField(h, i)
		if !ok {
			return
		}
		i = next
		if len(f.name) < 8 || !strings.EqualFold(f.name[:8], "Content-") {
			continue
		}
		bit := mimeField(f.name[8:])
		if bit == 0 || seen&bit != 0 {
			continue
		}
		seen |= bit
		v := value(f.value)
		switch bit {
		case bitType:
			c := contentValue{s: v}
			t := c.token()
			if !c.is('/') {
				continue
			}
			st := c.token()
			if t == "" || st == "" {
				// Invalid: the default applies (RFC 2045 §5.2).
				continue
			}
			p.Type, p.Subtype = t, st
			p.Params = c.params()
		case bitEncoding:
			c := contentValue{s: v}
			if t := c.token(); t != "" {
				p.Encoding = t
			}
		case bitID:
			p.ID = Str(v)
		case bitDescription:
			p.Description = Str(v)
		case bitMD5:
			p.MD5 = Str(v)
		case bitDisposition:
			c := contentValue{s: v}
			if t := c.token(); t != "" {
				p.Disposition = t
				p.DispositionParams = c.params()
			}
		case bitLanguage:
			for _, l := range strings.Split(v, ",") {
				c := contentValue{s: l}
				if t := c.token(); t != "" {
					p.Language = append(p.Language, t)
				}
			}
		case bitLocation:
			p.Location = Str(v)
		}
	}
}

const (
	bitType uint8 = 1 << iota
	bitEncoding
	bitID
	bitDescription
	bitMD5
	bitDisposition
	bitLanguage
	bitLocation
)

// mimeField is the bit of the Content-* field whose name ends in rest.
func mimeField(rest string) uint8 {
	switch {
	case strings.EqualFold(rest, "Type"):
		return bitType
	case strings.EqualFold(rest, "Transfer-Encoding"):
		return bitEncoding
	case strings.EqualFold(rest, "ID"):
		return bitID
	case strings.EqualFold(rest, "Description"):
		return bitDescription
	case strings.EqualFold(rest, "MD5"):
		return bitMD5
	case strings.EqualFold(rest, "Disposition"):
		return bitDisposition
	case strings.EqualFold(rest, "Language"):
		return bitLanguage
	case strings.EqualFold(rest, "Location"):
		return bitLocation
	}
	return 0
}

// multipart finds the body parts of the multipart p by its boundary
// (RFC 2046 §5.1.1): a delimiter is a line that starts with "--" boundary
// and has only white space after it, or "--" for the close delimiter;
// the line break before a delimiter belongs to it, not to the part. Only
// p's body is searched, so a nested multipart ends where its enclosing
// part does, whether or not it was closed.
func (m *Message) multipart(p *Part, boundary string, depth int) {
	digest := strings.EqualFold(p.Subtype, "digest")
	body := m.raw[p.BodyStart:p.End]
	delim := make([]byte, 0, 2+len(boundary))
	delim = append(append(delim, "--"...), boundary...)
	var spans [][2]int
	partStart := -1
	for pos := 0; pos < len(body); {
		j := bytes.Index(body[pos:], delim)
		if j < 0 {
			break
		}
		at := pos + j
		pos = at + len(delim)
		if at > 0 && body[at-1] != '\n' {
			continue
		}
		rest := body[pos:]
		closing := len(rest) >= 2 && rest[0] == '-' && rest[1] == '-'
		if !closing {
			k := 0
			for k < len(rest) && (rest[k] == ' ' || rest[k] == '\t') {
				k++
			}
			if k < len(rest) && rest[k] != '\r' && rest[k] != '\n' {
				continue
			}
		}
		if partStart >= 0 {
			end := at
			if end > 0 && body[end-1] == '\n' {
				end--
				if end > 0 && body[end-1] == '\r' {
					end--
				}
			}
			spans = append(spans, [2]int{partStart, max(end, partStart)})
		}
		if closing {
			partStart = -1
			break
		}
		if eol := bytes.IndexByte(body[pos:], '\n'); eol >= 0 {
			partStart = pos + eol + 1
		} else {
			partStart = len(body)
		}
		pos = partStart
	}
	if partStart >= 0 {
		spans = append(spans, [2]int{partStart, len(body)})
	}
	if len(spans) == 0 {
		// No delimiter: all preamble. One empty part at the end keeps the
		// structure a multipart with a part, as the grammar needs.
		spans = append(spans, [2]int{len(body), len(body)})
	}
	if room := MaxParts - m.parts; len(spans) > room {
		spans = spans[:max(room, 1)]
	}
	p.Parts = make([]Part, len(spans))
	for k, s := range spans {
		m.entity(&p.Parts[k], p.BodyStart+s[0], p.BodyStart+s[1], depth+1, digest)
	}
}
