package smtp

import (
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/ratelimit"
)

// closed reports whether the server has closed the connection.
func (c *client) closed() bool {
	code, _ := c.read()
	return code == 0
}

// TestAuthFailuresCloseConnection: the third failed AUTH on one connection
// gets 421 4.7.0 and the connection is closed (as IMAP and POP3 do), so a
// guesser cannot loop on one connection.
func TestAuthFailuresCloseConnection(t *testing.T) {
	c := sharedCluster(t)
	for _, kind := range []Kind{Submission, Submissions} {
		_, addr := c.serve(t, c.Nodes[0], kind, nil)
		var cl *client
		if kind == Submissions {
			cl = dialTLS(t, addr)
			cl.ehlo()
		} else {
			cl = dial(t, addr)
			cl.hello()
		}
		cl.must(535, "AUTH PLAIN %s", plain(alice, "one"))
		cl.must(535, "AUTH PLAIN %s", plain("nobody@"+domain, "two"))
		if msg := cl.must(421, "AUTH PLAIN %s", plain(alice, "three")); !strings.HasPrefix(msg, "4.7.0") {
			t.Fatalf("%v: third failure: 421 %s, want 4.7.0", kind, msg)
		}
		if !cl.closed() {
			t.Fatalf("%v: connection still open after 421", kind)
		}
		// The next connection may log in.
		if kind == Submission {
			next := dial(t, addr)
			next.hello()
			next.must(235, "AUTH PLAIN %s", plain(alice, alicePass))
		}
	}
}

// TestAuthNodeBehind: a node that has not applied all the cluster committed
// answers AUTH with 454 4.7.0 (temporary), even for the right password: its
// copy of the account may hold a password the cluster already changed.
func TestAuthNodeBehind(t *testing.T) {
	c := sharedCluster(t)
	behind := func() bool { return false }
	_, addr := c.serve(t, c.Nodes[0], Submission, withLogin(t, c.Nodes[0], login.Config{CaughtUp: behind}))
	cl := dial(t, addr)
	cl.hello()
	if code, msg := cl.cmd("AUTH PLAIN %s", plain(alice, alicePass)); code != 454 || !strings.HasPrefix(msg, "4.7.0") {
		t.Fatalf("AUTH on a node behind: %d %s, want 454 4.7.0", code, msg)
	}
	cl.must(530, "MAIL FROM:<%s>", alice)
}

// TestRcptHarvesting: unknown recipients count against the client. In one
// session the 20th gets 421 and the connection closes (Postfix's
// smtpd_hard_error_limit); then the client is locked on the whole node, and
// a known recipient is refused like an unknown one, so a harvester learns
// nothing more. Other clients are untouched.
func TestRcptHarvesting(t *testing.T) {
	c := sharedCluster(t)
	clk := newFakeClock()
	lim := ratelimit.New(ratelimit.Config{Now: clk.Now, Sleep: clk.Sleep})
	_, addr := c.serve(t, c.Nodes[0], MX, withLogin(t, c.Nodes[0], login.Config{Limiter: lim}))

	cl := dial(t, addr)
	cl.ehlo()
	cl.must(250, "MAIL FROM:<%s>", sender)
	for i := range maxUnknownRecipients - 1 {
		if code, msg := cl.cmd("RCPT TO:<guess%d@%s>", i, domain); code != 550 {
			t.Fatalf("unknown recipient %d: %d %s", i+1, code, msg)
		}
	}
	if msg := cl.must(421, "RCPT TO:<guess-last@%s>", domain); !strings.HasPrefix(msg, "4.7.0") {
		t.Fatalf("20th unknown recipient: 421 %s", msg)
	}
	if !cl.closed() {
		t.Fatal("connection still open after 421")
	}

	again := dial(t, addr)
	again.ehlo()
	again.must(250, "MAIL FROM:<%s>", sender)
	if code, msg := again.cmd("RCPT TO:<%s>", alice); code != 421 {
		t.Fatalf("known recipient from a locked harvester: %d %s, want 421", code, msg)
	}

	// Once the lock has passed, mail flows again.
	clk.advance(ratelimit.DefaultClient.Max)
	later := dial(t, addr)
	later.ehlo()
	later.must(250, "MAIL FROM:<%s>", sender)
	later.must(250, "RCPT TO:<%s>", alice)
}
