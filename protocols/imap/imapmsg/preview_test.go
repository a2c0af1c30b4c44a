package imapmsg

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreview(t *testing.T) {
	for _, c := range []struct{ name, msg, want string }{
		{"plain", "Subject: x\n\nHello   world,\n\nsee you\ttomorrow.\n", "Hello world, see you tomorrow."},
		{"quoted lines left out", "Subject: x\n\nSure.\n\nOn Monday Bob wrote:\n> the old\n  > text\nThanks\n", "Sure. On Monday Bob wrote: Thanks"},
		{"no text part", "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n", ""},
		{"empty body", "Subject: x\n\n", ""},
		{"html", "Content-Type: text/html; charset=utf-8\n\n<html><head><title>T</title><style>p{color:red}</style></head><body><p>Hello&nbsp;<b>there</b></p><p>caf&eacute; &amp; more</p><script>x()</script><blockquote>old</blockquote>end</body></html>\n",
			"Hello there café & more end"},
		{"qp latin-1", "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe aus K=F6ln=\n!\n", "Grüße aus Köln!"},
		{"base64 utf-8", "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nR3LDvMOfZQ==\n", "Grüße"},
		{"first text part, attachment skipped", `Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain
Content-Disposition: attachment; filename=a.txt

attached
--b
Content-Type: multipart/alternative; boundary=c

--c
Content-Type: text/plain

the plain one
--c
Content-Type: text/html

<p>the html one</p>
--c--
--b--
`, "the plain one"},
		{"encapsulated message not entered", "Content-Type: message/rfc822\n\nSubject: inner\n\ninner text\n", ""},
	} {
		if got := Parse(crlf(c.msg)).Preview(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestPreviewLimits(t *testing.T) {
	long := Parse(crlf("Subject: x\n\n" + strings.Repeat("word ", 100) + "\n")).Preview()
	if n := utf8.RuneCountInString(long); n > PreviewChars || strings.HasSuffix(long, " ") {
		t.Errorf("%d characters: %q", n, long)
	}
	// Multi-octet characters: 256 octets bind before 200 characters.
	wide := Parse(crlf("Content-Type: text/plain; charset=utf-8\n\n" + strings.Repeat("ü", 300) + "\n")).Preview()
	if len(wide) > 256 || !utf8.ValidString(wide) || len(wide) < 250 {
		t.Errorf("%d octets", len(wide))
	}
	// Invalid UTF-8 and control characters are dropped.
	if got := Parse([]byte("Subject: x\r\n\r\na\xffb\x00c\x1bd\r\n")).Preview(); got != "abcd" {
		t.Errorf("got %q", got)
	}
}
