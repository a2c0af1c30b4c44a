package wire

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// quotedByByte is the reference: Quoted as it was written first, one
// octet at a time.
func quotedByByte(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}

func quotedOf(s string) string {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	NewEncoder(w).Quoted(s)
	w.Flush()
	return b.String()
}

func TestQuotedRuns(t *testing.T) {
	for _, s := range []string{"", `"`, `\`, `""`, `a"b\c`, `\\x"`, "plain text", `ends in "`, `"starts`, "ünïcode \"x\""} {
		if got, want := quotedOf(s), quotedByByte(s); got != want {
			t.Errorf("Quoted(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzQuoted(f *testing.F) {
	f.Add(`a"b\c`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := quotedOf(s), quotedByByte(s); got != want {
			t.Fatalf("Quoted(%q) = %s, want %s", s, got, want)
		}
	})
}

// BenchmarkQuoted writes the strings of a typical ENVELOPE (subject,
// display names, address parts) as quoted strings.
func BenchmarkQuoted(b *testing.B) {
	strs := []string{"Re: [list] Weekly meeting notes for the project \"Surat\" (draft)", "Alice Example", "alice", "example.org",
		"Bob \\ Builder", "bob", "mail.example.com", "<CAF1234567890abcdef@mail.example.com>"}
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	w := bufio.NewWriterSize(io.Discard, 4096)
	e := NewEncoder(w)
	for i := 0; i < b.N; i++ {
		for _, s := range strs {
			e.Quoted(s)
		}
	}
}
