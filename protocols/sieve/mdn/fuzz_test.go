package mdn

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzCompose reads arbitrary originals and reasons: the MDN always
// parses into its three parts, and the returned header never carries
// the original's body or an empty line (which would end it early).
func FuzzCompose(f *testing.F) {
	f.Add([]byte(original), "no thanks")
	f.Add([]byte("Message-ID: <a@b>\nSubject: x\n\nbody"), "Nein – danke")
	f.Add([]byte("\r\n\r\n"), "")
	f.Add([]byte(" leading continuation\r\nMessage-ID:<>\r\n"), "\r\n.\r\n")
	f.Fuzz(func(t *testing.T, orig []byte, reason string) {
		msg, err := Compose(Rejection{Reason: reason, From: "postmaster@example.org", To: "bob@remote.example",
			FinalRecipient: "alice@example.org", Original: orig, Date: date, MessageID: "m@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		_, parts := parse(t, msg)
		if h := parts[2].body; strings.Contains(h, "\r\n\r\n") {
			t.Fatalf("returned header has an empty line: %q", h)
		}
		head := headerSection(orig)
		if len(head) > maxHeader || (len(head) > 0 && !bytes.HasSuffix(head, []byte("\r\n"))) {
			t.Fatalf("headerSection = %q", head)
		}
	})
}
