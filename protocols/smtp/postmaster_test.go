package smtp

import (
	"bytes"
	"testing"
)

// TestPostmaster: RFC 5321 §4.5.1: postmaster@ of every local domain is
// accepted, in any case, and delivered to Config.Postmaster when no user
// or alias has that name; without a mailbox to take it, 550 as before.
func TestPostmaster(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Postmaster = alice })
	before := len(inbox(t, n, alice))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<postmaster@%s>", domain)
	cl.must(250, "RCPT TO:<PostMaster@fresh.test>") // another local domain
	if code, msg := cl.data(message("to the postmaster")); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}
	got := inbox(t, n, alice)
	if len(got) != before+1 || !bytes.Contains(got[len(got)-1], []byte("Subject: to the postmaster")) {
		t.Fatalf("postmaster mail not in %s's INBOX", alice)
	}
	// Other unknown users are still unknown; remote postmasters are not ours.
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(550, "RCPT TO:<postmistress@%s>", domain)
	cl.must(550, "RCPT TO:<postmaster@remote.test>")

	// The default target is postmaster@<first domain> (here an alias of
	// alice's), for every other local domain.
	_, addr = c.serve(t, n, MX, nil)
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<postmaster@fresh.test>")
	cl.must(250, "RSET")

	// A target without a mailbox: 550, and the operator is told in the log.
	_, addr = c.serve(t, n, MX, func(cfg *Config) { cfg.Postmaster = "nobody@" + domain })
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(550, "RCPT TO:<postmaster@fresh.test>")
}
