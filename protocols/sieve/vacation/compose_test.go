package vacation

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

var date = time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)

// parse reads a composed reply, checking every line ends in CRLF and no
// line passes RFC 5322's 998 octets.
func parse(t *testing.T, msg []byte) *mail.Message {
	t.Helper()
	for i, l := range bytes.Split(msg, []byte("\r\n")) {
		if bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i, l)
		}
		if len(l) > 998 {
			t.Fatalf("line %d is %d octets long", i, len(l))
		}
	}
	if !bytes.HasSuffix(msg, []byte("\r\n")) {
		t.Fatalf("message does not end in CRLF: %q", msg)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("reply does not parse: %v\n%s", err, msg)
	}
	return m
}

func body(t *testing.T, m *mail.Message) string {
	t.Helper()
	r := m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decoded(t *testing.T, v string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v // an unknown charset, kept as written
	}
	return d
}

func TestCompose(t *testing.T) {
	msg, err := Compose(Reply{
		From:      "alice@example.org",
		To:        "bob@remote.example",
		Reason:    "I am away until Monday.\nBack soon.",
		Original:  []byte(personal),
		Date:      date,
		MessageID: "reply-1@example.org",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, msg)
	for name, want := range map[string]string{
		"Date":                      "Wed, 02 Dec 2026 14:30:00 +0000",
		"From":                      "<alice@example.org>",
		"To":                        "<bob@remote.example>",
		"Subject":                   "Auto: hi",
		"Message-Id":                "<reply-1@example.org>",
		"In-Reply-To":               "<1@remote.example>",
		"References":                "<1@remote.example>",
		"Auto-Submitted":            "auto-replied",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=us-ascii",
		"Content-Transfer-Encoding": "7bit",
	} {
		if got := m.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := body(t, m); got != "I am away until Monday.\r\nBack soon.\r\n" {
		t.Errorf("body = %q", got)
	}
}

func TestComposeSubject(t *testing.T) {
	for _, tc := range []struct{ name, subject, original, want string }{
		{"script's subject", "Away", personal, "Away"},
		{"script's subject, UTF-8", "Abwesend – zurück am Montag", personal, "Abwesend – zurück am Montag"},
		{"original's", "", personal, "Auto: hi"},
		{"original's, encoded", "", "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n\r\n", "Auto: Grüße"},
		{"original's, raw UTF-8", "", "Subject: Grüße\r\n\r\n", "Auto: Grüße"},
		{"original's, folded", "", "Subject: a\r\n b\r\n\r\n", "Auto: a b"},
		{"original's, unknown charset", "", "Subject: =?x-martian?q?zz?=\r\n\r\n", "Auto: =?x-martian?q?zz?="},
		{"none", "", "To: a@b\r\n\r\n", "Automatic reply"},
		{"spaces between UTF-8 words", "ä  ö  x  ü", personal, "ä  ö  x  ü"},
		{"looks encoded", "=?utf-8?q?x?= is literal", personal, "=?utf-8?q?x?= is literal"},
		{"control character", "a\x01b", personal, "a\x01b"},
		{"injection", "Away\r\nBcc: victim@example.com", personal, "Away  Bcc: victim@example.com"},
		{"long", strings.Repeat("word ", 40), personal, strings.TrimSpace(strings.Repeat("word ", 40))},
		{"long UTF-8", strings.Repeat("wörd ", 40), personal, strings.TrimSpace(strings.Repeat("wörd ", 40))},
	} {
		msg, err := Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Subject: tc.subject,
			Reason: "away", Original: []byte(tc.original), Date: date})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := parse(t, msg)
		raw := m.Header.Get("Subject")
		for _, c := range raw {
			if c >= 0x80 {
				t.Errorf("%s: Subject %q is not ASCII", tc.name, raw)
				break
			}
		}
		if got := decoded(t, raw); strings.TrimSpace(got) != tc.want {
			t.Errorf("%s: Subject decodes to %q, want %q", tc.name, got, tc.want)
		}
		if tc.name == "original's, encoded" && !strings.HasPrefix(raw, "Auto: =?utf-8?q?") {
			t.Errorf("%s: Subject %q: the ASCII words should stay as they are", tc.name, raw)
		}
		if tc.name == "injection" && m.Header.Get("Bcc") != "" {
			t.Errorf("%s: a Bcc field was injected", tc.name)
		}
		if strings.HasPrefix(tc.name, "long") {
			for _, l := range strings.Split(string(msg), "\r\n") {
				if len(l) > 78 {
					t.Errorf("%s: line of %d octets: %q", tc.name, len(l), l)
				}
			}
		}
	}
}

func TestComposeThread(t *testing.T) {
	for _, tc := range []struct{ name, original, irt, refs string }{
		{"no Message-ID", "Subject: x\r\n\r\n", "", ""},
		{"Message-ID", "Message-ID: <p@x>\r\n\r\n", "<p@x>", "<p@x>"},
		{"References", "Message-ID: <p@x>\r\nReferences: <a@x>\r\n <b@x>\r\nIn-Reply-To: <b@x>\r\n\r\n", "<p@x>", "<a@x> <b@x> <p@x>"},
		{"In-Reply-To only", "Message-ID: <p@x>\r\nIn-Reply-To: <b@x>\r\n\r\n", "<p@x>", "<b@x> <p@x>"},
		{"In-Reply-To with two", "Message-ID: <p@x>\r\nIn-Reply-To: <a@x> <b@x>\r\n\r\n", "<p@x>", "<p@x>"},
		{"comment in Message-ID", "Message-ID: (c) <p@x>\r\n\r\n", "<p@x>", "<p@x>"},
		{"broken Message-ID", "Message-ID: p@x\r\n\r\n", "", ""},
	} {
		msg, err := Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Reason: "away",
			Original: []byte(tc.original), Date: date})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := parse(t, msg)
		if got := m.Header.Get("In-Reply-To"); got != tc.irt {
			t.Errorf("%s: In-Reply-To = %q, want %q", tc.name, got, tc.irt)
		}
		if got := m.Header.Get("References"); strings.Join(strings.Fields(got), " ") != tc.refs {
			t.Errorf("%s: References = %q, want %q", tc.name, got, tc.refs)
		}
	}
}

func TestComposeLongThread(t *testing.T) {
	var refs []string
	for i := range 50 {
		refs = append(refs, "<"+strings.Repeat("r", 10)+string(rune('a'+i%26))+"@x>")
	}
	orig := "Message-ID: <p@x>\r\nReferences: " + strings.Join(refs, "\r\n ") + "\r\n\r\n"
	msg, err := Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Reason: "away",
		Original: []byte(orig), Date: date})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(parse(t, msg).Header.Get("References"))
	if len(got) != maxReferences || got[0] != refs[0] || got[len(got)-1] != "<p@x>" || got[len(got)-2] != refs[49] {
		t.Errorf("References = %q", got)
	}
}

func TestComposeBody(t *testing.T) {
	for _, tc := range []struct{ name, reason, cte, want string }{
		{"ascii", "away\r\n", "7bit", "away\r\n"},
		{"CR only", "a\rb", "7bit", "a\r\nb\r\n"},
		{"utf-8", "Ich bin bis Montag weg. Grüße\n", "quoted-printable", "Ich bin bis Montag weg. Grüße\r\n"},
		{"long ascii line", strings.Repeat("x", 1200), "quoted-printable", strings.Repeat("x", 1200) + "\r\n"},
		{"dot line", "a\n.\nb", "7bit", "a\r\n.\r\nb\r\n"},
	} {
		msg, err := Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Reason: tc.reason,
			Original: []byte(personal), Date: date})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := parse(t, msg)
		if got := m.Header.Get("Content-Transfer-Encoding"); got != tc.cte {
			t.Errorf("%s: Content-Transfer-Encoding = %q, want %q", tc.name, got, tc.cte)
		}
		if got := body(t, m); got != tc.want {
			t.Errorf("%s: body = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestComposeMime(t *testing.T) {
	reason := "Content-Type: multipart/alternative; boundary=\"b1\"\n" +
		"Subject: dropped\n" +
		"X-Other: dropped\n" +
		"  continued\n" +
		"content-transfer-encoding: 7bit\n" +
		"\n" +
		"--b1\nContent-Type: text/plain\n\naway\n--b1\nContent-Type: text/html\n\n<p>away</p>\n--b1--\n"
	msg, err := Compose(Reply{From: "Alice <alice@example.org>", To: "bob@remote.example", Subject: "Away",
		Reason: reason, Mime: true, Original: []byte(personal), Date: date})
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, msg)
	if got := m.Header.Get("Content-Type"); got != `multipart/alternative; boundary="b1"` {
		t.Errorf("Content-Type = %q", got)
	}
	if got := m.Header.Get("Subject"); got != "Away" {
		t.Errorf("Subject = %q (the entity's Subject must not replace it)", got)
	}
	if m.Header.Get("X-Other") != "" || strings.Contains(string(msg), "continued") {
		t.Errorf("a non-Content field of the entity was kept:\n%s", msg)
	}
	if got := m.Header.Get("Content-Transfer-Encoding"); got != "7bit" {
		t.Errorf("Content-Transfer-Encoding = %q", got)
	}
	if got, want := body(t, m), strings.ReplaceAll(reason[strings.Index(reason, "--b1"):], "\n", "\r\n"); got != want {
		t.Errorf("body = %q, want %q", got, want)
	}

	// A reason with no header is all body; one with an empty header too.
	for _, reason := range []string{"just text\n", "\njust text\n"} {
		msg, err = Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Reason: reason, Mime: true,
			Original: []byte(personal), Date: date})
		if err != nil {
			t.Fatal(err)
		}
		m = parse(t, msg)
		if got := body(t, m); got != "just text\r\n" || m.Header.Get("Content-Type") != "" {
			t.Errorf("reason %q: body %q, Content-Type %q", reason, got, m.Header.Get("Content-Type"))
		}
	}
	for _, bad := range []string{"", "  \n", "Content-Type: text/plain\nnot a field\n\nbody"} {
		if _, err := Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Reason: bad, Mime: true, Date: date}); err == nil {
			t.Errorf(":mime reason %q: want an error", bad)
		}
	}
}

func TestComposeAddresses(t *testing.T) {
	msg, err := Compose(Reply{From: "Zoë Martin <zoe@example.org>", To: "<bob@remote.example>", Reason: "away", Date: date})
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, msg)
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Zoë Martin" || from[0].Address != "zoe@example.org" {
		t.Errorf("From = %q (%v)", m.Header.Get("From"), err)
	}
	if strings.ContainsFunc(m.Header.Get("From"), func(r rune) bool { return r >= 0x80 }) {
		t.Errorf("From %q is not encoded", m.Header.Get("From"))
	}
	if got := m.Header.Get("To"); got != "<bob@remote.example>" {
		t.Errorf("To = %q", got)
	}
	if id := m.Header.Get("Message-Id"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") {
		t.Errorf("generated Message-ID = %q, want <...@example.org>", id)
	}
	for _, r := range []Reply{
		{From: "not an address", To: "bob@remote.example"},
		{From: "alice@example.org", To: ""},
		{From: "alice@example.org", To: "bob"},
		{From: "alice@example.org", To: "bob@remote.example>\r\nBcc: <x@y"},
	} {
		if _, err := Compose(r); err == nil {
			t.Errorf("Compose(From %q, To %q): want an error", r.From, r.To)
		}
	}
}
