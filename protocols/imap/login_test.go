package imap

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
)

// withLogin gives a server its own login path over n's store.
func withLogin(t testing.TB, n *testNode, cfg login.Config) func(*Config) {
	a := logintest.New(t, n.Store, cfg)
	return func(c *Config) { c.Login = a }
}

// TestLoginFailuresCloseConnection: the third failed LOGIN on one
// connection gets an untagged BYE and the connection is closed (RFC 9051
// §7.1.5), as POP3 and SMTP AUTH do.
func TestLoginFailuresCloseConnection(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "cap", password)
	_, plain, implicit := c.serve(t, c.Nodes[0], nil)
	raw := dialRaw(t, implicit, true)
	for i, u := range []string{user, "nobody@" + domain} {
		if r := last(raw.cmd(fmt.Sprintf("a%d", i), "LOGIN "+u+" wrong")); !strings.Contains(r, "NO [AUTHENTICATIONFAILED]") {
			t.Fatalf("failure %d: %q", i+1, r)
		}
	}
	r := raw.cmd("a3", "LOGIN "+user+" wrong")
	if !strings.HasPrefix(r[0], "* BYE") || last(r) != "" {
		t.Fatalf("third failure: %q, want * BYE and a closed connection", r)
	}
	// The next connection logs in.
	dial(t, plain, user)
}

// TestLoginFlood: 2,000 connections from 40 client addresses send wrong
// passwords at once over real TLS sockets. Verifications never exceed the
// bound (each argon2id one holds ~19 MiB), nothing piles up, and a user
// logging in from their usual address gets in during the flood.
func TestLoginFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 TLS connections")
	}
	c := sharedCluster(t)
	user := c.NewUser(t, "flood", password)
	victims := []string{c.NewUser(t, "victim", password), c.NewUser(t, "victim", password), "nobody@" + domain}
	const bound = 2
	var running, peak, verified atomic.Int32
	verify := func(h, p string) (bool, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
		verified.Add(1)
		time.Sleep(5 * time.Millisecond) // an argon2id verification's order of time
		return auth.Verify(h, p)
	}
	_, plain, implicit := c.serve(t, c.Nodes[0], func(cfg *Config) {
		withLogin(t, c.Nodes[0], login.Config{MaxVerifying: bound, Verify: verify})(cfg)
		cfg.MaxSessions, cfg.MaxSessionsPerIP = 5000, 5000
	})

	// The user has logged in from 127.0.0.2 before.
	home := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	loginFrom := func() (time.Duration, error) {
		start := time.Now()
		cl, err := imapclient.DialStartTLS(plain, &imapclient.Options{
			TLSConfig: &tls.Config{InsecureSkipVerify: true}, Dialer: home})
		if err != nil {
			return 0, err
		}
		defer cl.Close()
		err = cl.Login(user, password).Wait()
		return time.Since(start), err
	}
	if _, err := loginFrom(); err != nil {
		t.Fatalf("before the flood: %v", err)
	}

	const conns = 2000
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	var replies sync.Map // reply kind → *atomic.Int32
	count := func(kind string) {
		v, _ := replies.LoadOrStore(kind, new(atomic.Int32))
		v.(*atomic.Int32).Add(1)
	}
	go1 := make(chan struct{})
	for i := range conns {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			d := &net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1, 0, byte(1+i%40))}}
			conn, err := tls.DialWithDialer(d, "tcp", implicit, &tls.Config{InsecureSkipVerify: true})
			ready.Done()
			if err != nil {
				count("dial error")
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
			r := bufio.NewReader(conn)
			if _, err := r.ReadString('\n'); err != nil {
				count("no greeting")
				return
			}
			<-go1
			fmt.Fprintf(conn, "a LOGIN %s guess%d\r\n", victims[i%len(victims)], i)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					count("closed")
					return
				}
				if strings.HasPrefix(l, "a ") {
					f := strings.Fields(l)
					count(strings.Join(f[1:min(len(f), 3)], " "))
					return
				}
			}
		}()
	}
	ready.Wait()
	close(go1)
	time.Sleep(20 * time.Millisecond) // the flood is under way
	var during []time.Duration
	for range 5 {
		took, err := loginFrom()
		if err != nil {
			t.Fatalf("valid login during the flood: %v", err)
		}
		during = append(during, took)
	}
	wg.Wait()

	if p := peak.Load(); p > bound {
		t.Fatalf("%d verifications at once, bound %d", p, bound)
	}
	var summary []string
	replies.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%s: %d", k, v.(*atomic.Int32).Load()))
		return true
	})
	slices.Sort(summary)
	t.Logf("valid logins during the flood took %v; %d verifications, peak %d; flood replies: %s",
		during, verified.Load(), peak.Load(), strings.Join(summary, ", "))
	if v, ok := replies.Load("OK [CAPABILITY"); ok && v.(*atomic.Int32).Load() > 0 {
		t.Fatal("a wrong password logged in")
	}
	if v, ok := replies.Load("NO [UNAVAILABLE]"); !ok || v.(*atomic.Int32).Load() == 0 {
		t.Fatal("the bounded queue never filled: the test did not flood")
	}
}

// TestLockedClientRefusedAtGreeting: a client locked out for 10 s or more
// gets BYE instead of a greeting, before STARTTLS, so reconnecting
// costs the node no TLS handshake and no verification.
func TestLockedClientRefusedAtGreeting(t *testing.T) {
	c := sharedCluster(t)
	a, err := login.New(login.Config{Directory: c.Nodes[0].Store})
	if err != nil {
		t.Fatal(err)
	}
	_, plain, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.Login = a })
	for range 40 {
		a.Limiter().ClientFailed(netip.MustParseAddr("127.0.0.1"))
	}
	conn, err := net.DialTimeout("tcp", plain, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("greeting to a locked-out client: %q", l)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("connection still open")
	}
}
