package imap

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/log/logtest"
	"github.com/surat-mail/surat/protocols/login"
)

// watchedProposer passes proposals to the cluster and reports when one
// starts waiting and when it returns.
type watchedProposer struct {
	Proposer
	started  chan struct{}
	returned chan error
}

func (p *watchedProposer) Propose(ctx context.Context, proposal []byte) ([]byte, error) {
	p.started <- struct{}{}
	res, err := p.Proposer.Propose(ctx, proposal)
	p.returned <- err
	return res, err
}

// startAppend sends an APPEND whose proposal will wait on the cluster; it
// returns once the proposal is waiting.
func startAppend(t *testing.T, cl *imapclient.Client, p *watchedProposer) {
	t.Helper()
	body := msg("waits for a quorum", "hello")
	cmd := cl.Append("INBOX", int64(len(body)), nil)
	if _, err := cmd.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = cmd.Wait() }()
	select {
	case <-p.started:
	case <-time.After(10 * time.Second):
		t.Fatal("APPEND did not reach the cluster")
	}
}

// A proposal waits for a quorum at most until its session ends: when the
// client goes away, or the server shuts down, the wait is given up at once
// instead of after ProposeTimeout. The cluster is a real one that lost its
// quorum.
func TestProposalEndsWithSession(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := startCluster(t, 3)
	user := c.NewUser(t, "ctx", password)
	p := &watchedProposer{Proposer: c.Nodes[0].Node, started: make(chan struct{}, 4), returned: make(chan error, 4)}
	const proposeTimeout = time.Minute
	srv, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) {
		cfg.Proposer = p
		cfg.ProposeTimeout = proposeTimeout
	})
	// Logged in while the cluster can still answer (login checks that
	// the node is caught up).
	gone, _ := dial(t, addr, user)
	mustSelect(t, gone, "INBOX")
	stay, _ := dial(t, addr, user)
	mustSelect(t, stay, "INBOX")
	c.Nodes[1].Stop()
	c.Nodes[2].Stop()

	returnsWithin := func(t *testing.T, what string, d time.Duration) {
		t.Helper()
		select {
		case err := <-p.returned:
			if err == nil {
				t.Fatalf("%s: proposal committed without a quorum", what)
			}
			t.Logf("%s: proposal gave up: %v", what, err)
		case <-time.After(d):
			t.Fatalf("%s: proposal still waiting after %v (ProposeTimeout %v)", what, d, proposeTimeout)
		}
	}

	t.Run("client disconnects", func(t *testing.T) {
		startAppend(t, gone, p)
		start := time.Now()
		if err := gone.Close(); err != nil {
			t.Fatal(err)
		}
		returnsWithin(t, "client gone", 5*time.Second)
		t.Logf("returned %v after the client left", time.Since(start).Round(time.Millisecond))
	})

	t.Run("server shuts down mid-APPEND", func(t *testing.T) {
		startAppend(t, stay, p)
		const grace = 2 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		start := time.Now()
		_ = srv.Shutdown(ctx)
		if took := time.Since(start); took > grace+time.Second {
			t.Fatalf("Shutdown took %v with a %v deadline", took, grace)
		}
		returnsWithin(t, "shutdown", time.Second)
	})
}

// A LOGIN whose client leaves while it waits (here for the node to catch
// up with the cluster) ends at once instead of holding its place until
// the wait times out.
func TestLoginEndsWithClient(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "ctxlogin", password)
	waiting := make(chan struct{}, 1)
	logs := &logtest.Sink{}
	_, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) {
		withLogin(t, c.Nodes[0], login.Config{
			CaughtUp: func() bool { return false },
			ReadBarrier: func(ctx context.Context) error {
				waiting <- struct{}{}
				<-ctx.Done()
				return ctx.Err()
			},
			BarrierTimeout: time.Minute,
		})(cfg)
		cfg.Logger = logs.Logger()
	})
	cl, _ := dial(t, addr, "")
	_ = cl.Login(user, password) // answered only when the barrier ends
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("LOGIN did not reach the read barrier")
	}
	start := time.Now()
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
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
			t.Fatal("LOGIN still waiting 5 s after its client left (the barrier allows a minute)")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
