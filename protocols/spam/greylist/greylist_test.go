package greylist

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/pipeline"
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

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newCheck(t *testing.T, n *directNode, clk *fakeClock) *Check {
	t.Helper()
	c, err := New(Config{Store: n.store, Delay: 5 * time.Minute, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// deliver runs the check on one message like the SMTP server does:
// events proposed whether refused or not, the reply returned.
func deliver(t *testing.T, n *directNode, c pipeline.Check, env pipeline.Envelope) *pipeline.Reply {
	t.Helper()
	runs, err := pipeline.Start(context.Background(), []pipeline.Check{c}, env)
	if err != nil {
		t.Fatal(err)
	}
	runs.Reader(strings.NewReader("Subject: x\r\n\r\nhello\r\n"))
	res, err := runs.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) > 0 {
		if _, err := propose.Submit(context.Background(), n, res.Events...); err != nil {
			t.Fatal(err)
		}
	}
	if res.Action == pipeline.Refuse {
		return res.Reply
	}
	return nil
}

// finishAfter runs the check as a follower of earlier facts.
func finishAfter(t *testing.T, n *directNode, c *Check, env pipeline.Envelope, facts ...string) (pipeline.Outcome, *pipeline.Reply) {
	t.Helper()
	r, err := c.Start(context.Background(), env)
	if err != nil || r == nil {
		t.Fatalf("Start: %v, %v", r, err)
	}
	o, err := r.(pipeline.Follower).FinishAfter(context.Background(), pipeline.Result{Facts: facts})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Events) > 0 {
		if _, err := propose.Submit(context.Background(), n, o.Events...); err != nil {
			t.Fatal(err)
		}
	}
	if o.Action == pipeline.Refuse {
		return o, o.Reply
	}
	return o, nil
}

var env = pipeline.Envelope{RemoteIP: "192.0.2.10", Helo: "mx.sender.test", From: "Alice@Sender.test",
	Local: []string{"bob@example.org"}}

func TestGreylistDelay(t *testing.T) {
	n, clk := newNode(t), &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := newCheck(t, n, clk)
	r := deliver(t, n, c, env)
	if r == nil || r.Code != 451 || r.Enhanced != [3]int{4, 7, 1} || r.Text != "Greylisted, try again in 300 seconds" {
		t.Fatalf("first attempt: %v", r)
	}
	before := n.index
	clk.Advance(2 * time.Minute)
	if r := deliver(t, n, c, env); r == nil || r.Text != "Greylisted, try again in 180 seconds" {
		t.Fatalf("too early: %v", r)
	}
	if n.index != before {
		t.Error("a retry too early proposed an event")
	}
	// A neighbour in the same /24, the sender spelled otherwise: the same
	// triple.
	clk.Advance(3 * time.Minute)
	retry := env
	retry.RemoteIP, retry.From = "192.0.2.99", "alice@sender.test"
	if r := deliver(t, n, c, retry); r != nil {
		t.Fatalf("retry after the delay: %v", r)
	}
	e, ok, err := n.store.Greylisted(Triple(Network(env.RemoteIP), env.From, env.Local[0]), clk.Now())
	if err != nil || !ok || !e.Passed || !e.Expires.Equal(clk.Now().Add(DefaultPassedTTL)) {
		t.Fatalf("after passing: %+v %v %v", e, ok, err)
	}
	// Passed: later messages pass without an event until a day has gone.
	before = n.index
	clk.Advance(time.Hour)
	if r := deliver(t, n, c, env); r != nil || n.index != before {
		t.Fatalf("passed triple: %v (events: %d)", r, n.index-before)
	}
	clk.Advance(25 * time.Hour)
	if r := deliver(t, n, c, env); r != nil || n.index != before+1 {
		t.Fatalf("refresh after a day: %v (events: %d)", r, n.index-before)
	}
	// Another network, sender or recipient is another triple.
	for _, other := range []pipeline.Envelope{
		{RemoteIP: "192.0.3.10", From: env.From, Local: env.Local},
		{RemoteIP: env.RemoteIP, From: "carol@sender.test", Local: env.Local},
		{RemoteIP: env.RemoteIP, From: env.From, Local: []string{"bob@example.org", "dee@example.org"}},
		{RemoteIP: env.RemoteIP, From: "", Local: env.Local}, // DSNs are greylisted too
	} {
		if r := deliver(t, n, c, other); r == nil || r.Code != 451 {
			t.Errorf("%+v: %v", other, r)
		}
	}
}

func TestUnpassedExpires(t *testing.T) {
	n, clk := newNode(t), &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := newCheck(t, n, clk)
	if deliver(t, n, c, env) == nil {
		t.Fatal("not greylisted")
	}
	clk.Advance(DefaultUnpassedTTL)
	if r := deliver(t, n, c, env); r == nil || !strings.Contains(r.Text, "300 seconds") {
		t.Fatalf("after expiry: %v (want greylisted afresh)", r)
	}
}

func TestSkipped(t *testing.T) {
	n, clk := newNode(t), &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := newCheck(t, n, clk)
	for _, e := range []pipeline.Envelope{
		{Submission: true, User: "a@example.org", From: "a@example.org", Local: env.Local},
		{User: "a@example.org", RemoteIP: env.RemoteIP, From: "a@example.org", Local: env.Local},
		{RemoteIP: env.RemoteIP, From: env.From}, // relayed only: nothing local
	} {
		if r, err := c.Start(context.Background(), e); r != nil || err != nil {
			t.Errorf("%+v: run %v, %v", e, r, err)
		}
	}
}

func TestKnownSender(t *testing.T) {
	n, clk := newNode(t), &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := newCheck(t, n, clk)
	dmarc := []string{"spf=pass", "dkim=pass", "dmarc=pass", "dmarc.from=sender.test"}
	if _, r := finishAfter(t, n, c, env, dmarc...); r == nil {
		t.Fatal("an unknown sender passing DMARC was not greylisted")
	}
	clk.Advance(6 * time.Minute)
	if _, r := finishAfter(t, n, c, env, dmarc...); r != nil {
		t.Fatalf("retry: %v", r)
	}
	// The From domain passed greylisting with DMARC: another network and
	// recipient of the same domain go through at once.
	other := pipeline.Envelope{RemoteIP: "2001:db8:5::1", From: "news@sender.test", Local: []string{"dee@example.org"}}
	o, r := finishAfter(t, n, c, other, dmarc...)
	if r != nil || o.Note != "greylist=known-sender" || len(o.Events) != 0 {
		t.Fatalf("known sender: %v %+v", r, o)
	}
	// Without DMARC passing, the domain counts for nothing.
	if _, r := finishAfter(t, n, c, other, "dmarc=fail", "dmarc.from=sender.test"); r == nil {
		t.Error("known domain without DMARC pass was not greylisted")
	}
	if _, r := finishAfter(t, n, c, other, "dmarc=pass", "dmarc.from=elsewhere.test"); r == nil {
		t.Error("another domain passing DMARC was not greylisted")
	}
}

type failingStore struct{}

func (failingStore) Greylisted([]byte, time.Time) (mailbox.GreylistEntry, bool, error) {
	return mailbox.GreylistEntry{}, false, errors.New("disk on fire")
}

// TestStoreFailureIsTemporary: a check that cannot read the store neither
// passes nor refuses for good: Runs.Finish turns its error into a
// temporary failure.
func TestStoreFailureIsTemporary(t *testing.T) {
	c, err := New(Config{Store: failingStore{}, Delay: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := pipeline.Start(context.Background(), []pipeline.Check{c}, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runs.Finish(context.Background()); err == nil {
		t.Fatal("no error from a failing store")
	}
}

func TestNetworkAndNames(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77": "192.0.2.0/24", "::ffff:192.0.2.77": "192.0.2.0/24",
		"2001:db8:1:2:3::9": "2001:db8:1:2::/64", "fe80::1%eth0": "fe80::/64", "junk": "junk",
	} {
		if got := Network(in); got != want {
			t.Errorf("Network(%q) = %q, want %q", in, got, want)
		}
	}
	a := Triple("192.0.2.0/24", "A@X.test", "b@y.test")
	if len(a) != mailbox.GreylistTripleLen || string(a) != string(Triple("192.0.2.0/24", "a@x.test", "B@Y.TEST")) {
		t.Error("triples are not case-insensitive 16-byte names")
	}
	// The NUL separator keeps fields apart.
	if string(Triple("n", "ab", "c")) == string(Triple("n", "a", "bc")) {
		t.Error("fields run into each other")
	}
	if string(KnownSender("Sender.test.")) != string(KnownSender("sender.test")) {
		t.Error("known sender names differ by spelling")
	}
	if _, err := New(Config{Store: failingStore{}}); err == nil {
		t.Error("New without a delay succeeded")
	}
}

func TestPruner(t *testing.T) {
	n := newNode(t)
	clk := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := newCheck(t, n, clk)
	deliver(t, n, c, env)
	p := NewPruner(PrunerConfig{Store: n.store, Cluster: n, Now: clk.Now})
	n.leader.Store(true)
	if did, err := p.Prune(context.Background()); did || err != nil {
		t.Fatalf("prune before any expiry: %v %v", did, err)
	}
	clk.Advance(DefaultUnpassedTTL)
	n.leader.Store(false)
	if did, err := p.Prune(context.Background()); did || err != nil {
		t.Fatalf("a follower pruned: %v %v", did, err)
	}
	n.leader.Store(true)
	if did, err := p.Prune(context.Background()); !did || err != nil {
		t.Fatalf("leader did not prune: %v %v", did, err)
	}
	if _, ok, _ := n.store.NextGreylistExpiry(); ok {
		t.Fatal("an expiry is left")
	}
}

// FuzzNetwork: a client's network is its /24 or /64, or what it sent when
// that is not an address; never a narrower one.
func FuzzNetwork(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::1", "::ffff:10.0.0.1", "fe80::1%lo", "", "1.2.3", "[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Network(s)
		if _, err := netip.ParseAddr(s); err != nil {
			if got != s {
				t.Fatalf("Network(%q) = %q", s, got)
			}
			return
		}
		p, err := netip.ParsePrefix(got)
		if err != nil || p.Bits() != 24 && p.Bits() != 64 || p != p.Masked() {
			t.Fatalf("Network(%q) = %q", s, got)
		}
	})
}
