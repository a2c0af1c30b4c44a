package filter

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/sieve"
)

// A vacation :from is used only when it is one of the user's own
// addresses; any other is replaced by the user's.
func TestVacationFromIsTheUsers(t *testing.T) {
	own := []string{"alice@example.test", "a.smith@example.test"}
	for _, c := range []struct{ from, want string }{
		{"", "<alice@example.test>"},
		{"A. Smith <a.smith@example.test>", "a.smith@example.test"},
		{"ALICE@example.test", "ALICE@example.test"},
		{"ceo@example.test", "<alice@example.test>"},
		{"Bank <security@bank.example>", "<alice@example.test>"},
		{"not an address", "<alice@example.test>"},
	} {
		msg, err := MessageReplies{}.Vacation(VacationReply{
			User: "alice@example.test", To: "bob@remote.test",
			Header:    []byte("From: bob@remote.test\r\nSubject: hi\r\n\r\n"),
			Vacation:  &sieve.Vacation{From: c.from, Reason: "away"},
			Addresses: own, Now: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatalf(":from %q: %v", c.from, err)
		}
		head, _, _ := strings.Cut(string(msg), "\r\n\r\n")
		var from string
		for _, line := range strings.Split(head, "\r\n") {
			if strings.HasPrefix(line, "From:") {
				from = line
			}
		}
		if !strings.Contains(from, c.want) {
			t.Errorf(":from %q gave %q, want it to hold %q", c.from, from, c.want)
		}
	}
}

// Replies carry the DKIM signature of their From's domain on top; a
// signer's failure sends them unsigned.
func TestRepliesAreSigned(t *testing.T) {
	var asked []string
	sign := func(domain string, msg []byte) ([]byte, error) {
		asked = append(asked, domain)
		if domain == "broken.test" {
			return nil, errors.New("no key")
		}
		return []byte("DKIM-Signature: v=1; d=" + domain + "; b=x\r\n"), nil
	}
	m := MessageReplies{Hostname: "mx.example.test", Sign: sign}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	header := []byte("From: bob@remote.test\r\nSubject: hi\r\n\r\n")
	for _, c := range []struct {
		user, from string
		own        []string
		want       string // the signature's domain, or "" for unsigned
	}{
		{"alice@example.test", "", nil, "example.test"},
		{"alice@example.test", "alice@other.test", []string{"alice@other.test"}, "other.test"},
		{"carol@broken.test", "", nil, ""},
	} {
		asked = nil
		msg, err := m.Vacation(VacationReply{User: c.user, To: "bob@remote.test", Header: header,
			Vacation: &sieve.Vacation{From: c.from, Reason: "away"}, Addresses: c.own, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		signed := strings.HasPrefix(string(msg), "DKIM-Signature: v=1; d="+c.want+";")
		if c.want != "" && !signed || c.want == "" && strings.HasPrefix(string(msg), "DKIM-Signature") {
			t.Errorf("vacation from %s (%q): starts %q, want signed by %q", c.user, c.from, firstLine(msg), c.want)
		}
		if len(asked) != 1 {
			t.Errorf("signer asked %v, want once", asked)
		}
	}
	msg, err := m.Rejection(Rejection{User: "alice@example.test", Recipient: "alice@example.test",
		To: "bob@remote.test", Reason: "no thanks", Header: header, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(msg), "DKIM-Signature: v=1; d=example.test;") {
		t.Errorf("rejection starts %q, want example.test's signature", firstLine(msg))
	}
}

func firstLine(msg []byte) string {
	line, _, _ := strings.Cut(string(msg), "\r\n")
	return line
}
