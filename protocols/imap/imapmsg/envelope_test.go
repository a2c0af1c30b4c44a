package imapmsg

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvelopeFields(t *testing.T) {
	env := ParseEnvelope(crlf(readFixture("testdata/fetch-envelope.eml")))
	want := &Envelope{
		Date:      Str("Thu, 15 Feb 2007 01:02:03 +0200"),
		Subject:   Str("subject header"),
		From:      []Address{{Name: "From Real", Mailbox: "fromuser", Host: "fromdomain.org"}},
		Sender:    []Address{{Name: "Sender Real", Mailbox: "senderuser", Host: "senderdomain.org"}},
		ReplyTo:   []Address{{Name: "ReplyTo Real", Mailbox: "replytouser", Host: "replytodomain.org"}},
		To:        []Address{{Name: "To Real", Mailbox: "touser", Host: "todomain.org"}},
		Cc:        []Address{{Name: "Cc Real", Mailbox: "ccuser", Host: "ccdomain.org"}},
		Bcc:       []Address{{Name: "Bcc Real", Mailbox: "bccuser", Host: "bccdomain.org"}},
		InReplyTo: Str("<reply@to.id>"),
		MessageID: Str("<msg@id>"),
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got  %+v\nwant %+v", env, want)
	}
}

// The cases of imaptest's fetch-envelope script, with Dovecot's answers.
func TestEnvelopeDovecotCases(t *testing.T) {
	user := []Address{{Mailbox: "user", Host: "domain"}}
	real := []Address{{Name: "Real Name", Mailbox: "user", Host: "domain"}}
	for _, c := range []struct {
		name, header string
		want         *Envelope
	}{
		{"minimal", "Date: Thu, 15 Feb 2007 01:02:03 +0200\nFrom: user@domain\n\nbody\n",
			&Envelope{Date: Str("Thu, 15 Feb 2007 01:02:03 +0200"), From: user, Sender: user, ReplyTo: user}},
		{"groups", "From: user@domain (Real Name)\nTo: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;\nCc: group:;, group2: (foo) ;\n\n",
			&Envelope{From: real, Sender: real, ReplyTo: real,
				To: []Address{{Mailbox: "group"}, {Mailbox: "g1", Host: "d1.org"}, {Mailbox: "g2", Host: "d2.org"}, {},
					{Mailbox: "group2"}, {Mailbox: "g3", Host: "d3.org"}, {}},
				Cc: []Address{{Mailbox: "group"}, {}, {Mailbox: "group2"}, {}}}},
		{"empty sender and reply-to are from", "From: user@domain (Real Name)\nSender: \nReply-To: \n\n",
			&Envelope{From: real, Sender: real, ReplyTo: real}},
		{"route", "From: <@route:user@domain>\n\n",
			&Envelope{From: []Address{{Route: "@route", Mailbox: "user", Host: "domain"}},
				Sender:  []Address{{Route: "@route", Mailbox: "user", Host: "domain"}},
				ReplyTo: []Address{{Route: "@route", Mailbox: "user", Host: "domain"}}}},
		{"subject NIL is a string", "Subject: NiL\n\n", &Envelope{Subject: Str("NiL")}},
		{"empty subject is empty, not NIL", "Subject:\n\n", &Envelope{Subject: Str("")}},
		{"no header", "", &Envelope{}},
		{"NUL dropped", "Subject: a\x00b\n\n", &Envelope{Subject: Str("ab")}},
		{"last field counts", "Subject: one\nFrom: a@b\nSubject: two\nFrom: c@d\n\n", &Envelope{Subject: Str("two"),
			From: []Address{{Mailbox: "c", Host: "d"}}, Sender: []Address{{Mailbox: "c", Host: "d"}}, ReplyTo: []Address{{Mailbox: "c", Host: "d"}}}},
		{"folded and encoded subject kept raw, white space for humans", "Subject: =?utf-8?q?caf=C3=A9?=\n\t and  more \n\n",
			&Envelope{Subject: Str("=?utf-8?q?caf=C3=A9?= and more")}},
		{"date as written", "Date:  Thu, 15 Feb 2007 01:02:03 +0200 (EET)\n\n", &Envelope{Date: Str("Thu, 15 Feb 2007 01:02:03 +0200 (EET)")}},
		{"case of names", "SUBJECT: x\nfrom: a@b\n\n", &Envelope{Subject: Str("x"),
			From: []Address{{Mailbox: "a", Host: "b"}}, Sender: []Address{{Mailbox: "a", Host: "b"}}, ReplyTo: []Address{{Mailbox: "a", Host: "b"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ParseEnvelope(crlf(c.header)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParseAddressList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Address
	}{
		{"", nil},
		{"   ", nil},
		{"a@b", []Address{{Mailbox: "a", Host: "b"}}},
		{`"Doe, John" <john@example.com>`, []Address{{Name: "Doe, John", Mailbox: "john", Host: "example.com"}}},
		{`"quoted \"name\"" <q@x>`, []Address{{Name: `quoted "name"`, Mailbox: "q", Host: "x"}}},
		{"\"  spaced\tname  \" <q@x>", []Address{{Name: "spaced name", Mailbox: "q", Host: "x"}}},
		{"John Q. Public <jqp@example.com>", []Address{{Name: "John Q. Public", Mailbox: "jqp", Host: "example.com"}}},
		{"=?utf-8?q?J=C3=B6rg?= <j@x>", []Address{{Name: "=?utf-8?q?J=C3=B6rg?=", Mailbox: "j", Host: "x"}}},
		{"a@b, c@d", []Address{{Mailbox: "a", Host: "b"}, {Mailbox: "c", Host: "d"}}},
		{"a@b,,c@d,", []Address{{Mailbox: "a", Host: "b"}, {Mailbox: "c", Host: "d"}}},
		{"user", []Address{{Mailbox: "user", Host: MissingDomain}}},
		{"Name <user>", []Address{{Name: "Name", Mailbox: "user", Host: MissingDomain}}},
		{"Name <@x>", []Address{{Name: "Name", Mailbox: MissingMailbox, Host: "x"}}},
		{"<>", nil},
		{"first.last@sub.example.com", []Address{{Mailbox: "first.last", Host: "sub.example.com"}}},
		{`"a b"@x`, []Address{{Mailbox: "a b", Host: "x"}}},
		{"u@[192.0.2.1]", []Address{{Mailbox: "u", Host: "[192.0.2.1]"}}},
		{"<@a,@b:u@x>", []Address{{Route: "@a,@b", Mailbox: "u", Host: "x"}}},
		{"u@x (Real (nested) Name)", []Address{{Name: "Real (nested) Name", Mailbox: "u", Host: "x"}}},
		{"Name\r\n <folded@x>", []Address{{Name: "Name", Mailbox: "folded", Host: "x"}}},
		{"Jörg <j@bücher.example>", []Address{{Name: "Jörg", Mailbox: "j", Host: "bücher.example"}}},
		{"undisclosed-recipients:;", []Address{{Mailbox: "undisclosed-recipients"}, {}}},
		{"> junk <a@b>", []Address{{Name: "junk", Mailbox: "a", Host: "b"}}},
	} {
		if got := ParseAddressList(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, want %+v", c.in, got, c.want)
		}
	}
}

func TestEnvelopeIMAP(t *testing.T) {
	env := ParseEnvelope(crlf("Date: Thu, 15 Feb 2007 01:02:03 +0200\nSubject: =?utf-8?q?caf=C3=A9?=\nFrom: =?iso-8859-1?q?J=F6rg?= <j@x>\nIn-Reply-To: <a@b> <c@d>\nMessage-ID: <m@id>\n\n"))
	got := env.IMAP()
	if got.Subject != "café" || got.From[0].Name != "Jörg" || got.MessageID != "m@id" ||
		!reflect.DeepEqual(got.InReplyTo, []string{"a@b", "c@d"}) ||
		!got.Date.Equal(time.Date(2007, 2, 14, 23, 2, 3, 0, time.UTC)) {
		t.Errorf("IMAP() = %+v", got)
	}
}

// Inputs that a parser scanning ahead from each token would read in
// quadratic time: each must take one pass (a regression shows as a test
// timeout, not an assertion).
func TestParseAddressListLinear(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("<@", 1<<17),
		strings.Repeat("<@a,", 1<<16),
		strings.Repeat("@[", 1<<17),
		strings.Repeat("(", 1<<17),
		strings.Repeat("a:", 1<<17),
		strings.Repeat("\"", 1<<17),
	} {
		ParseAddressList(s)
	}
}
