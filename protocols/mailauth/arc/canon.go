package arc

// The canonicalization algorithms of RFC 6376 §3.4 are written here rather
// than taken from github.com/emersion/go-msgauth: its dkim package keeps
// them unexported, and ARC needs them for header fields that are not
// DKIM-Signature (ARC-Seal, ARC-Message-Signature) and for several body
// hashes computed in one pass over a streamed body.

import (
	"bytes"
	"io"
	"strings"
)

// canon is a canonicalization algorithm (RFC 6376 §3.4).
type canon string

const (
	canonSimple  canon = "simple"  // RFC 6376 §3.4.1, §3.4.3
	canonRelaxed canon = "relaxed" // RFC 6376 §3.4.2, §3.4.4
)

// parseCanon parses a c= value, "header[/body]" (RFC 6376 §3.5, c= tag);
// a missing c= or body part means simple.
func parseCanon(v string, present bool) (header, body canon, ok bool) {
	if !present {
		return canonSimple, canonSimple, true
	}
	h, b, hasBody := strings.Cut(strings.ToLower(v), "/")
	if !hasBody {
		b = string(canonSimple)
	}
	header, body = canon(h), canon(b)
	valid := func(c canon) bool { return c == canonSimple || c == canonRelaxed }
	return header, body, valid(header) && valid(body)
}

// headerField is one field of a message header as it arrived, line
// endings normalized to CRLF, ending with its CRLF.
type headerField struct {
	raw  []byte
	name string // lower case, trailing WSP removed; "" if the line has no colon
}

// value returns the field's value: everything after the colon, the final
// CRLF removed.
func (f headerField) value() []byte {
	i := bytes.IndexByte(f.raw, ':')
	if i < 0 {
		return nil
	}
	return bytes.TrimSuffix(f.raw[i+1:], []byte("\r\n"))
}

// splitHeader splits a header block (without the empty line that ends it)
// into fields. Bare LF line endings are read as CRLF, as in
// mail relayed by Unix tools; everything else is kept byte for byte.
func splitHeader(block []byte) []headerField {
	var fields []headerField
	var cur []byte
	flush := func() {
		if cur == nil {
			return
		}
		name := ""
		if i := bytes.IndexByte(cur, ':'); i >= 0 {
			name = strings.ToLower(strings.TrimRight(string(cur[:i]), " \t"))
		}
		fields = append(fields, headerField{raw: cur, name: name})
		cur = nil
	}
	for len(block) > 0 {
		line := block
		next := len(block)
		if i := bytes.IndexByte(block, '\n'); i >= 0 {
			line = block[:i]
			next = i + 1
		}
		block = block[next:]
		line = bytes.TrimSuffix(line, []byte("\r"))
		// RFC 5322 §2.2.3: a line starting with WSP continues the field.
		if len(line) == 0 || !isWSP(line[0]) {
			flush()
		}
		cur = append(cur, line...)
		cur = append(cur, '\r', '\n')
	}
	flush()
	return fields
}

// canonHeader appends field canonicalized by c (RFC 6376 §3.4.1, §3.4.2),
// with its CRLF.
func canonHeader(dst []byte, raw []byte, c canon) []byte {
	if c == canonSimple {
		// RFC 6376 §3.4.1: the field is not changed in any way.
		return append(dst, raw...)
	}
	colon := bytes.IndexByte(raw, ':')
	if colon < 0 {
		return append(dst, raw...)
	}
	// RFC 6376 §3.4.2: lower-case the name; unfold; reduce each run of
	// WSP to one SP; remove WSP at the end of the value and on either
	// side of the colon.
	name := bytes.TrimRight(raw[:colon], " \t")
	for _, b := range name {
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		dst = append(dst, b)
	}
	dst = append(dst, ':')
	wsp := false
	started := false
	for _, b := range raw[colon+1:] {
		switch b {
		case '\r', '\n':
			continue // unfold
		case ' ', '\t':
			wsp = true
			continue
		}
		if wsp && started {
			dst = append(dst, ' ')
		}
		wsp = false
		started = true
		dst = append(dst, b)
	}
	return append(dst, '\r', '\n')
}

// bodyCanon canonicalizes a body streamed through Write (RFC 6376 §3.4.3,
// §3.4.4) into out, holding only a few bytes of state whatever the size
// of the body. Close must be called after the last Write. Bare LF is read
// as a line end, as splitHeader does.
type bodyCanon struct {
	out     io.Writer
	relaxed bool
	err     error

	sawCR      bool // the previous byte was a CR not yet known to end a line
	pendingEOL int  // empty lines seen but not written: dropped if the body ends
	lineUsed   bool // the current line has content written
	pendingWSP bool // relaxed: WSP seen since the last content byte
	wroteAny   bool
}

func newBodyCanon(out io.Writer, c canon) *bodyCanon {
	return &bodyCanon{out: out, relaxed: c == canonRelaxed}
}

var crlf = []byte("\r\n")

func (b *bodyCanon) write(p []byte) {
	if b.err == nil && len(p) > 0 {
		_, b.err = b.out.Write(p)
		b.wroteAny = true
	}
}

// content writes a run of bytes that are neither line ends nor (for
// relaxed) WSP.
func (b *bodyCanon) content(p []byte) {
	// RFC 6376 §3.4.3, §3.4.4: empty lines count only when content
	// follows them.
	for ; b.pendingEOL > 0; b.pendingEOL-- {
		b.write(crlf)
	}
	if b.pendingWSP {
		// RFC 6376 §3.4.4: a run of WSP within a line becomes one SP.
		b.write(sp)
		b.pendingWSP = false
	}
	b.write(p)
	b.lineUsed = true
}

func (b *bodyCanon) endLine() {
	// RFC 6376 §3.4.4: WSP at the end of a line is ignored.
	b.pendingWSP = false
	if b.lineUsed {
		b.write(crlf)
	} else {
		b.pendingEOL++
	}
	b.lineUsed = false
}

var (
	cr = []byte("\r")
	sp = []byte(" ")
)

func (b *bodyCanon) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if b.sawCR {
			b.sawCR = false
			if p[0] == '\n' {
				b.endLine()
				p = p[1:]
				continue
			}
			b.content(cr) // a CR alone is content
		}
		// Find the next byte that needs a decision; everything before it
		// is content written in one piece.
		i := 0
		for i < len(p) {
			c := p[i]
			if c == '\r' || c == '\n' || (b.relaxed && (c == ' ' || c == '\t')) {
				break
			}
			i++
		}
		if i > 0 {
			b.content(p[:i])
			p = p[i:]
			continue
		}
		switch p[0] {
		case '\r':
			b.sawCR = true
		case '\n':
			b.endLine()
		default: // relaxed WSP
			b.pendingWSP = true
		}
		p = p[1:]
	}
	return n, b.err
}

// Close ends the body: a last line without CRLF gets one; trailing empty
// lines are dropped; an empty body is CRLF for simple (RFC 6376 §3.4.3)
// and nothing for relaxed (RFC 6376 §3.4.4 adds a CRLF only to a
// non-empty body).
func (b *bodyCanon) Close() error {
	if b.sawCR {
		b.sawCR = false
		b.content(cr)
	}
	if b.lineUsed {
		b.write(crlf)
		b.lineUsed = false
	}
	if !b.relaxed && !b.wroteAny {
		b.write(crlf)
	}
	return b.err
}
