package mdn

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

var date = time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)

const original = "From: Bob <bob@remote.example>\r\nTo: alice@example.org\r\nSubject: offer\r\nMessage-ID: <m1@remote.example>\r\n\r\nBuy now.\r\n"

type part struct {
	header textproto.MIMEHeader
	body   string
}

// parse reads an MDN: its header and its three parts, checking CRLF line
// ends on the way.
func parse(t *testing.T, msg []byte) (*mail.Message, []part) {
	t.Helper()
	for i, l := range bytes.Split(msg, []byte("\r\n")) {
		if bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i, l)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("MDN does not parse: %v\n%s", err, msg)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "disposition-notification" {
		t.Fatalf("Content-Type = %q (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var parts []part
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part %d: %v", len(parts), err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, part{p.Header, string(b)})
	}
	if len(parts) != 3 {
		t.Fatalf("%d parts, want 3:\n%s", len(parts), msg)
	}
	return m, parts
}

func fields(t *testing.T, s string) textproto.MIMEHeader {
	t.Helper()
	h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(s + "\r\n"))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("fields %q: %v", s, err)
	}
	return h
}

func TestCompose(t *testing.T) {
	msg, err := Compose(Rejection{
		Reason:         "no thanks",
		From:           "postmaster@example.org",
		To:             "bob@remote.example",
		FinalRecipient: "alice@example.org",
		ReportingUA:    "mx1.example.org",
		Original:       []byte(original),
		Date:           date,
		MessageID:      "mdn-1@example.org",
	})
	if err != nil {
		t.Fatal(err)
	}
	m, parts := parse(t, msg)
	for name, want := range map[string]string{
		"From":           "Postmaster <postmaster@example.org>",
		"To":             "<bob@remote.example>",
		"Subject":        "Automatically rejected mail",
		"Message-Id":     "<mdn-1@example.org>",
		"In-Reply-To":    "<m1@remote.example>",
		"References":     "<m1@remote.example>",
		"Auto-Submitted": "auto-replied",
		"Date":           "Wed, 02 Dec 2026 14:30:00 +0000",
		"Mime-Version":   "1.0",
	} {
		if got := m.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if ct := parts[0].header.Get("Content-Type"); ct != "text/plain; charset=us-ascii" {
		t.Errorf("text part Content-Type = %q", ct)
	}
	if want := "Your message to <alice@example.org> was automatically rejected:\r\nno thanks\r\n"; parts[0].body != want {
		t.Errorf("text part = %q, want %q", parts[0].body, want)
	}
	if ct := parts[1].header.Get("Content-Type"); ct != "message/disposition-notification" {
		t.Errorf("report part Content-Type = %q", ct)
	}
	d := fields(t, parts[1].body)
	for name, want := range map[string]string{
		"Reporting-Ua":        "mx1.example.org; Surat",
		"Final-Recipient":     "rfc822; alice@example.org",
		"Original-Recipient":  "",
		"Original-Message-Id": "<m1@remote.example>",
		"Disposition":         "automatic-action/MDN-sent-automatically; deleted",
	} {
		if got := d.Get(name); got != want {
			t.Errorf("report %s = %q, want %q", name, got, want)
		}
	}
	if ct := parts[2].header.Get("Content-Type"); ct != "text/rfc822-headers" {
		t.Errorf("third part Content-Type = %q", ct)
	}
	if want := original[:strings.Index(original, "\r\n\r\n")+2]; strings.TrimSuffix(parts[2].body, "\r\n") != strings.TrimSuffix(want, "\r\n") {
		t.Errorf("third part = %q, want the original header %q", parts[2].body, want)
	}
	if strings.Contains(string(msg), "Buy now") {
		t.Error("the original body is returned")
	}
}

func TestComposeOriginalRecipientAndUTF8(t *testing.T) {
	msg, err := Compose(Rejection{
		Reason:            "Nein danke, keine Angebote – bitte nicht mehr schreiben.",
		From:              "postmaster@example.org",
		To:                "<bob@remote.example>",
		FinalRecipient:    "alice@example.org",
		OriginalRecipient: "Alice+shop@example.org",
		Original:          []byte(original),
		Date:              date,
	})
	if err != nil {
		t.Fatal(err)
	}
	m, parts := parse(t, msg)
	if parts[0].header.Get("Content-Transfer-Encoding") != "quoted-printable" ||
		!strings.Contains(parts[0].body, "keine Angebote – bitte") ||
		!strings.Contains(parts[0].body, "<Alice+shop@example.org>") {
		t.Errorf("text part = %q (%v)", parts[0].body, parts[0].header)
	}
	d := fields(t, parts[1].body)
	if got := d.Get("Original-Recipient"); got != "rfc822; Alice+shop@example.org" {
		t.Errorf("Original-Recipient = %q", got)
	}
	if got := d.Get("Reporting-Ua"); got != "example.org; Surat" {
		t.Errorf("Reporting-UA = %q (want From's domain when no host is given)", got)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("generated Message-ID = %q", id)
	}
}

func TestComposeInternational(t *testing.T) {
	orig := "From: jörg@bücher.example\r\nSubject: Grüße\r\n\r\nx"
	msg, err := Compose(Rejection{Reason: "no", From: "postmaster@example.org", To: "jörg@bücher.example",
		FinalRecipient: "alice@example.org", Original: []byte(orig), Date: date})
	if err != nil {
		t.Fatal(err)
	}
	_, parts := parse(t, msg)
	if ct := parts[1].header.Get("Content-Type"); ct != "message/global-disposition-notification" {
		t.Errorf("report part Content-Type = %q", ct)
	}
	if ct := parts[2].header.Get("Content-Type"); ct != "message/global-headers" {
		t.Errorf("third part Content-Type = %q", ct)
	}
	if d := fields(t, parts[1].body); d.Get("Original-Message-Id") != "" {
		t.Errorf("Original-Message-ID without a Message-ID: %q", d.Get("Original-Message-Id"))
	}
}

func TestComposeRefuses(t *testing.T) {
	ok := Rejection{Reason: "no", From: "postmaster@example.org", To: "bob@remote.example", FinalRecipient: "alice@example.org", Date: date}
	for name, change := range map[string]func(*Rejection){
		"null sender":    func(r *Rejection) { r.To = "" },
		"null sender <>": func(r *Rejection) { r.To = "<>" },
		"bad to":         func(r *Rejection) { r.To = "bob" },
		"injected to":    func(r *Rejection) { r.To = "bob@x>\r\nBcc: <v@y" },
		"bad from":       func(r *Rejection) { r.From = "postmaster" },
		"no recipient":   func(r *Rejection) { r.FinalRecipient = "" },
	} {
		r := ok
		change(&r)
		if _, err := Compose(r); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	if _, err := Compose(ok); err != nil {
		t.Errorf("no original: %v", err)
	}
}

func TestHeaderSection(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"A: 1\r\nB: 2\r\n\r\nbody", "A: 1\r\nB: 2\r\n"},
		{"A: 1\nB: 2\n\nbody", "A: 1\r\nB: 2\r\n"},
		{"A: 1\r\n", "A: 1\r\n"},
		{"A: 1\rX: 2\r\n\r\n", "A: 1 X: 2\r\n"},
		{"", ""},
	} {
		if got := string(headerSection([]byte(tc.in))); got != tc.want {
			t.Errorf("headerSection(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	var big strings.Builder
	for big.Len() < 2*maxHeader {
		big.WriteString("X-Filler: " + strings.Repeat("y", 60) + "\r\n continued\r\n")
	}
	h := headerSection([]byte(big.String()))
	if len(h) > maxHeader || !bytes.HasSuffix(h, []byte(" continued\r\n")) {
		t.Errorf("a long header is cut to %d octets, ending %q", len(h), h[max(0, len(h)-30):])
	}
}
