package sieve

import (
	"strings"
	"testing"
)

// TestParseHeader: fields with their folding, junk lines skipped, the
// empty line ending the block.
func TestParseHeader(t *testing.T) {
	block := "A: 1\r\nB: two\r\n  lines\r\njunk line\r\n continuation of junk\r\nC : spaced\r\n\r\nD: body\r\n"
	f := parseHeader([]byte(block))
	if len(f) != 3 {
		t.Fatalf("fields %+v", f)
	}
	if f[0].raw != "A: 1\r\n" || f[1].raw != "B: two\r\n  lines\r\n" || f[2].name != "C" || f[2].value() != "spaced" {
		t.Fatalf("fields %+v", f)
	}
	if f[1].value() != "two  lines" {
		t.Fatalf("unfolded %q", f[1].value())
	}
	// No final line end.
	if f := parseHeader([]byte("A: 1")); len(f) != 1 || f[0].value() != "1" {
		t.Fatalf("fields %+v", f)
	}
}

// TestParseHeaderLinear: many continuation lines do not make parsing
// quadratic (a quadratic parse of this block copies tens of gigabytes,
// which the test's timeout catches).
func TestParseHeaderLinear(t *testing.T) {
	block := "X: a\r\n" + strings.Repeat(" b\r\n", 200000) + "\r\n"
	f := parseHeader([]byte(block))
	if len(f) != 1 || len(f[0].raw) != len(block)-2 {
		t.Fatalf("fields %d", len(f))
	}
}

// TestUnknownCharsets: names the tables know without a decoder, and
// names nobody knows, leave the text as it is.
func TestUnknownCharsets(t *testing.T) {
	for _, cs := range []string{"utf-7", "x-nonsense", "ISO-2022-CN-EXT", ""} {
		in := "=?" + cs + "?q?abc?="
		_ = decodeHeader(in) // must not panic
		if got := decodeCharset(cs, []byte("abc")); got != "abc" {
			t.Errorf("%q: %q", cs, got)
		}
	}
	if got := decodeHeader("=?iso-8859-1?q?caf=E9?="); got != "café" {
		t.Errorf("latin-1: %q", got)
	}
	if got := decodeCharset("windows-1252", []byte{0x80}); got != "€" {
		t.Errorf("windows-1252: %q", got)
	}
}
