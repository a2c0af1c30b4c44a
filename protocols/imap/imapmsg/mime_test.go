package imapmsg

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseTree(t *testing.T) {
	m := Parse(crlf(mimeMessage))
	root := &m.Root
	if !root.IsMultipart() || root.Subtype != "mixed" || len(root.Parts) != 2 {
		t.Fatalf("root: %+v", root)
	}
	if want := []Param{{Name: "boundary", Value: "foo bar"}}; !reflect.DeepEqual(root.Params, want) {
		t.Errorf("root params %+v", root.Params)
	}
	p1 := &root.Parts[0]
	if p1.Type != "text" || p1.Subtype != "x-myown" || p1.Size() != 7 || p1.Lines != 1 || p1.Encoding != "7bit" ||
		!reflect.DeepEqual(p1.Params, []Param{{Name: "charset", Value: "us-ascii"}}) {
		t.Errorf("part 1: %+v", p1)
	}
	p2 := &root.Parts[1]
	if !p2.IsMessage() || p2.Size() != 298 || p2.Envelope == nil || p2.Envelope.Subject != Str("submsg") {
		t.Fatalf("part 2: %+v", p2)
	}
	if sub := p2.Message; !sub.IsMultipart() || sub.Subtype != "alternative" || len(sub.Parts) != 2 ||
		sub.Parts[0].Subtype != "html" || sub.Parts[0].Size() != 20 || sub.Parts[1].Size() != 21 {
		t.Errorf("part 2's message: %+v", sub)
	}
	if p2.Lines != int64(strings.Count(subMessage, "\n")) {
		t.Errorf("part 2 lines %d", p2.Lines)
	}
}

// imaptest's fetch-bodystructure script: a part with a type of its own;
// Dovecot answers (("TEXT" "x-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT"
// 7 1) "MIXED").
func TestParseDefaults(t *testing.T) {
	m := Parse(crlf("From: a@b\n\nplain\n"))
	if r := m.Root; r.Type != "text" || r.Subtype != "plain" || r.Encoding != "7bit" ||
		!reflect.DeepEqual(r.Params, []Param{{Name: "charset", Value: "us-ascii"}}) || r.Lines != 1 || r.Size() != 7 {
		t.Errorf("default: %+v", r)
	}
	// An invalid Content-Type is text/plain (RFC 2045 §5.2).
	m = Parse(crlf("Content-Type: garbage\n\nx"))
	if r := m.Root; r.Type != "text" || r.Subtype != "plain" {
		t.Errorf("invalid: %+v", r)
	}
	// A multipart without a boundary is one opaque part.
	m = Parse(crlf("Content-Type: multipart/mixed\n\nx"))
	if r := m.Root; r.IsMultipart() || r.Type != "application" {
		t.Errorf("no boundary: %+v", r)
	}
	// A multipart with no delimiter has one empty part.
	m = Parse(crlf("Content-Type: multipart/mixed; boundary=b\n\nno parts here\n"))
	if r := m.Root; len(r.Parts) != 1 || r.Parts[0].Size() != 0 {
		t.Errorf("no delimiter: %+v", r)
	}
}

func TestParseFields(t *testing.T) {
	m := Parse(crlf(`Content-Type: Multipart/Mixed; boundary=XX; Foo="a \"b\""
Content-Disposition: inline
Content-Language: en, fr
Content-Location: http://example.com/x

--XX
Content-Type: application/pdf; name="r.pdf"
Content-Transfer-Encoding: base64
Content-ID: <id@x>
Content-Description: a report
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: attachment; filename="r.pdf"; size=4
Content-Language: de

AAAA
--XX--
`))
	r := m.Root
	if r.Type != "Multipart" || r.Subtype != "Mixed" || r.Disposition != "inline" || r.DispositionParams != nil ||
		!reflect.DeepEqual(r.Language, []string{"en", "fr"}) || r.Location != Str("http://example.com/x") ||
		!reflect.DeepEqual(r.Params, []Param{{"boundary", "XX"}, {"foo", `a "b"`}}) {
		t.Errorf("root: %+v", r)
	}
	p := r.Parts[0]
	want := Part{Type: "application", Subtype: "pdf", Params: []Param{{"name", "r.pdf"}}, ID: Str("<id@x>"),
		Description: Str("a report"), Encoding: "base64", MD5: Str("Q2hlY2sgSW50ZWdyaXR5IQ=="),
		Disposition: "attachment", DispositionParams: []Param{{"filename", "r.pdf"}, {"size", "4"}},
		Language: []string{"de"}, HeaderStart: p.HeaderStart, BodyStart: p.BodyStart, End: p.End}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("part:\n got %+v\nwant %+v", p, want)
	}
	if string(m.Body(&p)) != "AAAA" {
		t.Errorf("body %q", m.Body(&p))
	}
}

// Boundaries: the nested multipart ends where its parent's part ends,
// closed or not; a delimiter must start a line and have only white space
// after it; a boundary that prefixes another does not end the other's
// parts.
func TestParseBoundaries(t *testing.T) {
	m := Parse(crlf(`Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=outer-inner

--outer-inner

one
 --outer-inner not a delimiter
--outer-innerX not one either
--outer-inner

two
--outer
Content-Type: text/plain

three
--outer--
`))
	r := m.Root
	if len(r.Parts) != 2 {
		t.Fatalf("root parts %d", len(r.Parts))
	}
	inner := r.Parts[0]
	if len(inner.Parts) != 2 {
		t.Fatalf("inner parts %d", len(inner.Parts))
	}
	if got := string(m.Body(&inner.Parts[0])); got != "one\r\n --outer-inner not a delimiter\r\n--outer-innerX not one either" {
		t.Errorf("inner 1 %q", got)
	}
	if got := string(m.Body(&inner.Parts[1])); got != "two" {
		t.Errorf("inner 2 %q", got)
	}
	if got := string(m.Body(&r.Parts[1])); got != "three" {
		t.Errorf("outer 2 %q", got)
	}
}

func TestParseLimits(t *testing.T) {
	// Nesting past MaxDepth stops descending; nothing panics or recurses
	// without end.
	var b strings.Builder
	for range MaxDepth + 20 {
		b.WriteString("Content-Type: message/rfc822\r\n\r\n")
	}
	b.WriteString("body\r\n")
	m := Parse([]byte(b.String()))
	depth := 0
	for p := &m.Root; p.Message != nil; p = p.Message {
		depth++
	}
	if depth != MaxDepth {
		t.Errorf("depth %d, want %d", depth, MaxDepth)
	}
	p := &m.Root
	for p.Message != nil {
		p = p.Message
	}
	if p.Type != "application" {
		t.Errorf("deepest part %s/%s", p.Type, p.Subtype)
	}
	// More parts than MaxParts: the tree stops at MaxParts.
	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range MaxParts + 10 {
		b.WriteString("--b\r\n\r\nx\r\n")
	}
	m = Parse([]byte(b.String()))
	if n := len(m.Root.Parts); n >= MaxParts || n < MaxParts-1 {
		t.Errorf("%d parts", n)
	}
}

// A header past MaxHeaderParse is read no further: its fields there do
// not count, the sections still hold it whole.
func TestParseLongHeader(t *testing.T) {
	raw := []byte("X-Pad: " + strings.Repeat("x", MaxHeaderParse) + "\r\nContent-Type: image/png\r\n\r\nbody")
	m := Parse(raw)
	if m.Root.Type != "text" || string(m.Body(&m.Root)) != "body" || len(m.Header(&m.Root)) != len(raw)-4 {
		t.Errorf("type %s/%s, body %q", m.Root.Type, m.Root.Subtype, m.Body(&m.Root))
	}
}
