package imapmsg

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// mimeMessage is the message of imaptest's fetch-body-mime script
// (testdata/fetch-body-mime.eml, also read by wire's tests): a multipart
// whose boundary is folded, a message/rfc822 part holding a multipart,
// prologue and epilogue text.
var mimeMessage = readFixture("testdata/fetch-body-mime.eml")

// subMessage is its message/rfc822 part, part 2.
var subMessage = mimeMessage[strings.Index(mimeMessage, "From: sub@"):strings.Index(mimeMessage, "\n--foo bar--")]

// readFixture returns a file of testdata as a string.
func readFixture(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// section parses a section spec as tests write it.
func sec(spec imap.PartSpecifier, part ...int) *imap.FetchItemBodySection {
	return &imap.FetchItemBodySection{Specifier: spec, Part: part}
}

// Dovecot's answers to imaptest's fetch-body-mime script.
func TestBodySectionMIME(t *testing.T) {
	m := Parse(crlf(mimeMessage))
	for _, c := range []struct {
		name string
		bs   *imap.FetchItemBodySection
		want string
	}{
		{"BODY[]", sec(""), mimeMessage},
		{"TEXT", sec(imap.PartSpecifierText), mimeMessage[len("From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n"):]},
		{"1", sec("", 1), "hello\n"},
		{"1.MIME", sec(imap.PartSpecifierMIME, 1), "Content-Type: text/x-myown; charset=us-ascii\n\n"},
		{"2", sec("", 2), subMessage},
		{"2.MIME", sec(imap.PartSpecifierMIME, 2), "Content-Type: message/rfc822\n\n"},
		{"2.HEADER", sec(imap.PartSpecifierHeader, 2), "From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\nContent-Type: multipart/alternative; boundary=\"sub1\"\n\n"},
		{"2.HEADER.FIELDS", &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Part: []int{2}, HeaderFields: []string{"from", "subject", "X-foo"}},
			"From: sub@domain.org\nSubject: submsg\n\n"},
		{"2.HEADER.FIELDS.NOT", &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Part: []int{2}, HeaderFieldsNot: []string{"from", "subject", "X-foo"}},
			"Date: Sun, 12 Aug 2012 12:34:56 +0300\nContent-Type: multipart/alternative; boundary=\"sub1\"\n\n"},
		{"2.TEXT", sec(imap.PartSpecifierText, 2), subMessage[len("From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\nContent-Type: multipart/alternative; boundary=\"sub1\"\n\n"):]},
		{"2.1.MIME", sec(imap.PartSpecifierMIME, 2, 1), "Content-Type: text/html\n\n"},
		{"2.1", sec("", 2, 1), "<p>Hello world</p>\n"},
		{"2.2.MIME", sec(imap.PartSpecifierMIME, 2, 2), "Content-Type: text/plain\n\n"},
		{"2.2", sec("", 2, 2), "Hello another world\n"},
	} {
		got, ok := m.BodySection(c.bs)
		if !ok || string(got) != string(crlf(c.want)) {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, ok, crlf(c.want))
		}
	}
}

// Dovecot's answers to imaptest's fetch-body-message-rfc822(-mime, -x2)
// scripts: part numbers through encapsulated messages and a digest.
func TestBodySectionEncapsulated(t *testing.T) {
	digest := Parse(crlf(`From: user@domain.org
Content-Type: message/rfc822

From: sub@domain.org
Subject: submsg
Content-Type: multipart/digest; boundary="foo"

prologue

--foo 

From: m1@example.com
Subject: m1

m1 body

--foo 
X-Mime: m2 header

From: m2@example.com
Subject: m2

m2 body

--foo--

epilogue
`))
	x2 := Parse(crlf(`From: user@domain.org
Content-Type: message/rfc822

From: user2@domain.org
Content-Type: message/rfc822

From: sub@domain.org
Subject: submsg

Hello world
`))
	for _, c := range []struct {
		name string
		m    *Message
		bs   *imap.FetchItemBodySection
		want string
	}{
		{"digest 1.1", digest, sec("", 1, 1), "From: m1@example.com\nSubject: m1\n\nm1 body\n"},
		{"digest 1.1.MIME", digest, sec(imap.PartSpecifierMIME, 1, 1), "\n"},
		{"digest 1.1.HEADER", digest, sec(imap.PartSpecifierHeader, 1, 1), "From: m1@example.com\nSubject: m1\n\n"},
		{"digest 1.1.TEXT", digest, sec(imap.PartSpecifierText, 1, 1), "m1 body\n"},
		{"digest 1.2.MIME", digest, sec(imap.PartSpecifierMIME, 1, 2), "X-Mime: m2 header\n\n"},
		{"digest 1.2.TEXT", digest, sec(imap.PartSpecifierText, 1, 2), "m2 body\n"},
		{"digest 1.HEADER", digest, sec(imap.PartSpecifierHeader, 1), "From: sub@domain.org\nSubject: submsg\nContent-Type: multipart/digest; boundary=\"foo\"\n\n"},
		{"x2 1.1", x2, sec("", 1, 1), "From: sub@domain.org\nSubject: submsg\n\nHello world\n"},
		{"x2 1.1.1", x2, sec("", 1, 1, 1), "Hello world\n"},
		{"x2 1.HEADER", x2, sec(imap.PartSpecifierHeader, 1), "From: user2@domain.org\nContent-Type: message/rfc822\n\n"},
		{"x2 1.1.HEADER", x2, sec(imap.PartSpecifierHeader, 1, 1), "From: sub@domain.org\nSubject: submsg\n\n"},
		{"x2 1.1.TEXT", x2, sec(imap.PartSpecifierText, 1, 1), "Hello world\n"},
		{"x2 TEXT", x2, sec(imap.PartSpecifierText), "From: user2@domain.org\nContent-Type: message/rfc822\n\nFrom: sub@domain.org\nSubject: submsg\n\nHello world\n"},
		{"x2 1.MIME is the message header", x2, sec(imap.PartSpecifierMIME, 1), "From: user@domain.org\nContent-Type: message/rfc822\n\n"},
	} {
		got, ok := c.m.BodySection(c.bs)
		if !ok || string(got) != string(crlf(c.want)) {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, ok, crlf(c.want))
		}
	}
}

func TestBodySectionMissingPart(t *testing.T) {
	m := Parse(crlf(mimeMessage))
	for _, path := range [][]int{{3}, {0}, {1, 1}, {2, 3}, {2, 1, 1}, {-1}, {math.MaxInt}} {
		if got, ok := m.BodySection(sec("", path...)); ok || len(got) != 0 {
			t.Errorf("%v: got %q, %v; want empty, false", path, got, ok)
		}
	}
	single := Parse(crlf("Subject: x\n\nbody\n"))
	if got, ok := single.BodySection(sec("", 1)); !ok || string(got) != "body\r\n" {
		t.Errorf("BODY[1] of a single part: %q %v", got, ok)
	}
	if _, ok := single.BodySection(sec("", 2)); ok {
		t.Error("BODY[2] of a single part exists")
	}
}

// Dovecot's answers to imaptest's fetch-body script: header fields, text
// and partial ranges.
func TestBodySectionHeaderFieldsAndPartial(t *testing.T) {
	m := Parse(crlf("From: User1 <user1@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s1\n\nbody1\n\n"))
	fields := func(not bool, names ...string) *imap.FetchItemBodySection {
		bs := sec(imap.PartSpecifierHeader)
		if not {
			bs.HeaderFieldsNot = names
		} else {
			bs.HeaderFields = names
		}
		return bs
	}
	for _, c := range []struct {
		name string
		bs   *imap.FetchItemBodySection
		want string
	}{
		{"from", fields(false, "from"), "From: User1 <user1@domain.org>\n\n"},
		{"from from", fields(false, "from", "from"), "From: User1 <user1@domain.org>\n\n"},
		{"from subject", fields(false, "subject", "FROM"), "From: User1 <user1@domain.org>\nSubject: s1\n\n"},
		{"not date", fields(true, "date"), "From: User1 <user1@domain.org>\nSubject: s1\n\n"},
		{"xyz", fields(false, "xyz"), "\n"},
		{"text", sec(imap.PartSpecifierText), "body1\n\n"},
	} {
		got, _ := m.BodySection(c.bs)
		if string(got) != string(crlf(c.want)) {
			t.Errorf("%s: got %q, want %q", c.name, got, crlf(c.want))
		}
	}
	text := []byte("body33\r\n\r\n")
	for _, c := range []struct {
		offset, size int64
		want         string
	}{
		{0, 1, "b"}, {5, 1, "3"}, {5, 2, "3\r"}, {5, 3, "3\r\n"}, {6, 1, "\r"}, {7, 1, "\n"},
		{0, 100, "body33\r\n\r\n"}, {10, 1, ""}, {11, 5, ""},
		{1, math.MaxInt64, "ody33\r\n\r\n"}, {math.MaxInt64, math.MaxInt64, ""}, {math.MaxUint32, math.MaxUint32, ""},
		{1, math.MaxUint32, "ody33\r\n\r\n"}, {-1, 5, ""}, {0, -1, ""},
	} {
		if got := Partial(text, c.offset, c.size); string(got) != c.want {
			t.Errorf("<%d.%d>: got %q, want %q", c.offset, c.size, got, c.want)
		}
	}
}

func TestHeaderSection(t *testing.T) {
	hdr := crlf("From: a@b\nX-Long: one\n two\nSubject: s\n\n")
	bs := sec(imap.PartSpecifierHeader)
	bs.HeaderFields = []string{"x-long"}
	if got := HeaderSection(hdr, bs); string(got) != "X-Long: one\r\n two\r\n\r\n" {
		t.Errorf("got %q", got)
	}
	bs = sec(imap.PartSpecifierHeader)
	bs.Partial = &imap.SectionPartial{Offset: 6, Size: 3}
	if got := HeaderSection(hdr, bs); string(got) != "a@b" {
		t.Errorf("got %q", got)
	}
	// A header with no blank line: the last field gets its line break.
	bs = sec(imap.PartSpecifierHeader)
	bs.HeaderFields = []string{"subject"}
	if got := HeaderSection([]byte("From: a@b\r\nSubject: s"), bs); string(got) != "Subject: s\r\n\r\n" {
		t.Errorf("got %q", got)
	}
}
