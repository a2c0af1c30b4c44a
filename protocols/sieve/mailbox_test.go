package sieve

import "testing"

// TestMailboxExists: RFC 5490 §3.1: true only when every mailbox exists.
func TestMailboxExists(t *testing.T) {
	env := testEnv()
	env.MailboxExists = func(name string) bool { return name == "INBOX" || name == "Work" }
	for _, c := range []struct {
		test string
		want bool
	}{
		{`mailboxexists "Work"`, true},
		{`mailboxexists ["Work", "INBOX"]`, true},
		{`mailboxexists ["Work", "Play"]`, false},
	} {
		if got := holdsOn(t, `"mailbox"`, c.test, testMessage, env); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
	// Without a callback nothing exists.
	if holds(t, `"mailbox"`, `mailboxexists "INBOX"`) {
		t.Error("mailboxexists without a callback held")
	}
	// The RFC 5490 idiom: file where it exists, else keep.
	env.MailboxExists = func(string) bool { return false }
	r := runOn(t, `require ["fileinto", "mailbox"];
if mailboxexists "Lists" { fileinto "Lists"; }`, testMessage, env)
	if got := mailboxes(r); got != "KEEP" {
		t.Fatalf("filed %q", got)
	}
}
