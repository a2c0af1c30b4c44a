package mailheader

import (
	"strings"
	"testing"
)

func TestOneLineAndCRLF(t *testing.T) {
	if got := OneLine("a\r\nb\x00c"); got != "a  b c" {
		t.Errorf("OneLine = %q", got)
	}
	if got := CRLF("a\nb\r\nc\rd"); got != "a\r\nb\r\nc\r\nd" {
		t.Errorf("CRLF = %q", got)
	}
}

func TestTextEntity(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"ascii", "hello\nthere", "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\nhello\r\nthere\r\n"},
		{"utf-8", "grüße\r\n", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ngr=C3=BC=C3=9Fe\r\n"},
		{"invalid utf-8", "a\xff", "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=EF=BF=BD\r\n"},
	} {
		if got := string(TextEntity(tc.text)); got != tc.want {
			t.Errorf("%s: TextEntity = %q, want %q", tc.name, got, tc.want)
		}
	}
	long := string(TextEntity(strings.Repeat("x", HardLimit+1)))
	if !strings.Contains(long, "quoted-printable") {
		t.Errorf("a line over %d octets is not quoted-printable: %.120q", HardLimit, long)
	}
	for _, l := range strings.Split(long, "\r\n") {
		if len(l) > 78 {
			t.Errorf("quoted-printable line of %d octets", len(l))
		}
	}
}

func TestLines(t *testing.T) {
	var got []string
	for l := range Lines([]byte("A: 1\r\n b\nC: 2\r\n\r\nbody\r\n")) {
		got = append(got, string(l))
	}
	if strings.Join(got, "|") != "A: 1| b|C: 2" {
		t.Errorf("Lines = %q", got)
	}
	got = nil
	for l := range Lines([]byte("A: 1")) {
		got = append(got, string(l))
	}
	if len(got) != 1 || got[0] != "A: 1" {
		t.Errorf("Lines without an end = %q", got)
	}
}
