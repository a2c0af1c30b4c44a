package pop3

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
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

// withLogin gives a server its own login path over n's store.
func withLogin(t testing.TB, n *testNode, cfg authn.Config) func(*Config) {
	a := logintest.New(t, n.Store, cfg)
	return func(c *Config) { c.Login = a }
}

// TestLoginRateLimit (acceptance G4 style): wrong passwords from one
// client are slowed (the replies say so), then refused at once while
// locked ([SYS/TEMP] with the time left); the right password is accepted
// once the client waits as told (a lockout that ends, not a block).
func TestLoginRateLimit(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "brute", password)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	limiter := ratelimit.New(ratelimit.Config{Now: clock.Now, Sleep: clock.Sleep})
	_, addr := c.serve(t, c.Nodes[0], withLogin(t, c.Nodes[0], authn.Config{Limiter: limiter}))

	var slowed, locked int
	var retry time.Duration
	for i := range 20 {
		cl := dial(t, addr)
		cl.stls()
		cl.must("USER " + user)
		got := cl.cmd("PASS wrong-" + strings.Repeat("x", i))
		switch {
		case strings.HasPrefix(got, "-ERR [SYS/TEMP] Too many failed logins, try again in "):
			locked++
			var secs int
			if _, err := fmt.Sscanf(strings.TrimPrefix(got, "-ERR [SYS/TEMP] Too many failed logins, try again in "), "%d", &secs); err != nil {
				t.Fatalf("locked reply without a time: %q", got)
			}
			retry = time.Duration(secs) * time.Second
		case strings.Contains(got, "slowed down"):
			slowed++
		case !strings.HasPrefix(got, "-ERR [AUTH]"):
			t.Fatalf("wrong password %d: %q", i, got)
		}
		cl.conn.Close()
	}
	if slowed == 0 || locked == 0 {
		t.Fatalf("20 wrong passwords: %d slowed, %d locked; want both", slowed, locked)
	}
	clock.mu.Lock()
	clock.now = clock.now.Add(retry)
	clock.mu.Unlock()
	cl := dial(t, addr)
	cl.stls()
	cl.must("USER " + user)
	if got := cl.cmd("PASS " + password); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("right password after waiting %v as told: %q", retry, got)
	}
	t.Logf("%d of 20 failures slowed, %d locked; waits slept %v; last lock %v", slowed, locked, clock.slept, retry)
}

// TestTooManyFailuresCloses: one connection may fail three times.
func TestTooManyFailuresCloses(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "fails", password)
	_, addr := c.serve(t, c.Nodes[0], nil)
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
// heard is committed answers every login with a temporary failure (RFC
// 3206 [SYS/TEMP]), not a wrong-password one, and accepts no password: its
// copy of an account may be missing or out of date.
func TestUnknownUserWhileCatchingUp(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "catchup", password)
	var caughtUp atomic.Bool
	_, addr := c.serve(t, c.Nodes[0], withLogin(t, c.Nodes[0], authn.Config{CaughtUp: caughtUp.Load}))
	for _, tc := range []struct {
		caughtUp bool
		user     string
		want     string
	}{
		{false, "nobody@" + domain, "-ERR [SYS/TEMP]"},
		{false, user, "-ERR [SYS/TEMP]"},
		{true, "nobody@" + domain, "-ERR [AUTH]"},
		{true, user, "+OK"},
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

// TestLockedClientRefusedAtGreeting: a client locked out for 10 s or more
// gets -ERR [SYS/TEMP] instead of the greeting, before STLS.
func TestLockedClientRefusedAtGreeting(t *testing.T) {
	c := sharedCluster(t)
	a, err := authn.New(authn.Config{Directory: c.Nodes[0].Store, IsNotFound: isNotFound})
	if err != nil {
		t.Fatal(err)
	}
	_, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.Login = a })
	for range 40 {
		a.Limiter().ClientFailed(netip.MustParseAddr("127.0.0.1"))
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "-ERR [SYS/TEMP] Too many failed logins") {
		t.Fatalf("greeting to a locked-out client: %q", l)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("connection still open")
	}
}
