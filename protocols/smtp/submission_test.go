package smtp

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
	"github.com/surat-mail/surat/protocols/ratelimit"
)

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestSubmissionBeforeTLS: RFC 4954 §4 and RFC 8314: no AUTH offered or
// accepted in cleartext (538 5.7.11), no MAIL without AUTH (530 5.7.0).
func TestSubmissionBeforeTLS(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], Submission, nil)
	cl := dial(t, addr)
	kw := cl.ehlo()
	if hasKeyword(kw, "AUTH") || !hasKeyword(kw, "STARTTLS") {
		t.Fatalf("EHLO before TLS: %q: want STARTTLS and no AUTH", kw)
	}
	for _, mech := range []string{"PLAIN " + plain(alice, alicePass), "LOGIN", "CRAM-MD5"} {
		if code, msg := cl.cmd("AUTH %s", mech); code != 538 || !strings.HasPrefix(msg, "5.7.11") {
			t.Fatalf("AUTH %s before TLS: %d %s; want 538 5.7.11", strings.Fields(mech)[0], code, msg)
		}
	}
	if code, msg := cl.cmd("MAIL FROM:<%s>", alice); code != 530 || !strings.HasPrefix(msg, "5.7.0") {
		t.Fatalf("MAIL before AUTH: %d %s", code, msg)
	}
}

// TestSubmissionAuth covers AUTH and the sender rule after STARTTLS.
func TestSubmissionAuth(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, Submission, nil)

	t.Run("advertised after TLS", func(t *testing.T) {
		cl := dial(t, addr)
		if kw := cl.hello(); !hasKeyword(kw, "AUTH PLAIN LOGIN") {
			t.Fatalf("EHLO after TLS: %q", kw)
		}
		if code, msg := cl.cmd("MAIL FROM:<%s>", alice); code != 530 || !strings.HasPrefix(msg, "5.7.0") {
			t.Fatalf("MAIL before AUTH: %d %s", code, msg)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		cl := dial(t, addr)
		cl.hello()
		if code, msg := cl.cmd("AUTH PLAIN %s", plain(alice, "wrong")); code != 535 || !strings.HasPrefix(msg, "5.7.8") {
			t.Fatalf("wrong password: %d %s", code, msg)
		}
		if code, msg := cl.cmd("AUTH PLAIN %s", plain("nobody@"+domain, "x")); code != 535 {
			t.Fatalf("unknown user: %d %s", code, msg)
		}
		cl.must(530, "MAIL FROM:<%s>", alice)
		// The third failure on one connection closes it (guessing_test.go).
		if code, msg := cl.cmd("AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("bob@example.test\x00"+alice+"\x00"+alicePass))); code != 421 {
			t.Fatalf("authorization identity of another user, third failure: %d %s", code, msg)
		}
	})
	t.Run("sender must be owned", func(t *testing.T) {
		cl := dial(t, addr)
		cl.hello()
		cl.must(235, "AUTH PLAIN %s", plain(alice, alicePass))
		if code, msg := cl.cmd("MAIL FROM:<%s>", bob); code != 553 || !strings.HasPrefix(msg, "5.7.1") {
			t.Fatalf("MAIL FROM another user: %d %s", code, msg)
		}
		// The null sender is allowed (MDNs, RFC 8098 §2.1).
		cl.must(250, "MAIL FROM:<>")
		cl.must(250, "RSET")
		cl.must(250, "MAIL FROM:<%s>", strings.ToUpper(aliceAlias)) // her alias
		cl.must(250, "RSET")
		cl.must(250, "MAIL FROM:<%s>", alice)
	})
	t.Run("AUTH LOGIN", func(t *testing.T) {
		cl := dial(t, addr)
		cl.hello()
		if msg := cl.must(334, "AUTH LOGIN"); msg != b64("Username:") {
			t.Fatalf("first challenge %q", msg)
		}
		if msg := cl.must(334, "%s", b64(bob)); msg != b64("Password:") {
			t.Fatalf("second challenge %q", msg)
		}
		cl.must(235, "%s", b64(bobPass))
		cl.must(250, "MAIL FROM:<%s>", bob)
	})
	t.Run("AUTH LOGIN with initial response, wrong", func(t *testing.T) {
		cl := dial(t, addr)
		cl.hello()
		cl.must(334, "AUTH LOGIN %s", b64(bob))
		if code, msg := cl.cmd("%s", b64("nope")); code != 535 {
			t.Fatalf("wrong LOGIN password: %d %s", code, msg)
		}
	})
}

// TestSubmissionDelivers: an authenticated local submission is delivered
// (ESMTPSA in Received); a non-local recipient gets 451 4.3.0 while no
// Relay exists, and the local part of the transaction still goes through.
func TestSubmissionDelivers(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, Submission, nil)
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	cl.must(235, "AUTH PLAIN %s", plain(alice, alicePass))
	cl.must(250, "MAIL FROM:<%s>", alice)
	if code, msg := cl.cmd("RCPT TO:<dave@remote.test>"); code != 451 || !strings.HasPrefix(msg, "4.3.0") ||
		!strings.Contains(msg, "not available") {
		t.Fatalf("non-local recipient without a relay: %d %s", code, msg)
	}
	if code, msg := cl.cmd("RCPT TO:<nobody@%s>", domain); code != 550 || !strings.HasPrefix(msg, "5.1.1") {
		t.Fatalf("unknown local recipient: %d %s", code, msg)
	}
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(message("submitted")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !bytes.Contains(got[len(got)-1], []byte(" with ESMTPSA ")) ||
		!bytes.HasPrefix(got[len(got)-1], []byte("Return-Path: <"+alice+">\r\n")) {
		t.Fatalf("submitted message: %q", got[len(got)-1][:min(300, len(got[len(got)-1]))])
	}
}

// TestSubmissionsImplicitTLS: RFC 8314 §3.3: TLS from the first byte, AUTH
// offered at once, no STARTTLS.
func TestSubmissionsImplicitTLS(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, Submissions, nil)
	before := len(inbox(t, n, alice))
	cl := dialTLS(t, addr)
	kw := cl.ehlo()
	if !hasKeyword(kw, "AUTH PLAIN LOGIN") || hasKeyword(kw, "STARTTLS") {
		t.Fatalf("EHLO on implicit TLS: %q", kw)
	}
	cl.must(235, "AUTH PLAIN %s", plain(bob, bobPass))
	cl.must(250, "MAIL FROM:<%s>", bob)
	cl.must(250, "RCPT TO:<%s>", aliceAlias)
	if code, msg := cl.data(message("implicit tls")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	if got := inbox(t, n, alice); len(got) != before+1 {
		t.Fatal("not delivered")
	}
}

// fakeClock drives the auth limiter without waiting.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

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

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// withLogin gives a server its own login path over n's store.
func withLogin(t *testing.T, n *testNode, cfg login.Config) func(*Config) {
	a := logintest.New(t, n.Store, cfg)
	return func(c *Config) { c.Login = a }
}

// TestAuthRateLimit: failed logins slow later attempts for the client and
// account, with a hint in the reply; a long lock is refused at once with
// 454 4.7.0 and the time left; the right password works once the client
// waits as told; the pair is forgiven on success, the client is not.
func TestAuthRateLimit(t *testing.T) {
	c := sharedCluster(t)
	clk := newFakeClock()
	lim := ratelimit.New(ratelimit.Config{Pair: ratelimit.Policy{Free: 3, Base: time.Second, Max: 8 * time.Second},
		MaxWait: 2 * time.Second, Now: clk.Now, Sleep: clk.Sleep})
	_, addr := c.serve(t, c.Nodes[0], Submission, withLogin(t, c.Nodes[0], login.Config{Limiter: lim, MaxFailuresPerConn: 100}))

	cl := dial(t, addr)
	cl.hello()
	var last string
	for range 5 {
		code, msg := cl.cmd("AUTH PLAIN %s", plain(bob, "guess"))
		if code != 535 {
			t.Fatalf("wrong password: %d %s", code, msg)
		}
		last = msg
	}
	want := []time.Duration{time.Second, 2 * time.Second}
	if got := clk.waits(); !slices.Equal(got, want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if !strings.Contains(last, "slowed") {
		t.Fatalf("a slowed failure gives no hint: %q", last)
	}
	// 4 s left: more than the 2 s that are slept.
	if code, msg := cl.cmd("AUTH PLAIN %s", plain(bob, bobPass)); code != 454 || !strings.Contains(msg, "try again in 4 seconds") {
		t.Fatalf("locked: %d %s, want 454 4.7.0 with the time left", code, msg)
	}
	clk.advance(4 * time.Second)
	cl.must(235, "AUTH PLAIN %s", plain(bob, bobPass))
	ip := netip.MustParseAddr("127.0.0.1")
	if client, pair, _ := lim.Failures(ip, bob); pair != 0 || client == 0 {
		t.Fatalf("after success: pair %v (want 0), client %v (want > 0)", pair, client)
	}
	clk.advance(time.Hour) // failures decay
	other := dial(t, addr)
	other.hello()
	other.must(235, "AUTH PLAIN %s", plain(alice, alicePass))
	if got := clk.waits(); len(got) != 2 {
		t.Fatalf("a login an hour later waited: %v", got)
	}
}

// TestSubmissionNullSender: an authenticated user sends an MDN with the
// null reverse-path (RFC 8098 §2.1, RFC 5321 §4.5.5); it is delivered with
// "Return-Path: <>".
func TestSubmissionNullSender(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, Submission, nil)
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	cl.must(235, "AUTH PLAIN %s", plain(alice, alicePass))
	cl.must(250, "MAIL FROM:<>")
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(message("Disposition notification")); code != 250 {
		t.Fatalf("MDN: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !strings.HasPrefix(string(got[len(got)-1]), "Return-Path: <>\r\n") {
		t.Fatalf("MDN not delivered with a null Return-Path")
	}
}
