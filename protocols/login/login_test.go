package login

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/ratelimit"
)

const (
	alice     = "alice@example.test"
	alicePass = "correct horse battery staple"
)

// cheap keeps hashing fast; the bound is tested with a slow Verify.
var cheap = auth.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func hash(t testing.TB, password string) string {
	t.Helper()
	h, err := auth.HashWith(cheap, password)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newStore is a real store with alice, and bob whose stored hash is not
// one Surat can verify.
func newStore(t testing.TB) *mailboxtest.Store {
	st := mailboxtest.Open(t)
	st.Must(t,
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
			Address: alice, PasswordHash: hash(t, alicePass), CreatedUnix: 1_700_000_000}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
			Address: "bob@example.test", PasswordHash: "{PLAIN}secret", CreatedUnix: 1_700_000_000}}})
	return st
}

func newAuth(t testing.TB, cfg Config) *Authenticator {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type failingDirectory struct{}

func (failingDirectory) User(string) (*evlog.UserRecord, error) {
	return nil, errors.New("pebble: disk on fire")
}

func TestOutcomes(t *testing.T) {
	st := newStore(t)
	a := newAuth(t, Config{Directory: st})
	broken := newAuth(t, Config{Directory: failingDirectory{}})
	for _, tc := range []struct {
		name      string
		a         *Authenticator
		user, pw  string
		want      Result
		wantUser  string
		wantError error
	}{
		{"right password", a, alice, alicePass, OK, alice, nil},
		{"one canonical form", a, "  Alice@EXAMPLE.test. ", alicePass, OK, alice, nil},
		{"wrong password", a, alice, "guess", Wrong, alice, nil},
		{"unknown user", a, "nobody@example.test", alicePass, Unknown, "nobody@example.test", nil},
		{"not an address", a, "alice", alicePass, Unknown, "", nil},
		{"unusable stored hash", a, "bob@example.test", "secret", Wrong, "bob@example.test", nil},
		{"store read error", broken, alice, alicePass, Temporary, alice, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.a.NewConn("192.0.2.1", nil).Login(context.Background(), tc.user, tc.pw)
			if o.Result != tc.want || o.User != tc.wantUser {
				t.Fatalf("Login(%q) = %v %q (%v), want %v %q", tc.user, o.Result, o.User, o.Err, tc.want, tc.wantUser)
			}
			if (o.Result == OK) != (o.Record != nil) || o.Record != nil && o.Record.GetPasswordHash() == "" {
				t.Fatalf("OK without the verified record, or a record without OK: %+v", o)
			}
			if (o.Result == Temporary) != (o.Err != nil) {
				t.Fatalf("Temporary without a cause or a cause without Temporary: %+v", o)
			}
		})
	}
}

// TestNodeBehind: a node that has not applied all the cluster committed
// must not answer from its stale projections, on the success path too: a
// password changed elsewhere would still log in with the old one.
func TestNodeBehind(t *testing.T) {
	st := newStore(t)
	var caughtUp atomic.Bool
	a := newAuth(t, Config{Directory: st, CaughtUp: caughtUp.Load})
	for _, user := range []string{alice, "nobody@example.test"} {
		if o := a.NewConn("192.0.2.1", nil).Login(context.Background(), user, alicePass); o.Result != Temporary ||
			!errors.Is(o.Err, ErrNotCaughtUp) {
			t.Fatalf("not caught up, %s: %v (%v), want Temporary", user, o.Result, o.Err)
		}
	}

	// With a read barrier, the node catches up first: here the barrier
	// applies the password change the cluster had committed.
	newPass := "a brand new password"
	var barriers atomic.Int32
	b := newAuth(t, Config{Directory: st, CaughtUp: caughtUp.Load, ReadBarrier: func(ctx context.Context) error {
		if barriers.Add(1) == 1 {
			st.Must(t, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
				Address: alice, PasswordHash: hash(t, newPass)}}})
		}
		return nil
	}})
	if o := b.NewConn("192.0.2.1", nil).Login(context.Background(), alice, alicePass); o.Result != Wrong {
		t.Fatalf("old password after catching up: %v, want Wrong", o.Result)
	}
	if o := b.NewConn("192.0.2.1", nil).Login(context.Background(), alice, newPass); o.Result != OK {
		t.Fatalf("new password: %v (%v)", o.Result, o.Err)
	}
	failing := newAuth(t, Config{Directory: st, CaughtUp: caughtUp.Load,
		ReadBarrier: func(ctx context.Context) error { return errors.New("no leader") }})
	if o := failing.NewConn("192.0.2.1", nil).Login(context.Background(), alice, newPass); o.Result != Temporary {
		t.Fatalf("barrier failed: %v, want Temporary", o.Result)
	}
	caughtUp.Store(true)
	if o := a.NewConn("192.0.2.1", nil).Login(context.Background(), alice, newPass); o.Result != OK {
		t.Fatalf("caught up: %v (%v)", o.Result, o.Err)
	}
}

// TestNodeBehindCatchesUpLocally: a node whose apply is a moment behind
// the commit index it knows answers once it has applied it, without the
// leader's round trip, so a barrier that fails (a loaded node, a slow
// link) costs the login nothing.
func TestNodeBehindCatchesUpLocally(t *testing.T) {
	st := newStore(t)
	var caughtUp atomic.Bool
	var barriers atomic.Int32
	a := newAuth(t, Config{Directory: st, CaughtUp: caughtUp.Load, LocalCatchUp: 5 * time.Second,
		ReadBarrier: func(ctx context.Context) error { barriers.Add(1); return errors.New("no leader") }})
	time.AfterFunc(20*time.Millisecond, func() { caughtUp.Store(true) })
	if o := a.NewConn("192.0.2.1", nil).Login(context.Background(), alice, alicePass); o.Result != OK {
		t.Fatalf("applied meanwhile: %v (%v), want OK", o.Result, o.Err)
	}
	if n := barriers.Load(); n != 0 {
		t.Fatalf("%d read barriers for a lag the node caught up by itself", n)
	}
}

func TestFailuresPerConnection(t *testing.T) {
	a := newAuth(t, Config{Directory: newStore(t), MaxFailuresPerConn: 3})
	c := a.NewConn("192.0.2.1", nil)
	for i, pw := range []string{"x", "y", "z"} {
		o := c.Login(context.Background(), alice, pw)
		if o.Result != Wrong || o.Close != (i == 2) {
			t.Fatalf("failure %d: %+v", i+1, o)
		}
	}
	// A new connection starts afresh (the limiter remembers the rest).
	if o := a.NewConn("192.0.2.1", nil).Login(context.Background(), alice, alicePass); o.Result != OK || o.Close {
		t.Fatalf("next connection: %+v", o)
	}
}

type banList map[netip.Addr]bool

func (b banList) Banned(ip netip.Addr, _ time.Time) bool { return b[ip] }

func TestBanned(t *testing.T) {
	var verified atomic.Int32
	a := newAuth(t, Config{Directory: newStore(t), Bans: banList{netip.MustParseAddr("192.0.2.66"): true},
		Verify: func(h, p string) (bool, error) { verified.Add(1); return auth.Verify(h, p) }})
	o := a.NewConn("192.0.2.66", nil).Login(context.Background(), alice, alicePass)
	if o.Result != Banned || !o.Close || verified.Load() != 0 {
		t.Fatalf("banned client: %+v, %d verifications", o, verified.Load())
	}
	if o := a.NewConn("192.0.2.67", nil).Login(context.Background(), alice, alicePass); o.Result != OK {
		t.Fatalf("other client: %+v", o)
	}
}

// TestLockedCostsNoVerification: once locked, attempts are refused at once
// and verify nothing, right password or not.
func TestLockedCostsNoVerification(t *testing.T) {
	var verified atomic.Int32
	lim := ratelimit.New(ratelimit.Config{Pair: ratelimit.Policy{Free: 2, Base: time.Minute, Max: time.Hour}})
	a := newAuth(t, Config{Directory: newStore(t), Limiter: lim,
		Verify: func(h, p string) (bool, error) { verified.Add(1); return auth.Verify(h, p) }})
	for range 2 {
		a.NewConn("192.0.2.1", nil).Login(context.Background(), alice, "guess")
	}
	before := verified.Load()
	o := a.NewConn("192.0.2.1", nil).Login(context.Background(), alice, alicePass)
	if o.Result != Locked || o.RetryAfter < 59*time.Second || verified.Load() != before {
		t.Fatalf("locked: %+v, verifications %d -> %d", o, before, verified.Load())
	}
}

// TestFloodBoundsVerifications: 2,000 concurrent wrong logins from 200
// clients never run more than MaxVerifying verifications at once (each
// argon2id one holds ~19 MiB), the excess is told Temporary or Locked
// rather than piling up, and a user who logged in before from their own
// client still logs in during the flood.
func TestFloodBoundsVerifications(t *testing.T) {
	st := newStore(t)
	var running, peak, verified atomic.Int32
	const bound = 2
	// The limiter's clock stands still: failures decay with time, and on
	// a loaded machine the flood lasts long enough to forgive a fraction
	// of one, which the count below would read as a lost attempt.
	frozen := time.Now()
	limiter := ratelimit.New(ratelimit.Config{Now: func() time.Time { return frozen }})
	a := newAuth(t, Config{Directory: st, MaxVerifying: bound, Cache: nil, Limiter: limiter,
		Verify: func(h, p string) (bool, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			verified.Add(1)
			time.Sleep(2 * time.Millisecond) // an argon2id verification's order of time
			return auth.Verify(h, p)
		}})
	st.Must(t, &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: "carol@example.test", PasswordHash: hash(t, "carol's"), CreatedUnix: 1_700_000_000}}})
	home := "203.0.113.5"
	if o := a.NewConn(home, nil).Login(context.Background(), alice, alicePass); o.Result != OK {
		t.Fatalf("before the flood: %+v", o)
	}

	var wg sync.WaitGroup
	var results [Banned + 1]atomic.Int32
	start := make(chan struct{})
	for i := range 2000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ip := fmt.Sprintf("10.0.0.%d", i%200)
			o := a.NewConn(ip, nil).Login(context.Background(), fmt.Sprintf("user%d@example.test", i%50), "guess")
			results[o.Result].Add(1)
		}()
	}
	close(start)
	time.Sleep(5 * time.Millisecond) // the flood is under way
	t0 := time.Now()
	o := a.NewConn(home, nil).Login(context.Background(), alice, alicePass)
	during := time.Since(t0)
	// A user never seen before, from another client, retrying after a
	// temporary failure as mail clients do: a full queue counts against
	// the flooding clients, which lock themselves out, so the queue frees.
	var tries int
	var first Outcome
	for tries = 1; tries <= 50; tries++ {
		if first = a.NewConn("198.51.100.9", nil).Login(context.Background(), "carol@example.test", "carol's"); first.Result != Temporary {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	if o.Result != OK {
		t.Fatalf("valid login during the flood: %v (%v)", o.Result, o.Err)
	}
	if first.Result != OK {
		t.Fatalf("first-time login during the flood: %v (%v) after %d tries", first.Result, first.Err, tries)
	}
	// Each flooding client made 10 attempts, refused as busy or verified
	// wrong: every one counts against it.
	if client, _, _ := a.Limiter().Failures(netip.MustParseAddr("10.0.0.7"), ""); client < 9 {
		t.Fatalf("flooding client's failures %v, want its 10 attempts", client)
	}
	if p := peak.Load(); p > bound {
		t.Fatalf("%d verifications at once, bound %d", p, bound)
	}
	if results[OK].Load() != 0 {
		t.Fatal("a wrong password logged in")
	}
	t.Logf("first-time login OK after %d tries", tries)
	t.Logf("valid login took %v during the flood; flood: %d unknown, %d temporary, %d locked; %d verifications, peak %d",
		during, results[Unknown].Load(), results[Temporary].Load(), results[Locked].Load(), verified.Load(), peak.Load())
	if results[Temporary].Load() == 0 {
		t.Fatal("2,000 concurrent logins never filled the bounded queue: the test did not flood")
	}
}

// TestQueueWaitIsCancellable: an attempt waiting for a verification ends
// with its session's context.
func TestQueueWaitIsCancellable(t *testing.T) {
	s := newSlots(1, 10)
	if err := s.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.acquire(ctx, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire = %v, want the context's error", err)
	}
	s.release()
	if s.inUse() != 0 {
		t.Fatalf("%d slots in use after release", s.inUse())
	}
	// Priority waiters go first.
	if err := s.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 2)
	go func() { _ = s.acquire(context.Background(), false); order <- "normal"; s.release() }()
	waitQueued(t, s, 1, 1)
	go func() { _ = s.acquire(context.Background(), true); order <- "priority"; s.release() }()
	waitQueued(t, s, 0, 1)
	s.release()
	if first := <-order; first != "priority" {
		t.Fatalf("%s waiter served first", first)
	}
	<-order
}

func waitQueued(t *testing.T, s *slots, lane, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		got := s.lanes[lane].Len()
		s.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lane %d never had %d waiters", lane, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBusyQueueIsTemporary(t *testing.T) {
	s := newSlots(1, 1)
	_ = s.acquire(context.Background(), false)
	go func() { _ = s.acquire(context.Background(), false) }()
	waitQueued(t, s, 1, 1)
	if err := s.acquire(context.Background(), false); !errors.Is(err, ErrBusy) {
		t.Fatalf("full lane: %v, want ErrBusy", err)
	}
}

// TestRefuseAtConnect: a client locked for 10 s or more, or banned, is
// refused when it connects; a briefly slowed one is not.
func TestRefuseAtConnect(t *testing.T) {
	a := newAuth(t, Config{Directory: newStore(t), Bans: banList{netip.MustParseAddr("192.0.2.66"): true}})
	if _, refuse := a.RefuseAtConnect("192.0.2.66"); !refuse {
		t.Fatal("banned client admitted")
	}
	ip := netip.MustParseAddr("192.0.2.9")
	for range 22 {
		a.Limiter().ClientFailed(ip)
	}
	if wait, refuse := a.RefuseAtConnect(ip.String()); refuse {
		t.Fatalf("refused at connect after a short lock (%v)", wait)
	}
	for range 10 {
		a.Limiter().ClientFailed(ip)
	}
	if wait, refuse := a.RefuseAtConnect(ip.String()); !refuse || wait < 10*time.Second {
		t.Fatalf("client locked %v not refused at connect", wait)
	}
	if _, refuse := a.RefuseAtConnect("192.0.2.10"); refuse {
		t.Fatal("another client refused")
	}
}

// TestMetrics: attempts are counted by outcome for /metrics.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newAuth(t, Config{Directory: newStore(t), Registerer: reg})
	c := a.NewConn("192.0.2.1", nil)
	c.Login(context.Background(), alice, alicePass)
	c.Login(context.Background(), alice, "guess")
	c.Login(context.Background(), "nobody@example.test", "guess")
	for result, want := range map[string]float64{"ok": 1, "wrong": 1, "unknown": 1, "locked": 0} {
		if got := testutil.ToFloat64(a.attempts.WithLabelValues(result)); got != want {
			t.Errorf("surat_login_attempts_total{result=%q} = %v, want %v", result, got, want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "surat_login_verifications_running", "surat_login_verifications_queued"); err != nil || n != 2 {
		t.Fatalf("gauges: %d, %v", n, err)
	}
}
