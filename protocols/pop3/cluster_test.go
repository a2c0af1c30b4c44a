package pop3

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestThreeNodes: UIDL is the same on every node and stable across
// sessions; DELE+QUIT through one node is gone from another node's store;
// with two of three nodes gone, QUIT answers -ERR [SYS/TEMP] and deletes
// nothing (docs/DESIGN.md invariant 1).
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := startCluster(t, 3)
	user := c.NewUser(t, "three", password)
	c.Deliver(t, user, message("m1"), message("m2"), message("m3"), message("m4"))
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		waitFor(t, "delivery on "+n.Node.ID(), func() bool { return count(n, user) == 4 })
		_, addrs[i] = c.serve(t, n, func(cfg *Config) { cfg.ProposeTimeout = 4 * time.Second })
	}

	uidl := func(addr string) []string {
		cl := login(t, addr, user)
		_, l := cl.mustMulti("UIDL")
		cl.must("QUIT")
		return l
	}
	first := uidl(addrs[0])
	if len(first) != 4 {
		t.Fatalf("UIDL: %q", first)
	}
	for i, a := range addrs {
		if got := uidl(a); !slices.Equal(got, first) {
			t.Fatalf("UIDL on n%d %q, on n1 %q", i+1, got, first)
		}
	}
	if again := uidl(addrs[0]); !slices.Equal(again, first) {
		t.Fatalf("UIDL changed between sessions: %q then %q", first, again)
	}

	// DELE+QUIT on n2: gone on n3's store once +OK arrived there... and on
	// n2's at the +OK (ack after commit and apply on the answering node).
	cl := login(t, addrs[1], user)
	cl.must("DELE 1")
	if got := cl.cmd("QUIT"); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("QUIT: %q", got)
	}
	if u, _ := inbox(t, c.Nodes[1], user); len(u) != 3 {
		t.Fatalf("n2 has %d messages at the +OK, want 3", len(u))
	}
	waitFor(t, "expunge on n3", func() bool { return count(c.Nodes[2], user) == 3 })
	// The survivors keep their UIDL values.
	if got := uidl(addrs[2]); !slices.Equal(got, []string{
		"1 " + strings.Fields(first[1])[1], "2 " + strings.Fields(first[2])[1], "3 " + strings.Fields(first[3])[1]}) {
		t.Fatalf("UIDL after expunge %q (before %q)", got, first)
	}

	// No quorum: keep n1, stop the others.
	survivor := c.Nodes[0]
	cl = login(t, addrs[0], user)
	cl.mustMulti("RETR 1")
	cl.must("DELE 1")
	cl.must("DELE 2")
	for _, n := range c.Nodes[1:] {
		n.Stop()
	}
	start := time.Now()
	got := cl.cmd("QUIT")
	if !strings.HasPrefix(got, "-ERR [SYS/TEMP]") {
		t.Fatalf("QUIT without a quorum: %q, want -ERR [SYS/TEMP]", got)
	}
	t.Logf("no quorum: %q after %v", got, time.Since(start).Round(time.Millisecond))
	if u, flags := inbox(t, survivor, user); len(u) != 3 || len(flags[0]) != 0 {
		t.Fatalf("survivor changed without a quorum: %v %v", u, flags)
	}
}

// count is the number of messages in user's INBOX on n, -1 if unknown yet.
func count(n *testNode, user string) int {
	mb, err := n.Store.MailboxByName(user, "INBOX")
	if err != nil {
		return -1
	}
	return int(mb.GetMessages())
}
