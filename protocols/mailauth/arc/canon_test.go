package arc

import (
	"bytes"
	"testing"
)

// TestCanonHeader covers RFC 6376 §3.4.1 and §3.4.2, with the example of
// §3.4.5.
func TestCanonHeader(t *testing.T) {
	cases := []struct {
		raw, simple, relaxed string
	}{
		// RFC 6376 §3.4.5.
		{"A: X\r\n", "A: X\r\n", "a:X\r\n"},
		{"B : Y\t\r\n\tZ  \r\n", "B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n"},
		{"Subject:   many   spaces\t\tand tabs \r\n", "Subject:   many   spaces\t\tand tabs \r\n", "subject:many spaces and tabs\r\n"},
		{"X-Empty:\r\n", "X-Empty:\r\n", "x-empty:\r\n"},
		{"X-Folded:\r\n value\r\n", "X-Folded:\r\n value\r\n", "x-folded:value\r\n"},
	}
	for _, tc := range cases {
		if got := string(canonHeader(nil, []byte(tc.raw), canonSimple)); got != tc.simple {
			t.Errorf("simple(%q) = %q, want %q", tc.raw, got, tc.simple)
		}
		if got := string(canonHeader(nil, []byte(tc.raw), canonRelaxed)); got != tc.relaxed {
			t.Errorf("relaxed(%q) = %q, want %q", tc.raw, got, tc.relaxed)
		}
	}
}

func canonBody(body string, c canon, chunk int) string {
	var out bytes.Buffer
	bc := newBodyCanon(&out, c)
	p := []byte(body)
	for len(p) > 0 {
		n := min(chunk, len(p))
		bc.Write(p[:n])
		p = p[n:]
	}
	bc.Close()
	return out.String()
}

// TestCanonBody covers RFC 6376 §3.4.3 and §3.4.4, written in one piece
// and in pieces of every small size, which must not change the result.
func TestCanonBody(t *testing.T) {
	cases := []struct {
		body, simple, relaxed string
	}{
		// RFC 6376 §3.4.5.
		{" C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n", " C\r\nD E\r\n"},
		{"", "\r\n", ""},
		{"\r\n", "\r\n", ""},
		{"\r\n\r\n", "\r\n", ""},
		{"abc", "abc\r\n", "abc\r\n"},
		{"abc\r\n\r\n\r\nx", "abc\r\n\r\n\r\nx\r\n", "abc\r\n\r\n\r\nx\r\n"},
		{" \t \r\n", " \t \r\n", ""},                                                       // a line of WSP is empty when relaxed
		{"a\r\n \r\n\t\r\nb\r\n \r\n", "a\r\n \r\n\t\r\nb\r\n \r\n", "a\r\n\r\n\r\nb\r\n"}, // inner WSP-only lines stay as empty lines
		{"a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n"},                                           // bare LF read as CRLF
		{"a\rb\r\n", "a\rb\r\n", "a\rb\r\n"},                                               // a lone CR is content
		{"a\r", "a\r\r\n", "a\r\r\n"},
		{"  lead  \r\n", "  lead  \r\n", " lead\r\n"},
	}
	for _, tc := range cases {
		for _, chunk := range []int{1, 2, 3, 7, 1 << 20} {
			if got := canonBody(tc.body, canonSimple, chunk); got != tc.simple {
				t.Errorf("simple(%q) by %d = %q, want %q", tc.body, chunk, got, tc.simple)
			}
			if got := canonBody(tc.body, canonRelaxed, chunk); got != tc.relaxed {
				t.Errorf("relaxed(%q) by %d = %q, want %q", tc.body, chunk, got, tc.relaxed)
			}
		}
	}
}

// TestSplitHeader checks field boundaries, continuation lines, bare LF
// and names.
func TestSplitHeader(t *testing.T) {
	fields := splitHeader([]byte("From: a\r\nSubject: one\r\n two\nX-Bare: lf\n\tcont\r\nno colon here\r\n"))
	want := []struct{ name, raw string }{
		{"from", "From: a\r\n"},
		{"subject", "Subject: one\r\n two\r\n"},
		{"x-bare", "X-Bare: lf\r\n\tcont\r\n"},
		{"", "no colon here\r\n"},
	}
	if len(fields) != len(want) {
		t.Fatalf("%d fields: %q", len(fields), fields)
	}
	for i, w := range want {
		if fields[i].name != w.name || string(fields[i].raw) != w.raw {
			t.Errorf("field %d = %q %q, want %q %q", i, fields[i].name, fields[i].raw, w.name, w.raw)
		}
	}
}

// TestSelectFields follows RFC 6376 §5.4.2: bottom-up, one field per
// listed name, absent names add nothing.
func TestSelectFields(t *testing.T) {
	fields := splitHeader([]byte("Received: 1\r\nFrom: a\r\nReceived: 2\r\nReceived: 3\r\n"))
	got := selectFields(fields, []string{"received", "received", "from", "subject", "received", "received"})
	want := []string{"Received: 3\r\n", "Received: 2\r\n", "From: a\r\n", "Received: 1\r\n"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], want[i])
		}
	}
}
