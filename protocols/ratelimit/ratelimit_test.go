package ratelimit

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock whose Sleep advances it.
type clock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newClock() *clock { return &clock{now: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	return ctx.Err()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newLimiter(c *clock, cfg Config) *Limiter {
	cfg.Now, cfg.Sleep = c.Now, c.Sleep
	return New(cfg)
}

var (
	ipA = netip.MustParseAddr("192.0.2.1")
	ipB = netip.MustParseAddr("198.51.100.7")
)

const alice = "alice@example.test"

// TestLockoutBackoffGrows: one client guessing one account waits nothing
// for Free failures, then 1 s, 2 s, 4 s ... and, once the wait passes
// MaxWait, is refused at once with the time left, growing to the cap of
// 15 min; a quiet period forgives it.
func TestLockoutBackoffGrows(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{})
	ctx := context.Background()
	var waits []time.Duration
	for range 30 {
		d, err := l.Admit(ctx, ipA, alice)
		if err != nil {
			t.Fatal(err)
		}
		if d.Locked > 0 {
			waits = append(waits, d.Locked)
			c.advance(d.Locked) // the client comes back when told
			d, _ = l.Admit(ctx, ipA, alice)
			if d.Locked > 0 {
				t.Fatalf("still locked %v after waiting as told", d.Locked)
			}
		} else {
			waits = append(waits, d.Waited)
		}
		l.Failed(ipA, alice)
	}
	want := []time.Duration{0, 0, 0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	for i, w := range want {
		if waits[i] != w {
			t.Fatalf("wait before attempt %d = %v, want %v (all: %v)", i+1, waits[i], w, waits)
		}
	}
	if longest := slices.Max(waits); longest != 15*time.Minute {
		t.Fatalf("longest wait in 30 failures %v, want the 15 min cap (all: %v)", longest, waits)
	}
	// A guesser that returns when told settles near one try per Decay.
	for _, w := range waits[len(waits)-5:] {
		if w < 8*time.Minute {
			t.Fatalf("steady-state lock %v, want at least 8 min (all: %v)", w, waits)
		}
	}
	// Only short waits are slept; the long ones were refusals.
	for _, s := range c.slept {
		if s > 2*time.Second {
			t.Fatalf("slept %v: a long lock must be refused, not slept", s)
		}
	}
	c.advance(24 * time.Hour)
	if d, _ := l.Admit(ctx, ipA, alice); d.Locked != 0 || d.Waited != 0 {
		t.Fatalf("a day later: %+v", d)
	}
}

// TestLockedIsImmediate: a locked pair is refused without sleeping.
func TestLockedIsImmediate(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{Pair: Policy{Free: 1, Base: time.Minute}})
	l.Failed(ipA, alice)
	d, err := l.Admit(context.Background(), ipA, alice)
	if err != nil || d.Locked != time.Minute || d.Waited != 0 || len(c.slept) != 0 {
		t.Fatalf("Admit = %+v, %v; slept %v", d, err, c.slept)
	}
}

// TestIPv6KeyedOnPrefix: addresses in one /64 are one client; another /64
// is another; IPv4-mapped addresses are their IPv4 address.
func TestIPv6KeyedOnPrefix(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"2001:db8:1:2::1%eth0", "2001:db8:1:2::99"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
	} {
		if ka, kb := ClientKey(netip.MustParseAddr(tc.a)), ClientKey(netip.MustParseAddr(tc.b)); ka != kb {
			t.Errorf("ClientKey(%s) = %s, ClientKey(%s) = %s: want one key", tc.a, ka, tc.b, kb)
		}
	}
	if ClientKey(netip.MustParseAddr("2001:db8:1:2::1")) == ClientKey(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Error("two /64s share a key")
	}
	if got := ClientKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); got != "ip:2001:db8:1:2::/64" {
		t.Errorf("ClientKey = %q", got)
	}

	// A guesser rotating through its /64 is still one client.
	c := newClock()
	l := newLimiter(c, Config{})
	for i := range 40 {
		ip := netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		l.Failed(ip, fmt.Sprintf("user%d@example.test", i))
	}
	d, _ := l.Admit(context.Background(), netip.MustParseAddr("2001:db8:1:2::abcd"), "other@example.test")
	if d.Locked == 0 {
		t.Fatalf("40 failures across one /64 did not lock it: %+v", d)
	}
	d, _ = l.Admit(context.Background(), netip.MustParseAddr("2001:db8:1:3::1"), "other@example.test")
	if d.Locked != 0 || d.Waited != 0 {
		t.Fatalf("the next /64 was penalised: %+v", d)
	}
}

// TestAccountLockDoesNotDenyTheRealUser (RFC 4954 §9): many clients guess
// one account; new clients are slowed by the account key, but a client the
// user logged in from before is not, and the account's lock is capped
// lower than a guesser's own.
func TestAccountLockDoesNotDenyTheRealUser(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{})
	ctx := context.Background()
	home := netip.MustParseAddr("203.0.113.5")
	if d, _ := l.Admit(ctx, home, alice); d != (Decision{}) {
		t.Fatal(d)
	}
	l.Succeeded(home, alice)
	for i := range 200 {
		bot := netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)})
		l.Failed(bot, alice)
	}
	stranger := netip.MustParseAddr("203.0.113.99")
	d, _ := l.Admit(ctx, stranger, alice)
	if d.Locked == 0 || d.Locked > 5*time.Minute {
		t.Fatalf("a new client during a distributed guess: %+v, want locked at most 5 min", d)
	}
	if d, _ := l.Admit(ctx, home, alice); d != (Decision{}) {
		t.Fatalf("the user's known client was penalised: %+v", d)
	}
	// A trusted client still has its own pair limit.
	for range 10 {
		l.Failed(home, alice)
	}
	if d, _ := l.Admit(ctx, home, alice); d.Locked == 0 {
		t.Fatalf("a trusted client guessing was not locked: %+v", d)
	}
}

// TestConcurrentAttemptsReserveSlots: a penalised key admits one attempt
// per delay, not one per connection.
func TestConcurrentAttemptsReserveSlots(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{Pair: Policy{Free: 1, Base: 10 * time.Second}, MaxWait: time.Millisecond})
	l.Failed(ipA, alice)
	c.advance(10 * time.Second)
	var admitted int
	for range 50 {
		if d, _ := l.Admit(context.Background(), ipA, alice); d.Locked == 0 {
			admitted++
		}
	}
	if admitted != 1 {
		t.Fatalf("%d of 50 concurrent attempts admitted, want 1", admitted)
	}
}

// TestClientFailuresFromRecipients: unknown recipients lock the client
// (harvesting), for logins too; other clients are untouched.
func TestClientFailuresFromRecipients(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{})
	for range 20 {
		if l.ClientLocked(ipA) != 0 {
			t.Fatal("locked within the free failures")
		}
		l.ClientFailed(ipA)
	}
	if l.ClientLocked(ipA) == 0 {
		t.Fatal("21st recipient: not locked")
	}
	for range 5 {
		l.ClientFailed(ipA)
	}
	if got := l.ClientLocked(ipA); got != 32*time.Second {
		t.Fatalf("after 25 unknown recipients: locked %v, want 32s", got)
	}
	if d, _ := l.Admit(context.Background(), ipA, alice); d.Locked == 0 {
		t.Fatal("a harvesting client may still guess passwords")
	}
	if l.ClientLocked(ipB) != 0 {
		t.Fatal("another client locked")
	}
}

func TestAdmitStopsWithContext(t *testing.T) {
	l := New(Config{Pair: Policy{Free: 1, Base: time.Second}})
	l.Failed(ipA, alice)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Admit(ctx, ipA, alice); err == nil {
		t.Fatal("Admit ignored a cancelled context")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{MaxKeys: 100})
	for i := range 1000 {
		ip := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		l.Failed(ip, fmt.Sprintf("u%d@example.test", i))
		l.Succeeded(ip, fmt.Sprintf("v%d@example.test", i))
		c.advance(time.Millisecond)
	}
	if n := l.Len(); n > 300 {
		t.Fatalf("%d keys tracked, want at most 3 x 100", n)
	}
	l.mu.Lock()
	trusted := len(l.trusted)
	l.mu.Unlock()
	if trusted > 100 {
		t.Fatalf("%d trusted pairs, want at most 100", trusted)
	}
}

// TestEvictionIsAmortised: an attacker that keeps every key fresh (a new
// client for each failure) costs one scan of the table per tenth of it,
// not one per failure.
func TestEvictionIsAmortised(t *testing.T) {
	c := newClock()
	l := newLimiter(c, Config{MaxKeys: 1000})
	for i := range 20_000 {
		l.ClientFailed(netip.AddrFrom4([4]byte{10, 3, byte(i >> 8), byte(i)}))
	}
	n, scans := len(l.client.entries), l.client.evicted
	t.Logf("%d keys kept, %d scans", n, scans)
	if n > 1000 || scans > 20_000/100+1 {
		t.Fatalf("%d keys, %d scans for 20,000 fresh clients", n, scans)
	}
	if _, ok := l.client.entries[ClientKey(netip.AddrFrom4([4]byte{10, 3, byte(19_999 >> 8), byte(19_999 & 0xff)}))]; !ok {
		t.Fatal("the newest client was evicted")
	}
}

func TestConcurrentUse(t *testing.T) {
	l := New(Config{MaxWait: time.Nanosecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip := netip.AddrFrom4([4]byte{10, 2, 0, byte(g)})
			for i := range 200 {
				_, _ = l.Admit(context.Background(), ip, alice)
				if i%3 == 0 {
					l.Succeeded(ip, alice)
				} else {
					l.Failed(ip, alice)
				}
				l.ClientFailed(ip)
				_ = l.ClientLocked(ip)
			}
		}()
	}
	wg.Wait()
}
