package vacation

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
)

// FuzzShouldReply feeds raw header blocks to the tolerant header reader
// and the reply rules: no panic, and a reply only when one of the user's
// addresses is in the header.
func FuzzShouldReply(f *testing.F) {
	for _, s := range []string{personal, "To: a@b\n\n", "To: team: a@b;\r\n", "Auto-Submitted: (x\\) no\r\n", "\r\n\r\n", ":\r\n \r\n", "To: <@>\r\n"} {
		f.Add([]byte(s), "bob@remote.example")
	}
	f.Fuzz(func(t *testing.T, header []byte, from string) {
		ok, reason := ShouldReply(header, from, []string{"alice@example.org"})
		if ok != (reason == "") {
			t.Fatalf("ShouldReply = %v, %q", ok, reason)
		}
		if ok && !bytes.Contains(bytes.ToLower(header), []byte("@example.org")) {
			t.Fatalf("reply to a header that does not name the user: %q", header)
		}
	})
}

// FuzzCompose checks that whatever the original header, subject and
// reason, a composed reply parses, ends its lines in CRLF and carries
// exactly one Subject and Auto-Submitted: auto-replied.
func FuzzCompose(f *testing.F) {
	f.Add([]byte(personal), "", "away", false)
	f.Add([]byte("Subject: =?utf-8?b?w7w=?=\r\nMessage-ID: <a@b>\r\nReferences: <c@d>\r\n\r\n"), "Grüße", "weg\n", false)
	f.Add([]byte(""), "", "Content-Type: text/plain\n\nx", true)
	f.Fuzz(func(t *testing.T, original []byte, subject, reason string, isMime bool) {
		msg, err := Compose(Reply{From: "alice@example.org", To: "bob@remote.example", Subject: subject,
			Reason: reason, Mime: isMime, Original: original, Date: date, MessageID: "r@example.org"})
		if err != nil {
			if !isMime {
				t.Fatalf("Compose: %v", err)
			}
			return
		}
		for _, l := range bytes.Split(msg, []byte("\r\n")) {
			if bytes.ContainsAny(l, "\r\n") {
				t.Fatalf("bare CR or LF in %q", msg)
			}
			if len(l) > 998 && !isMime { // a :mime entity is sent as its author wrote it
				t.Fatalf("line of %d octets", len(l))
			}
		}
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("reply does not parse: %v\n%q", err, msg)
		}
		if len(m.Header["Subject"]) != 1 || m.Header.Get("Auto-Submitted") != "auto-replied" || len(m.Header["To"]) != 1 {
			t.Fatalf("header fields wrong: %q", msg)
		}
		if !isASCII(strings.Join(m.Header["Subject"], "")) {
			t.Fatalf("Subject not ASCII: %q", m.Header["Subject"])
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
