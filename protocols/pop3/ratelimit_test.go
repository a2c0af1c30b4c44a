package pop3

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/ratelimit"
)

// fakeClock is an injected clock whose Sleep advances it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

// TestLoginRateLimit (acceptance G4 style): 20 wrong passwords, then the
// right one. Failures are slowed (the waits grow, the replies say so), the
// right password is still accepted (no lockout), and within 15 s of
// simulated waiting.
func TestLoginRateLimit(t *testing.T) {
	c := sharedCluster(t)
	user := c.newUser(t, "brute")
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	limiter := ratelimit.New(ratelimit.Config{Now: clock.Now, Sleep: clock.Sleep})
	_, addr := c.serve(t, c.nodes[0], func(cfg *Config) { cfg.AuthLimiter = limiter })

	var slowed int
	for i := range 20 {
		cl := dial(t, addr)
		cl.stls()
		cl.must("USER " + user)
		got := cl.cmd("PASS wrong-" + strings.Repeat("x", i))
		if !strings.HasPrefix(got, "-ERR [AUTH]") {
			t.Fatalf("wrong password %d: %q", i, got)
		}
		if strings.Contains(got, "slowed down") {
			slowed++
		}
		cl.conn.Close()
	}
	if slowed == 0 || len(clock.slept) == 0 {
		t.Fatalf("20 wrong passwords were never slowed (%d hinted, waits %v)", slowed, clock.slept)
	}
	before := clock.Now()
	cl := dial(t, addr)
	cl.stls()
	cl.must("USER " + user)
	if got := cl.cmd("PASS " + password); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("right password after the burst: %q", got)
	}
	waited := clock.Now().Sub(before)
	if waited > 15*time.Second {
		t.Fatalf("right password waited %v", waited)
	}
	t.Logf("%d of 20 failures hinted as slowed; waits %v; right password waited %v", slowed, clock.slept, waited)
}

// TestTooManyFailuresCloses: one connection may fail MaxAuthFailures times.
func TestTooManyFailuresCloses(t *testing.T) {
	c := sharedCluster(t)
	user := c.newUser(t, "fails")
	limiter := ratelimit.New(ratelimit.Config{Free: 100})
	_, addr := c.serve(t, c.nodes[0], func(cfg *Config) { cfg.AuthLimiter = limiter; cfg.MaxAuthFailures = 3 })
	cl := dial(t, addr)
	cl.stls()
	for i := range 3 {
		cl.must("USER " + user)
		got := cl.cmd("PASS nope")
		if i < 2 && got != "-ERR [AUTH] Authentication failed" || i == 2 && !strings.Contains(got, "Too many failed logins") {
			t.Fatalf("failure %d: %q", i+1, got)
		}
	}
	if l := cl.line(); !strings.HasPrefix(l, "EOF") {
		t.Fatalf("still open: %q", l)
	}
}

// TestUnknownUserWhileCatchingUp: a node that has not applied all it has
// heard is committed answers an unknown user's login with a temporary
// failure (RFC 3206 [SYS/TEMP]), not a wrong-password one; known users log
// in as ever.
func TestUnknownUserWhileCatchingUp(t *testing.T) {
	c := sharedCluster(t)
	user := c.newUser(t, "catchup")
	var caughtUp atomic.Bool
	_, addr := c.serve(t, c.nodes[0], func(cfg *Config) { cfg.CaughtUp = caughtUp.Load })
	for _, tc := range []struct {
		caughtUp bool
		user     string
		want     string
	}{
		{false, "nobody@" + domain, "-ERR [SYS/TEMP]"},
		{false, user, "+OK"},
		{true, "nobody@" + domain, "-ERR [AUTH]"},
	} {
		caughtUp.Store(tc.caughtUp)
		cl := dial(t, addr)
		cl.stls()
		cl.must("USER " + tc.user)
		if got := cl.cmd("PASS " + password); !strings.HasPrefix(got, tc.want) {
			t.Errorf("caught up %v, login as %s: %q, want %s", tc.caughtUp, tc.user, got, tc.want)
		}
		cl.conn.Close()
	}
}
