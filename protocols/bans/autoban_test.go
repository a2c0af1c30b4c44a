package bans

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/log/logtest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingProposer counts proposals and can fail them.
type countingProposer struct {
	*directNode
	proposed atomic.Int32
	fail     atomic.Bool
}

func (p *countingProposer) Propose(ctx context.Context, b []byte) ([]byte, error) {
	p.proposed.Add(1)
	if p.fail.Load() {
		return nil, errors.New("no quorum")
	}
	return p.directNode.Propose(ctx, b)
}

func newAutoBanner(t *testing.T, p *countingProposer, clock *fakeClock, exempt ...netip.Prefix) (*AutoBanner, prometheus.Counter, *logtest.Sink) {
	t.Helper()
	banned := prometheus.NewCounter(prometheus.CounterOpts{Name: "surat_auto_bans_total"})
	logs := &logtest.Sink{}
	a, err := NewAutoBanner(AutoConfig{Count: 3, Window: time.Minute, Duration: time.Hour, Exempt: exempt,
		Proposer: p, Bans: p.store, Banned: banned, Now: clock.Now, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, banned, logs
}

func waitProposals(t *testing.T, a *AutoBanner) {
	t.Helper()
	a.wg.Wait()
}

func TestAutoBanPolicy(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, banned, logs := newAutoBanner(t, p, clock)
	ip := netip.MustParseAddr("198.51.100.7")

	// Two lockouts, then one after the window: never three within it.
	a.Locked(ip)
	a.Locked(ip)
	clock.Add(61 * time.Second)
	a.Locked(ip)
	waitProposals(t, a)
	if n := p.proposed.Load(); n != 0 {
		t.Fatalf("%d bans proposed for lockouts spread over more than the window", n)
	}
	// Three within the window: banned, on the store every node applies.
	a.Locked(ip)
	a.Locked(ip)
	waitProposals(t, a)
	if !p.store.Banned(ip, clock.Now()) || p.proposed.Load() != 1 {
		t.Fatalf("after 3 lockouts within the window: banned %v, %d proposals", p.store.Banned(ip, clock.Now()), p.proposed.Load())
	}
	if !p.store.Banned(ip, clock.Now().Add(59*time.Minute)) || p.store.Banned(ip, clock.Now().Add(61*time.Minute)) {
		t.Fatal("ban does not last the configured hour")
	}
	if got := testutil.ToFloat64(banned); got != 1 {
		t.Fatalf("metric: %v bans, want 1", got)
	}
	lines, err := logs.Lines("client banned automatically")
	if err != nil || len(lines) != 1 || lines[0]["remote"] != ip.String() || lines[0]["prefix"] != "198.51.100.7/32" {
		t.Fatalf("log: %v, %v", lines, err)
	}
	// Once: more lockouts while the ban stands propose nothing.
	for range 10 {
		a.Locked(ip)
	}
	waitProposals(t, a)
	if n := p.proposed.Load(); n != 1 {
		t.Fatalf("%d proposals, want the one ban only", n)
	}
}

func TestAutoBanIPv6Prefix(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, _, _ := newAutoBanner(t, p, clock)
	// Three addresses of one /64 are one client.
	for _, s := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"} {
		a.Locked(netip.MustParseAddr(s))
	}
	waitProposals(t, a)
	if !p.store.Banned(netip.MustParseAddr("2001:db8:1:2::99"), clock.Now()) {
		t.Fatal("the /64 was not banned")
	}
	if p.store.Banned(netip.MustParseAddr("2001:db8:1:3::1"), clock.Now()) {
		t.Fatal("a neighbouring /64 was banned")
	}
}

func TestAutoBanExempt(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, _, _ := newAutoBanner(t, p, clock, netip.MustParsePrefix("203.0.113.0/24"))
	for _, s := range []string{"127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1", "203.0.113.9", "0.0.0.0"} {
		for range 10 {
			a.Locked(netip.MustParseAddr(s))
		}
	}
	a.Locked(netip.Addr{})
	waitProposals(t, a)
	if n := p.proposed.Load(); n != 0 {
		t.Fatalf("%d bans proposed for loopback or exempt clients", n)
	}
}

// A ban that did not commit is tried again at the next lockouts.
func TestAutoBanRetriesFailedProposal(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, banned, logs := newAutoBanner(t, p, clock)
	ip := netip.MustParseAddr("198.51.100.8")
	p.fail.Store(true)
	for range 3 {
		a.Locked(ip)
	}
	waitProposals(t, a)
	if lines, _ := logs.Lines("automatic ban not committed"); len(lines) != 1 || testutil.ToFloat64(banned) != 0 {
		t.Fatalf("failed proposal: log %v, metric %v", lines, testutil.ToFloat64(banned))
	}
	p.fail.Store(false)
	for range 3 {
		a.Locked(ip)
	}
	waitProposals(t, a)
	if !p.store.Banned(ip, clock.Now()) {
		t.Fatal("not banned after the cluster came back")
	}
}

// A client banned already (by hand, or by another node) is not proposed.
func TestAutoBanSkipsBanned(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, _, _ := newAutoBanner(t, p, clock)
	p.directNode.ban(t, "198.51.100.9", clock.Now(), time.Hour)
	for range 3 {
		a.Locked(netip.MustParseAddr("198.51.100.9"))
	}
	waitProposals(t, a)
	if n := p.proposed.Load(); n != 0 {
		t.Fatalf("%d proposals for a client banned already", n)
	}
}

func TestAutoBanBoundsClients(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, err := NewAutoBanner(AutoConfig{Count: 5, Window: time.Minute, Duration: time.Hour, Proposer: p, Now: clock.Now, MaxClients: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range 1000 {
		a.Locked(netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}))
	}
	if n := len(a.clients); n > 100 {
		t.Fatalf("%d clients tracked, bound 100", n)
	}
}

// After Close (the node shutting down), lockouts propose nothing.
func TestAutoBanClosed(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	p := &countingProposer{directNode: newNode(t)}
	a, _, _ := newAutoBanner(t, p, clock)
	a.Close()
	for range 5 {
		a.Locked(netip.MustParseAddr("198.51.100.10"))
	}
	a.wg.Wait()
	if n := p.proposed.Load(); n != 0 {
		t.Fatalf("%d proposals after Close", n)
	}
}
