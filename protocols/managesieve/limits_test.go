package managesieve

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/protocoltest"
)

// Malformed and unknown commands are answered NO; past MaxBadCommands the
// session ends with BYE.
func TestBadCommands(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxBadCommands = 3; c.MaxLine = 100 })
	c, _ := dial(t, ts.addr)
	for _, line := range []string{"FROB", "NOOP " + strings.Repeat("x", 200), `"quoted"`} {
		if r := c.cmd(line); r.status != "NO" {
			t.Fatalf("%.20s: %v", line, r)
		}
	}
	if r := c.cmd("CAPABILITY extra"); r.status != "BYE" {
		t.Fatalf("fourth bad command: %v", r)
	}
}

// A line or literal far past the limits ends the session at once.
func TestAbuseEndsSession(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	if r := c.cmd(`PUTSCRIPT "a" {4000000+}`); r.status != "BYE" {
		t.Fatalf("huge literal: %v", r)
	}
}

// An idle session is closed with BYE after AuthTimeout before login.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.AuthTimeout = 200 * time.Millisecond })
	c, _ := dial(t, ts.addr)
	if r := c.read(); r.status != "BYE" {
		t.Fatalf("idle: %v", r)
	}
}

// Past MaxSessionsPerIP a connection gets BYE (TRYLATER) instead of the
// greeting.
func TestSessionLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessionsPerIP = 1 })
	dial(t, ts.addr)
	protocoltest.WaitFor(t, 5*time.Second, "one session", func() bool { return ts.srv.Sessions() == 1 })
	c := &client{t: t, conn: protocoltest.Dial(t, ts.addr, false)}
	c.r = newReader(c.conn)
	if r := c.read(); r.status != "BYE" || r.code != "TRYLATER" {
		t.Fatalf("second session: %v", r)
	}
}

// Shutdown ends idle sessions at once and returns.
func TestShutdownEndsIdleSessions(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := c.read(); r.status != "EOF" {
		t.Fatalf("after Shutdown: %v", r)
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Fatalf("%d sessions after Shutdown", n)
	}
}

// Pipelined commands are all answered, in order.
func TestPipelining(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	c.send("PUTSCRIPT \"a\" {5+}\r\nkeep;\r\nSETACTIVE \"a\"\r\nLISTSCRIPTS\r\nNOOP\r\n")
	for i, want := range []string{"OK", "OK", "OK", "OK"} {
		if r := c.read(); r.status != want {
			t.Fatalf("response %d: %v", i, r)
		}
	}
}
