package mailheader

import (
	"slices"
	"strings"
	"testing"
)

// FuzzFold: whatever the value, the field is well formed, and unfolding
// gives back the value's words (all of it, octet for octet, unless a word
// was too long for a line).
func FuzzFold(f *testing.F) {
	f.Add("Subject", "hello world")
	f.Add("Authentication-Results", "mx.example.test; spf=pass smtp.mailfrom=a@example.test; dkim=pass header.d=example.test")
	f.Add("X", strings.Repeat("w", 1000)+" "+strings.Repeat("\t", 1000))
	f.Add("X", "a\r\n\tb\nc\rd")
	f.Add("X", strings.Repeat("é ", 500)+strings.Repeat("€", 400))
	f.Fuzz(func(t *testing.T, name, value string) {
		// The name is the caller's constant: a field name of RFC 5322
		// §3.6.8, short enough to leave room for a word.
		if name == "" || len(name) > 76 || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' }) {
			return
		}
		got := Fold(name, value)
		checkLines(t, got, !longRun(value))
		flat := Unfold(got)
		want := name + ": " + Unfold(value)
		words := strings.FieldsFunc(Unfold(value), func(r rune) bool { return r == ' ' || r == '\t' })
		if !slices.ContainsFunc(words, func(w string) bool { return len(w) > HardLimit-len(name)-3 }) {
			// White space past the limit at the end may be dropped.
			if flat != want && (!strings.HasPrefix(want, flat) || strings.Trim(want[len(flat):], " \t") != "") {
				t.Fatalf("Unfold(Fold) = %q, want %q", flat, want)
			}
		} else if squash(flat) != squash(want) {
			t.Fatalf("Unfold(Fold) lost octets: %q, want %q", flat, want)
		}
	})
}

// FuzzField: a field built of Add, Line and Base64 calls in any order is
// well formed and keeps every non-white-space octet in order.
func FuzzField(f *testing.F) {
	f.Add("a b;c", "d e", "QUJD")
	f.Add(strings.Repeat("x", 1000), "", strings.Repeat("QUJD", 100))
	f.Fuzz(func(t *testing.T, add, line, b64 string) {
		fl := NewField("X-Test")
		fl.Add(add)
		fl.Line(line)
		fl.Base64(b64)
		fl.Add(add)
		got := fl.String()
		checkLines(t, got, false) // a call may add white space only
		if squash(got) != squash("X-Test:"+add+line+b64+add) {
			t.Fatalf("octets lost: %q", got)
		}
	})
}

// longRun reports whether s has a run of white space or a word that
// reaches HardLimit, where a line of white space only may be left (see
// Field.Add).
func longRun(s string) bool {
	run, word := 0, 0
	for i := 0; i < len(s); i++ {
		if isWSP(s[i]) || s[i] == '\r' || s[i] == '\n' {
			run, word = run+1, 0
		} else {
			run, word = 0, word+1
		}
		if run > HardLimit-SoftLimit || word > HardLimit-SoftLimit {
			return true
		}
	}
	return false
}

// squash is s without its line breaks and white space, octet by octet.
func squash(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			b = append(b, c)
		}
	}
	return string(b)
}
