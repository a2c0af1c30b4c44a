package pop3

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/log/logtest"
	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/propose"
)

// blockedBarrier is a login read barrier that waits, as one on a cluster
// without a quorum does, until the test ends (the login path shares one
// barrier among logins, bounded by its own timeout, so a login that gives
// up leaves it running).
type blockedBarrier struct {
	waiting chan struct{}
	stop    chan struct{}
}

func newBlockedBarrier(t *testing.T) *blockedBarrier {
	b := &blockedBarrier{waiting: make(chan struct{}, 4), stop: make(chan struct{})}
	t.Cleanup(func() { close(b.stop) })
	return b
}

func (b *blockedBarrier) config() authn.Config {
	return authn.Config{
		CaughtUp: func() bool { return false },
		ReadBarrier: func(ctx context.Context) error {
			b.waiting <- struct{}{}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-b.stop:
				return errors.New("test over")
			}
		},
		BarrierTimeout: time.Minute,
	}
}

// startPass sends USER and PASS; PASS waits in the barrier.
func (b *blockedBarrier) startPass(t *testing.T, addr, user string) *client {
	t.Helper()
	cl := dial(t, addr)
	cl.stls()
	cl.must("USER " + user)
	cl.send("PASS " + password)
	select {
	case <-b.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("PASS did not reach the read barrier")
	}
	return cl
}

// A PASS whose client leaves while it waits (for the node to catch up
// with a cluster that cannot answer) gives up at once, instead of holding
// its place until the wait times out.
func TestLoginEndsWithClient(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "ctxgone", password)
	b := newBlockedBarrier(t)
	logs := &logtest.Sink{}
	_, addr := c.serve(t, c.Nodes[0], func(cfg *Config) {
		withLogin(t, c.Nodes[0], b.config())(cfg)
		cfg.Logger = logs.Logger()
	})
	cl := b.startPass(t, addr, user)
	start := time.Now()
	cl.conn.Close()
	for {
		lines, err := logs.Lines("login not checked")
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) > 0 {
			t.Logf("login gave up %v after the client left: %v", time.Since(start).Round(time.Millisecond), lines[0]["err"])
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("PASS still waiting 5 s after its client left (the barrier allows a minute)")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Shutdown ends a login's wait at once, even with a long grace period: a
// login has nothing in flight that a client was promised.
func TestShutdownEndsLogin(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "ctxshut", password)
	b := newBlockedBarrier(t)
	srv, addr := c.serve(t, c.Nodes[0], withLogin(t, c.Nodes[0], b.config()))
	cl := b.startPass(t, addr, user)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown (grace a minute) still waiting for a login after 5 s")
	}
	t.Logf("Shutdown returned after %v (grace a minute)", time.Since(start).Round(time.Millisecond))
	if l := cl.line(); !strings.HasPrefix(l, "-ERR [SYS/TEMP]") {
		t.Fatalf("PASS cut by shutdown answered %q, want -ERR [SYS/TEMP]", l)
	}
}

// gatedProposer holds proposals until release is closed, and gives up
// when their context ends, as a real one does.
type gatedProposer struct {
	propose.Proposer
	held    chan struct{}
	release chan struct{}
}

func (g *gatedProposer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	g.held <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.Proposer.Propose(ctx, p)
}

// A client that sends QUIT and leaves before the answer has still entered
// UPDATE (RFC 1939 §6): its deletions are committed.
func TestQuitCompletesAfterClientLeaves(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "ctxquit", password)
	c.Deliver(t, user, message("one", "first"), message("two", "second"))
	g := &gatedProposer{Proposer: n.Node, held: make(chan struct{}, 4), release: make(chan struct{})}
	_, addr := c.serve(t, n, func(cfg *Config) { cfg.Proposer = g })
	cl := login(t, addr, user)
	cl.must("DELE 1")
	cl.send("QUIT")
	select {
	case <-g.held:
	case <-time.After(10 * time.Second):
		t.Fatal("QUIT's UPDATE was not proposed")
	}
	cl.conn.Close()
	time.Sleep(200 * time.Millisecond) // the server sees the client gone
	close(g.release)
	waitFor(t, "the deletion committed", func() bool {
		uids, _ := inbox(t, n, user)
		return len(uids) == 1
	})
}

// stuckProposer never commits: each proposal waits until its context
// ends, as on a cluster without a quorum, and reports when it gave up.
type stuckProposer struct {
	propose.Proposer
	started, ended chan time.Time
}

func (p *stuckProposer) Propose(ctx context.Context, _ []byte) ([]byte, error) {
	p.started <- time.Now()
	<-ctx.Done()
	p.ended <- time.Now()
	return nil, ctx.Err()
}

// A \Seen flush waiting on a cluster without a quorum gives up when its
// client leaves, instead of after ProposeTimeout; the session then ends.
func TestSeenFlushEndsWithClient(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "ctxseen", password)
	c.Deliver(t, user, message("one", "first"))
	p := &stuckProposer{Proposer: n.Node, started: make(chan time.Time, 4), ended: make(chan time.Time, 4)}
	_, addr := c.serve(t, n, func(cfg *Config) {
		cfg.Proposer = p
		cfg.SeenFlushCount = 1 // flush after every RETR
		cfg.ProposeTimeout = time.Minute
	})
	cl := login(t, addr, user)
	cl.must("RETR 1")
	cl.multi()
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the \\Seen flush was not proposed")
	}
	left := time.Now()
	cl.conn.Close()
	select {
	case end := <-p.ended:
		t.Logf("flush gave up %v after the client left", end.Sub(left).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("\\Seen flush still waiting 5 s after its client left (ProposeTimeout a minute)")
	}
}

// On a real cluster that lost its quorum, a \Seen flush waits for a
// commit that cannot come; Shutdown, even with a minute of grace, ends
// that wait at once (the changes get one more bounded try as the session
// ends), instead of waiting out ProposeTimeout or the grace period.
func TestShutdownEndsSeenFlushWithoutQuorum(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := startCluster(t, 3)
	n := c.Nodes[0]
	user := c.NewUser(t, "noquorum", password)
	c.Deliver(t, user, message("one", "first"))
	waitFor(t, "delivery on n1", func() bool { return count(n, user) == 1 })
	srv, addr := c.serve(t, n, func(cfg *Config) {
		cfg.SeenFlushCount = 1 // flush after every RETR
		cfg.ProposeTimeout = time.Minute
	})
	cl := login(t, addr, user)
	c.Nodes[1].Stop()
	c.Nodes[2].Stop()
	cl.must("RETR 1")
	cl.multi()
	time.Sleep(200 * time.Millisecond) // the flush is waiting for a quorum
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	_ = srv.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown returned after %v (grace and ProposeTimeout a minute)", took.Round(time.Millisecond))
	if took > dropFlushTimeout+2*time.Second { // the last try, and the close's linger
		t.Fatalf("Shutdown took %v", took)
	}
}
