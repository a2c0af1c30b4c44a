package bans

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
)

// directNode proposes by applying straight to a real store.
type directNode struct {
	store  *mailbox.Store
	mu     sync.Mutex
	index  uint64
	leader atomic.Bool
}

func (n *directNode) Propose(_ context.Context, p []byte) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.index++
	return n.store.Apply(n.index, [][]byte{p})[0], nil
}

func (n *directNode) IsLeader() bool { return n.leader.Load() }

func newNode(t *testing.T) *directNode {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &directNode{store: st}
}

func (n *directNode) ban(t *testing.T, ip string, now time.Time, d time.Duration) {
	t.Helper()
	if err := Ban(context.Background(), n, netip.MustParseAddr(ip), "test", "admin", now, d); err != nil {
		t.Fatal(err)
	}
}

// serveGate accepts on a gated loopback listener and greets every client it
// lets through with "HELLO".
func serveGate(t *testing.T, bans Checker, refusal string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveGateOn(t, ln, bans, refusal)
}

func serveGateOn(t *testing.T, ln net.Listener, bans Checker, refusal string) string {
	t.Helper()
	g := Gate(ln, GateConfig{Bans: bans, Refusal: refusal, Listener: "test"})
	t.Cleanup(func() { g.Close() })
	go func() {
		for {
			c, err := g.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "HELLO\r\n")
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// greeting dials addr from the loopback address from and returns all the
// server sends before closing.
func greeting(t *testing.T, from, addr string) string {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(bufio.NewReader(c))
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read from %s: %v", addr, err)
	}
	return string(b)
}

func TestGate(t *testing.T) {
	n := newNode(t)
	now := time.Now()
	addr := serveGate(t, n.store, RefusalSMTP)
	silent := serveGate(t, n.store, "")
	if got := greeting(t, "127.0.0.1", addr); got != "HELLO\r\n" {
		t.Fatalf("before the ban: %q", got)
	}
	n.ban(t, "127.0.0.1", now, time.Hour)
	if got := greeting(t, "127.0.0.1", addr); got != RefusalSMTP+"\r\n" {
		t.Fatalf("banned client got %q", got)
	}
	if got := greeting(t, "127.0.0.1", silent); got != "" {
		t.Fatalf("banned client of a silent gate got %q", got)
	}
	if got := greeting(t, "127.0.0.2", addr); got != "HELLO\r\n" {
		t.Fatalf("another address got %q", got)
	}
	// A /8 covers the other loopback address too.
	if _, err := propose.Submit(context.Background(), n, New(netip.MustParsePrefix("127.0.0.0/8"), "", "admin", now, 0)); err != nil {
		t.Fatal(err)
	}
	if got := greeting(t, "127.0.0.2", addr); got != RefusalSMTP+"\r\n" {
		t.Fatalf("client in a banned /8 got %q", got)
	}
}

// An IPv6 client is banned by its /64.
func TestGateIPv6(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	n := newNode(t)
	addr := serveGateOn(t, ln, n.store, RefusalPOP3)
	if got := greeting(t, "::1", addr); got != "HELLO\r\n" {
		t.Fatalf("before the ban: %q", got)
	}
	n.ban(t, "::1", time.Now(), time.Hour)
	if got := greeting(t, "::1", addr); got != RefusalPOP3+"\r\n" {
		t.Fatalf("banned IPv6 client got %q", got)
	}
	list, _ := n.store.Bans(time.Now())
	if len(list) != 1 || list[0].GetPrefix() != "::/64" {
		t.Fatalf("ban of ::1 recorded as %v", list)
	}
}

// A flood of banned clients never blocks the accept loop: the ones past
// maxRefusing are closed without a reply, and a client that is not banned
// is still served at once.
func TestGateFlood(t *testing.T) {
	n := newNode(t)
	n.ban(t, "127.0.0.1", time.Now(), time.Hour)
	addr := serveGate(t, n.store, RefusalIMAP)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Clients that never read keep their refusal goroutines waiting for
	// the linger; more than maxRefusing of them.
	for range maxRefusing + 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	if got := greeting(t, "127.0.0.2", addr); got != "HELLO\r\n" || time.Since(start) > time.Second {
		t.Fatalf("unbanned client during a banned flood: %q after %v", got, time.Since(start))
	}
}

func TestBanExpiresAndIsPruned(t *testing.T) {
	n := newNode(t)
	now := time.Unix(1_800_000_000, 0)
	clock := now
	p := NewPruner(PrunerConfig{Store: n.store, Cluster: n, Now: func() time.Time { return clock }})
	n.ban(t, "192.0.2.1", now, time.Minute)
	n.ban(t, "2001:db8::1", now, 0)
	ip := netip.MustParseAddr("192.0.2.1")
	if !n.store.Banned(ip, clock) {
		t.Fatal("not banned")
	}
	n.leader.Store(true)
	if did, err := p.Prune(context.Background()); did || err != nil {
		t.Fatalf("prune before any expiry: %v %v", did, err)
	}
	clock = now.Add(time.Minute)
	if n.store.Banned(ip, clock) {
		t.Fatal("an expired ban still counts")
	}
	n.leader.Store(false)
	if did, err := p.Prune(context.Background()); did || err != nil {
		t.Fatalf("a follower pruned: %v %v", did, err)
	}
	n.leader.Store(true)
	if did, err := p.Prune(context.Background()); !did || err != nil {
		t.Fatalf("leader did not prune: %v %v", did, err)
	}
	list, err := n.store.Bans(time.Unix(0, 0))
	if err != nil || len(list) != 1 || list[0].GetPrefix() != "2001:db8::/64" {
		t.Fatalf("after pruning: %v %v", list, err)
	}
	if _, ok, _ := n.store.NextBanExpiry(); ok {
		t.Fatal("an expiry is left")
	}
}

func TestNewBanEvent(t *testing.T) {
	now := time.Unix(1000, 0)
	e := New(netip.MustParsePrefix("192.0.2.0/24"), "r", "login", now, 90*time.Second).GetBanAdded()
	if e.GetPrefix() != "192.0.2.0/24" || e.GetCreatedUnix() != 1000 || e.GetExpiresUnix() != 1090 || e.GetSource() != "login" {
		t.Fatalf("New = %v", e)
	}
	if e := New(netip.MustParsePrefix("192.0.2.0/24"), "", "", now, 0).GetBanAdded(); e.GetExpiresUnix() != 0 {
		t.Fatalf("permanent ban expires: %v", e)
	}
	if e := New(netip.MustParsePrefix("192.0.2.0/24"), "", "", now, time.Millisecond).GetBanAdded(); e.GetExpiresUnix() <= e.GetCreatedUnix() {
		t.Fatalf("sub-second ban expires at creation: %v", e)
	}
}
