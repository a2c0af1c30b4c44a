package smtp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// connCheck is a pipeline.ConnCheck whose answer the test chooses; it
// records the clients it was asked about.
type connCheck struct {
	err  error
	slow bool // waits for its context to end
	mu   sync.Mutex
	seen []pipeline.Client
}

func (c *connCheck) Name() string { return "testlist" }

func (c *connCheck) CheckConn(ctx context.Context, cl pipeline.Client) error {
	c.mu.Lock()
	c.seen = append(c.seen, cl)
	c.mu.Unlock()
	if c.slow {
		<-ctx.Done()
		return ctx.Err()
	}
	return c.err
}

func (c *connCheck) asked() []pipeline.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]pipeline.Client(nil), c.seen...)
}

// TestConnCheckRefuses: a check's *Reply is the answer to EHLO and to HELO
// (RFC 5782 §2.1's DNSBL refusal, say); the client gets no session, so no
// MAIL is taken. The check saw the client's address and greeting name.
func TestConnCheckRefuses(t *testing.T) {
	c := sharedCluster(t)
	check := &connCheck{err: &pipeline.Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "Service unavailable; client [127.0.0.1] blocked using bl.test"}}
	_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) { cfg.ConnChecks = []pipeline.ConnCheck{check} })
	cl := dial(t, addr)
	code, text := cl.cmd("EHLO client.test")
	if code != 554 || !strings.Contains(text, "5.7.1") || !strings.Contains(text, "bl.test") {
		t.Fatalf("EHLO: %d %s", code, text)
	}
	if code, text := cl.cmd("HELO client.test"); code != 554 {
		t.Fatalf("HELO: %d %s", code, text)
	}
	if code, text := cl.cmd("MAIL FROM:<%s>", sender); code/100 != 5 {
		t.Fatalf("MAIL after a refused greeting: %d %s", code, text)
	}
	seen := check.asked()
	if len(seen) != 2 || seen[0].RemoteIP != "127.0.0.1" || seen[0].Helo != "client.test" || seen[0].TLS {
		t.Fatalf("check asked about %+v", seen)
	}
}

// TestConnCheckFailureIsTemporary: a check that cannot decide (its
// look-up failed, or it passed ConnCheckTimeout) gives 451 4.7.0, never a
// refusal for good nor a pass.
func TestConnCheckFailureIsTemporary(t *testing.T) {
	c := sharedCluster(t)
	for name, check := range map[string]*connCheck{
		"error": {err: errors.New("resolver unreachable")},
		"slow":  {slow: true},
	} {
		t.Run(name, func(t *testing.T) {
			_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) {
				cfg.ConnChecks = []pipeline.ConnCheck{check}
				cfg.ConnCheckTimeout = 50 * time.Millisecond
			})
			cl := dial(t, addr)
			if code, text := cl.cmd("EHLO client.test"); code != 451 || !strings.Contains(text, "4.7.0") {
				t.Fatalf("EHLO: %d %s", code, text)
			}
		})
	}
}

// TestConnCheckPasses: a client that passes is asked about once per
// connection (not again after STARTTLS, RFC 3207 §4.2) and its mail is
// delivered; the checks are asked in order, and a later one's refusal
// holds.
func TestConnCheckPasses(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	check := &connCheck{}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.ConnChecks = []pipeline.ConnCheck{check} })
	before := len(inbox(t, n, alice))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	if code, text := cl.data(message("passed the connection checks")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got := len(inbox(t, n, alice)); got != before+1 {
		t.Fatalf("%d messages, want %d", got, before+1)
	}
	if seen := check.asked(); len(seen) != 1 {
		t.Fatalf("asked %d times in one connection, want 1: %+v", len(seen), seen)
	}

	later := &connCheck{err: &pipeline.Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "listed"}}
	first := &connCheck{}
	_, addr = c.serve(t, n, MX, func(cfg *Config) { cfg.ConnChecks = []pipeline.ConnCheck{first, later} })
	cl = dial(t, addr)
	if code, text := cl.cmd("EHLO client.test"); code != 554 || len(first.asked()) != 1 {
		t.Fatalf("EHLO: %d %s; first check asked %d times", code, text, len(first.asked()))
	}
}

// TestConnCheckNotOnSubmission: submission clients are not judged by
// connection checks (they authenticate).
func TestConnCheckNotOnSubmission(t *testing.T) {
	c := sharedCluster(t)
	check := &connCheck{err: &pipeline.Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "listed"}}
	_, addr := c.serve(t, c.Nodes[0], Submission, func(cfg *Config) { cfg.ConnChecks = []pipeline.ConnCheck{check} })
	cl := dial(t, addr)
	cl.hello()
	if seen := check.asked(); len(seen) != 0 {
		t.Fatalf("asked on submission: %+v", seen)
	}
}
