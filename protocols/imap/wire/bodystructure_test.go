package wire

import (
	"testing"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

const mimeMessage = `From: user@domain.org
Date: Sat, 24 Mar 2007 23:00:00 +0200
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary="foo
 bar"

Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii

hello

--foo bar
Content-Type: message/rfc822

From: sub@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary="sub1"

Sub MIME prologue
--sub1
Content-Type: text/html

<p>Hello world</p>

--sub1
Content-Type: text/plain

Hello another world

--sub1--
Sub MIME epilogue

--foo bar--
Root MIME epilogue
`

func TestBodyStructure(t *testing.T) {
	for _, c := range []struct {
		name     string
		msg      string
		extended bool
		want     string
	}{
		// imaptest's fetch-bodystructure script; Dovecot answers
		// (("TEXT" "x-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1)
		// "MIXED"), imaptest comparing case-insensitively.
		{"imaptest BODY", "From: user@domain.org\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n--foo bar\nContent-Type: text/x-myown; charset=us-ascii\n\nhello\n\n--foo bar--\n", false,
			`(("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1) "mixed")`},
		{"default text/plain", "Subject: x\n\nhello\nworld\n", true,
			`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)`},
		{"nested message", mimeMessage, false,
			`(("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 298 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) NIL NIL NIL NIL NIL) (("text" "html" NIL NIL NIL "7bit" 20 1)("text" "plain" NIL NIL NIL "7bit" 21 1) "alternative") 18) "mixed")`},
		{"extension data", `Content-Type: multipart/mixed; boundary=XX
Content-Language: en, fr
Content-Location: http://example.com/x

--XX
Content-Type: application/pdf; name="r.pdf"
Content-Transfer-Encoding: base64
Content-ID: <id@x>
Content-Description: a report
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: attachment; filename="r.pdf"

AAAA
--XX--
`, true, `(("application" "pdf" ("name" "r.pdf") "<id@x>" "a report" "base64" 4 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "r.pdf")) NIL NIL) "mixed" ("boundary" "XX") NIL ("en" "fr") "http://example.com/x")`},
	} {
		m := imapmsg.Parse(crlf(c.msg))
		got := encode(func(e *Encoder) { e.BodyStructure(&m.Root, c.extended) })
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
