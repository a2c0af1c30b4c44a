package smtp

import (
	"strings"
	"testing"
	"time"
)

// TestSessionDurationLimit: a client that keeps its session busy inside
// the idle timeout (a NOOP every 200 ms) is still ended at
// MaxSessionDuration with 421 4.4.2, and its slot is freed.
func TestSessionDurationLimit(t *testing.T) {
	c := sharedCluster(t)
	srv, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) {
		cfg.ReadTimeout, cfg.MaxSessionDuration = 5*time.Second, time.Second
	})
	start := time.Now()
	cl := dial(t, addr)
	cl.hello()
	for {
		code, msg := cl.cmd("NOOP")
		if code == 421 {
			if !strings.HasPrefix(msg, "4.4.2") {
				t.Fatalf("session ended with 421 %s, want 4.4.2", msg)
			}
			break
		}
		if code != 250 {
			t.Fatalf("NOOP: %d %s", code, msg)
		}
		if time.Since(start) > 4*time.Second {
			t.Fatal("session still open 4 s into a 1 s limit")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("session ended after %v, before its 1 s", d)
	}
	waitFor(t, func() bool { return srv.limits.Open() == 0 })
}

// TestTransactionLimit: past MaxTransactions MAIL commands on one
// connection (under TLS too), MAIL gets 421 4.7.0 and the connection is
// closed; a new connection may send again.
func TestTransactionLimit(t *testing.T) {
	c := sharedCluster(t)
	srv, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) { cfg.MaxTransactions = 3 })
	cl := dial(t, addr)
	cl.hello()
	for range 3 {
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RSET")
	}
	code, msg := cl.cmd("MAIL FROM:<%s>", sender)
	if code != 421 || !strings.HasPrefix(msg, "4.7.0") {
		t.Fatalf("fourth MAIL: %d %s, want 421 4.7.0", code, msg)
	}
	if code, msg := cl.cmd("NOOP"); code != 0 {
		t.Fatalf("after 421 the connection is still open: %d %s", code, msg)
	}
	waitFor(t, func() bool { return srv.limits.Open() == 0 })

	again := dial(t, addr)
	again.hello()
	again.must(250, "MAIL FROM:<%s>", sender)
	again.must(250, "RCPT TO:<%s>", bob)
	if code, msg := again.data(message("after reconnecting")); code != 250 {
		t.Fatalf("new connection: %d %s", code, msg)
	}
}
