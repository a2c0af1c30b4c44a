package bayes

import (
	"slices"
	"testing"
)

// FuzzTokenize: whatever the input, tokenizing does not panic, gives
// sorted distinct tokens within MaxTokens, gives the same tokens however
// the input is split into writes, and is deterministic.
func FuzzTokenize(f *testing.F) {
	f.Add([]byte(sampleMessage), 7)
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n"), 1)
	f.Add([]byte("Content-Type: text/html\r\n\r\n<a href='http://[::1]:80/'>&#x110000;&#0;&;<!--"), 3)
	f.Add([]byte("Content-Transfer-Encoding: quoted-printable\r\n\r\n=\r=\n=4=ZZ="), 2)
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\nSubject: =?x?q?=FF?="), 5)
	f.Add([]byte("Subject:\r\n \r\n\r\nhttp://\x00://www.://"), 4)
	f.Fuzz(func(t *testing.T, msg []byte, split int) {
		whole := NewTokenizer()
		whole.Write(msg)
		got := whole.Tokens()
		if len(got) > MaxTokens {
			t.Fatalf("%d tokens", len(got))
		}
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatal("tokens not sorted and distinct")
		}
		if !slices.Equal(got, whole.Tokens()) {
			t.Fatal("Tokens not deterministic")
		}
		if split < 0 {
			split = -split
		}
		split %= len(msg) + 1
		parts := NewTokenizer()
		parts.Write(msg[:split])
		parts.Write(msg[split:])
		if !slices.Equal(got, parts.Tokens()) {
			t.Fatal("tokens depend on how the input was written")
		}
	})
}
