package smtp

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestThreeNodes: a delivery through a follower is acknowledged only once
// committed and applied there, and every node has it; with two of three
// nodes gone, the survivor answers 4xx after DATA, never 250 (docs/OPERATING.md:
// "never a success, never a permanent failure").
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := startCluster(t, 3)
	// Pick a follower: its proposals are forwarded to the leader.
	follower := c.Follower(t)
	_, addr := c.serve(t, follower, MX, func(cfg *Config) { cfg.ProposeTimeout = 4 * time.Second })

	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	body := message("replicated")
	if code, msg := cl.data(body); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	if got := inbox(t, follower, alice); len(got) != 1 || !bytes.HasSuffix(got[0], body) {
		t.Fatalf("not in the answering node's store at the 250: %d messages", len(got))
	}
	for _, n := range c.Nodes {
		waitFor(t, func() bool { return len(inbox(t, n, alice)) == 1 })
	}

	for _, n := range c.Nodes {
		if n != follower {
			n.Stop()
		}
	}
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice) // reads work without a quorum
	start := time.Now()
	code, msg := cl.data(message("no quorum"))
	if code != 451 || !strings.HasPrefix(msg, "4.3.0") {
		t.Fatalf("end of data without a quorum: %d %s; want 451 4.3.0", code, msg)
	}
	t.Logf("no quorum: %d %s after %v", code, msg, time.Since(start).Round(time.Millisecond))
	if got := inbox(t, follower, alice); len(got) != 1 {
		t.Fatalf("survivor applied a delivery without a quorum: %d messages", len(got))
	}
	cl.must(250, "NOOP")
}
