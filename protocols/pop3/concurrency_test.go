package pop3

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestExpungedMeanwhile: a message expunged by another session after login
// answers -ERR to RETR and TOP (not stale data, not a crash); DELE+QUIT of
// it succeeds and removes the others.
func TestExpungedMeanwhile(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "meanwhile", password)
	c.Deliver(t, user, message("a"), message("b"), message("c"))
	uids, _ := inbox(t, n, user)
	_, addr := c.serve(t, n, nil)
	cl := login(t, addr, user)
	c.expunge(t, n, user, uids[1])
	for _, cmd := range []string{"RETR 2", "TOP 2 0"} {
		if got := cl.cmd(cmd); got != "-ERR Message was deleted by another session" {
			t.Fatalf("%s of a message expunged meanwhile: %q", cmd, got)
		}
	}
	if got := cl.must("STAT"); !strings.HasPrefix(got, "+OK 3 ") {
		t.Fatalf("STAT (the maildrop is as of login): %q", got)
	}
	cl.mustMulti("RETR 1")
	cl.must("DELE 1")
	cl.must("DELE 2")
	if got := cl.cmd("QUIT"); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("QUIT: %q", got)
	}
	if got, _ := inbox(t, n, user); !slices.Equal(got, uids[2:]) {
		t.Fatalf("after QUIT: %v, want %v", got, uids[2:])
	}
}

// TestDropDeletesNothing: DELE then a dropped connection deletes nothing
// (RFC 1939 §6); the \Seen of a RETR is still proposed (doc.go).
func TestDropDeletesNothing(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "drop", password)
	c.Deliver(t, user, message("a"), message("b"))
	srv, addr := c.serve(t, n, nil)
	cl := login(t, addr, user)
	cl.mustMulti("RETR 1")
	cl.must("DELE 1")
	cl.must("DELE 2")
	cl.conn.Close()
	waitFor(t, "session end", func() bool { return srv.Sessions() == 0 })
	uids, flags := inbox(t, n, user)
	if len(uids) != 2 {
		t.Fatalf("a dropped connection deleted messages: %v", uids)
	}
	if !slices.Contains(flags[0], `\Seen`) || len(flags[1]) != 0 {
		t.Fatalf("flags after drop: %v", flags)
	}
}

// TestRsetThenQuit: RSET undoes DELE; QUIT then deletes nothing.
func TestRsetThenQuit(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "rset", password)
	c.Deliver(t, user, message("a"), message("b"))
	_, addr := c.serve(t, n, nil)
	cl := login(t, addr, user)
	cl.must("DELE 1")
	cl.must("DELE 2")
	cl.must("RSET")
	if got := cl.must("QUIT"); got != "+OK Bye (0 messages deleted, 2 left)" {
		t.Fatalf("QUIT: %q", got)
	}
	if uids, _ := inbox(t, n, user); len(uids) != 2 {
		t.Fatalf("RSET then QUIT deleted: %v", uids)
	}
}

// TestSeenFlush: a long session proposes \Seen before QUIT once the
// interval has passed (one proposal for all pending RETRs).
func TestSeenFlush(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "flush", password)
	c.Deliver(t, user, message("a"), message("b"), message("c"))
	var clock atomic.Int64 // unix seconds
	clock.Store(1_700_000_000)
	_, addr := c.serve(t, n, func(cfg *Config) {
		cfg.SeenFlushInterval = time.Minute
		cfg.Now = func() time.Time { return time.Unix(clock.Load(), 0) }
	})
	cl := login(t, addr, user)
	cl.mustMulti("RETR 1")
	cl.mustMulti("RETR 2")
	if _, flags := inbox(t, n, user); len(flags[0]) != 0 {
		t.Fatalf("flushed early: %v", flags)
	}
	clock.Add(120)
	cl.must("NOOP") // the flush runs before the next command is read
	cl.must("NOOP")
	_, flags := inbox(t, n, user)
	if !slices.Contains(flags[0], `\Seen`) || !slices.Contains(flags[1], `\Seen`) || len(flags[2]) != 0 {
		t.Fatalf("flags after the flush interval: %v", flags)
	}
}
