package wire

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

// crlf turns a message written with LF line ends into its stored form.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// Dovecot's answers to imaptest's fetch-envelope script, byte for byte.
func TestEnvelopeDovecot(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{readFixture("../imapmsg/testdata/fetch-envelope.eml"), `("Thu, 15 Feb 2007 01:02:03 +0200" "subject header" (("From Real" NIL "fromuser" "fromdomain.org")) (("Sender Real" NIL "senderuser" "senderdomain.org")) (("ReplyTo Real" NIL "replytouser" "replytodomain.org")) (("To Real" NIL "touser" "todomain.org")) (("Cc Real" NIL "ccuser" "ccdomain.org")) (("Bcc Real" NIL "bccuser" "bccdomain.org")) "<reply@to.id>" "<msg@id>")`},
		{"Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain\n\nbody\n",
			`("Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) ((NIL NIL "user" "domain")) NIL NIL NIL NIL NIL)`},
		{"Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\nTo: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\nCc: group:;, group2: (foo) ;\n\nbody\n",
			`("Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) ((NIL NIL "group" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL)) ((NIL NIL "group" NIL)(NIL NIL NIL NIL)(NIL NIL "group2" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)`},
		{"Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain (Real Name)\nSender: \nReply-To: \n\nbody\n",
			`("Thu, 15 Feb 2007 01:02:03 +0200" NIL (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) (("Real Name" NIL "user" "domain")) NIL NIL NIL NIL NIL)`},
		{"Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: <@route:user@domain>\n\nbody\n",
			`("Thu, 15 Feb 2007 01:02:03 +0200" NIL ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) ((NIL "@route" "user" "domain")) NIL NIL NIL NIL NIL)`},
		{"Subject: NiL\n\n", `(NIL "NiL" NIL NIL NIL NIL NIL NIL NIL NIL)`},
		{`Subject: a "quoted" \ word` + "\n\n", `(NIL "a \"quoted\" \\ word" NIL NIL NIL NIL NIL NIL NIL NIL)`},
	} {
		got := encode(func(e *Encoder) { e.Envelope(imapmsg.ParseEnvelope(crlf(c.header))) })
		if got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestEnvelopeEightBit(t *testing.T) {
	env := imapmsg.ParseEnvelope([]byte("Subject: Grüße\r\n\r\n"))
	// Without UTF-8 quoting the subject is a literal (RFC 9051 §4.3);
	// with it (IMAP4rev2, UTF8=ACCEPT) quoted.
	if got := encode(func(e *Encoder) { e.Envelope(env) }); got != "(NIL {7}\r\nGrüße NIL NIL NIL NIL NIL NIL NIL NIL)" {
		t.Errorf("got %q", got)
	}
	if got := encode(func(e *Encoder) { e.UTF8 = true; e.Envelope(env) }); got != `(NIL "Grüße" NIL NIL NIL NIL NIL NIL NIL NIL)` {
		t.Errorf("got %q", got)
	}
	if got := encode(func(e *Encoder) { e.Envelope(nil) }); got != "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)" {
		t.Errorf("nil: %q", got)
	}
}

// BenchmarkEnvelope writes the ENVELOPE of a typical list message, as a
// FETCH of 10,000 envelopes does 10,000 times.
func BenchmarkEnvelope(b *testing.B) {
	env := imapmsg.ParseEnvelope(crlf(`Message-ID: <20240215010203.12345@lists.example.org>
In-Reply-To: <20240214220000.999@mail.example.net>
Date: Thu, 15 Feb 2024 01:02:03 +0000
From: "Bob Example" <bob@example.org>
To: Alice <alice@example.com>, "Carol, C." <carol@example.net>,
 dave@example.com
Cc: The List <list@lists.example.org>
Subject: =?utf-8?q?Re=3A_caf=C3=A9_meeting?=

`))
	e := NewEncoder(bufio.NewWriterSize(io.Discard, 64<<10))
	b.ReportAllocs()
	for b.Loop() {
		e.Envelope(env)
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
}
