package mailheader

import (
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	long := strings.Repeat("x", 1200)
	for _, tc := range []struct {
		name, value, want string
	}{
		{"Subject", "hello", "Subject: hello\r\n"},
		{"Subject", "", "Subject: \r\n"},
		// 78 octets exactly stay on one line; 79 fold before the last word.
		{"Subject", strings.Repeat("a", 60) + " " + strings.Repeat("b", 8),
			"Subject: " + strings.Repeat("a", 60) + " " + strings.Repeat("b", 8) + "\r\n"},
		{"Subject", strings.Repeat("a", 60) + " " + strings.Repeat("b", 9),
			"Subject: " + strings.Repeat("a", 60) + "\r\n " + strings.Repeat("b", 9) + "\r\n"},
		// The fold goes in front of the white space the value has: a tab
		// stays a tab, a run stays a run.
		{"X", strings.Repeat("a", 74) + "\tb", "X: " + strings.Repeat("a", 74) + "\r\n\tb\r\n"},
		{"X", strings.Repeat("a", 74) + "  b", "X: " + strings.Repeat("a", 74) + "\r\n  b\r\n"},
		// A word too long for 78 octets gets a line of its own, unbroken.
		{"X", "a " + strings.Repeat("w", 100) + " b", "X: a\r\n " + strings.Repeat("w", 100) + "\r\n b\r\n"},
		// ... and is not moved off the first line, which would leave "X:" alone.
		{"X", strings.Repeat("w", 100) + " b", "X: " + strings.Repeat("w", 100) + "\r\n b\r\n"},
		// Trailing white space stays on the last line, never a line of its own.
		{"X", strings.Repeat("a", 74) + "   ", "X: " + strings.Repeat("a", 74) + "   \r\n"},
		// Line breaks in the value cannot start another field.
		{"Subject", "hi\r\nBcc: victim@example.test", "Subject: hiBcc: victim@example.test\r\n"},
		{"Subject", "folded\r\n\tbefore", "Subject: folded\tbefore\r\n"},
		// RFC 5322 §2.1.1 MUST: a word longer than 998 octets is broken.
		{"X", long, "X: " + long[:995] + "\r\n " + long[995:] + "\r\n"},
	} {
		got := Fold(tc.name, tc.value)
		if got != tc.want {
			t.Errorf("Fold(%q, %.40q…)\n got %q\nwant %q", tc.name, tc.value, got, tc.want)
		}
		checkLines(t, got, true)
	}
}

// A word broken at the 998 limit is broken between characters, never
// inside one.
func TestFoldLongUTF8Word(t *testing.T) {
	word := strings.Repeat("é", 600) // 1200 octets
	got := Fold("X", word)
	checkLines(t, got, true)
	lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
	if len(lines) != 2 || lines[0] != "X: "+strings.Repeat("é", 497) || lines[1] != " "+strings.Repeat("é", 103) {
		t.Fatalf("got %q", got)
	}
}

func TestUnfold(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\n b", "a b"},
		{"a\r\n\tb\r\n", "a\tb"},
		{"a\n b", "a b"},       // bare LF, as mail from elsewhere has it
		{"a\r b", "a b"},       // bare CR
		{"a \r\n  b", "a   b"}, // only the CRLF goes (RFC 5322 §2.2.3)
		{"", ""},
	} {
		if got := Unfold(tc.in); got != tc.want {
			t.Errorf("Unfold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// One result a line, as Authentication-Results is laid out, and a
// signature appended after the field was signed.
func TestFieldLinesAndBase64(t *testing.T) {
	f := NewField("Authentication-Results")
	f.Add(" mx.example.test;")
	f.Line("\tspf=pass smtp.mailfrom=a@example.test;")
	f.Line("dkim=pass")
	want := "Authentication-Results: mx.example.test;\r\n\tspf=pass smtp.mailfrom=a@example.test;\r\n dkim=pass\r\n"
	if got := f.String(); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}

	f = NewField("ARC-Seal")
	f.Add(" i=1; a=ed25519-sha256; cv=none; d=example.test; s=sel; t=1700000000; b=")
	signed := f.String()
	b64 := strings.Repeat("ABCDEFGHIJ", 35)
	f.Base64(b64)
	got := f.String()
	checkLines(t, got, true)
	if !strings.HasPrefix(got, strings.TrimSuffix(signed, "\r\n")) {
		t.Fatalf("Base64 changed what was signed: %q", got)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\r\n"), "\r\n")
	for i, l := range lines[:len(lines)-1] {
		if len(l) != SoftLimit {
			t.Errorf("line %d has %d octets, want the line filled to %d: %q", i, len(l), SoftLimit, l)
		}
	}
	_, rest, _ := strings.Cut(Unfold(got), "b=")
	if strings.ReplaceAll(rest, " ", "") != b64 {
		t.Fatalf("base64 changed: %q", rest)
	}
	// A nearly full line is not given a few octets.
	f = NewField("X")
	f.Add(" " + strings.Repeat("a", 72) + "b=")
	f.Base64(b64[:20])
	if got := f.String(); got != "X: "+strings.Repeat("a", 72)+"b=\r\n "+b64[:20]+"\r\n" {
		t.Fatalf("got %q", got)
	}
	// ... but the value's last octets go where they fit.
	f = NewField("X")
	f.Add(" " + strings.Repeat("a", 72) + "b=")
	f.Base64("c")
	if got := f.String(); got != "X: "+strings.Repeat("a", 72)+"b=c\r\n" {
		t.Fatalf("got %q", got)
	}
}

// checkLines checks what every field Fold and Field give must be: lines
// ending in CRLF, none longer than 998 octets (RFC 5322 §2.1.1), every
// continuation line starting with white space and not white space only
// (RFC 5322 §2.2.3), no bare CR or LF. Unless strict, a line may be white
// space only: what a value with a run of white space longer than a line
// cannot avoid.
func checkLines(t *testing.T, field string, strict bool) {
	t.Helper()
	if !strings.HasSuffix(field, "\r\n") {
		t.Fatalf("field does not end in CRLF: %q", field)
	}
	for i, l := range strings.Split(strings.TrimSuffix(field, "\r\n"), "\r\n") {
		if len(l) > HardLimit {
			t.Errorf("line %d has %d octets", i, len(l))
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i, l)
		}
		if i > 0 && (l == "" || !isWSP(l[0])) {
			t.Errorf("line %d is not a continuation line: %q", i, l)
		}
		if strict && i > 0 && strings.Trim(l, " \t") == "" {
			t.Errorf("line %d is white space only: %q", i, l)
		}
	}
}
