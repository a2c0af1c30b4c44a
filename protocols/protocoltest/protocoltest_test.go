package protocoltest_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/protocoltest"
)

// TestKillRestartConverge: a delivery through a follower is on every node;
// after the leader is killed another node leads, a delivery through it
// commits, and the killed node, restarted on its data, catches up to the
// same digest.
func TestKillRestartConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := protocoltest.Start(t, protocoltest.Options{Size: 3})
	user := c.NewUser(t, "fixture", "pw")
	first := []byte("Subject: one\r\n\r\nHello.\r\n")
	c.Follower(t).Deliver(t, user, first)
	c.WaitConverged(t, 20*time.Second)
	for _, n := range c.Nodes {
		if got := n.Inbox(t, user); len(got) != 1 || !bytes.Equal(got[0].Body, first) || got[0].UID != 1 {
			t.Fatalf("%s: INBOX %+v", n.ID, got)
		}
	}

	old := c.Leader(t)
	old.Kill()
	if old.Running() || len(c.Live()) != 2 {
		t.Fatalf("after Kill: running %v, %d live", old.Running(), len(c.Live()))
	}
	next := c.Leader(t)
	if next == old {
		t.Fatal("the killed node still leads")
	}
	second := []byte("Subject: two\r\n\r\nHello again.\r\n")
	next.Deliver(t, user, second)
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	c.WaitReady(t)
	c.WaitConverged(t, 30*time.Second)
	if got := old.Bodies(t, user); len(got) != 2 || !bytes.Equal(got[1], second) {
		t.Fatalf("restarted %s: %d messages", old.ID, len(got))
	}
}
