package filter

import (
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
