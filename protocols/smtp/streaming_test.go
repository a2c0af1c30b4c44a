package smtp

import (
	"bytes"
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// flightProposer counts the bytes of the proposals in flight through it
// (a session's share of the log's traffic), the most at once, and the
// ChunkStaged proposals it saw.
type flightProposer struct {
	real Proposer

	mu             sync.Mutex
	inflight, most int
	staged         int
	minPin         int64   // the earliest pinned_until_unix of a staged chunk
	errs           []error // what the cluster answered with, when not a commit
}

func (f *flightProposer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	f.mu.Lock()
	f.inflight += len(p)
	f.most = max(f.most, f.inflight)
	if c := chunkOnly(p); c != nil {
		f.staged++
		if f.minPin == 0 || c.GetPinnedUntilUnix() < f.minPin {
			f.minPin = c.GetPinnedUntilUnix()
		}
	}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight -= len(p)
		f.mu.Unlock()
	}()
	out, err := f.real.Propose(ctx, p)
	if err != nil {
		f.mu.Lock()
		f.errs = append(f.errs, err)
		f.mu.Unlock()
	}
	return out, err
}

// uploads is how many staged uploads n's store holds.
func uploads(t *testing.T, n *testNode) int {
	t.Helper()
	c, err := n.Store.UploadsPinnedBefore(math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLargeMessageStreamsThroughACluster: a 20 MiB message sent to a
// follower of a three-node cluster streams into the log as it is read:
// never more than chunkWindow chunks (and the delivery) are in flight,
// a few MiB, not the message, and it arrives intact on every node with no
// staged upload left.
func TestLargeMessageStreamsThroughACluster(t *testing.T) {
	// 80 chunk proposals forwarded from a follower: under -race on a
	// loaded machine one may wait past the fixture's 5 s cluster timeout,
	// which would be a 451 that says nothing about streaming.
	opts := clusterOptions(3)
	opts.Config = func(_ int, cfg *cluster.Config) { cfg.ProposeTimeout = time.Minute }
	c := &testCluster{protocoltest.Start(t, opts)}
	follower := c.Follower(t)
	fp := &flightProposer{real: follower.Node}
	_, addr := c.serve(t, follower, MX, func(cfg *Config) {
		cfg.Proposer = fp
		cfg.ProposeTimeout = time.Minute
	})
	body := largeMessage("streamed", 20<<20)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(body); code != 250 {
		fp.mu.Lock()
		errs := fp.errs
		fp.mu.Unlock()
		t.Fatalf("end of data: %d %s (proposals failed with %v)", code, msg, errs)
	}
	t.Logf("20 MiB message: %d chunks staged, at most %.1f MiB of proposals in flight", fp.staged, float64(fp.most)/(1<<20))
	if want := len(body) / evlog.ChunkSize; fp.staged < want {
		t.Fatalf("%d chunks staged, want at least %d", fp.staged, want)
	}
	if limit := (chunkWindow + 1) * (evlog.ChunkSize + 1024); fp.most > limit {
		t.Fatalf("%d bytes of proposals in flight at once, more than %d", fp.most, limit)
	}
	c.WaitConverged(t, 30*time.Second)
	for _, n := range c.Nodes {
		got := inbox(t, n, bob)
		if len(got) != 1 || !bytes.HasSuffix(got[0], body) {
			t.Fatalf("node %s: the message did not arrive whole", n.ID)
		}
		if u := uploads(t, n); u != 0 {
			t.Fatalf("node %s: %d staged uploads left after delivery", n.ID, u)
		}
	}
}

// TestRefusedMidStreamAbandonsItsUpload: a message refused after 2 MiB
// were staged (a bare LF, RFC 5321 §2.3.8) gets its 550, and the session
// abandons its upload at once rather than leaving it until its pin ends.
func TestRefusedMidStreamAbandonsItsUpload(t *testing.T) {
	c := startCluster(t, 1) // its own: no other test's uploads in the store
	n := c.Nodes[0]
	fp := &flightProposer{real: n.Node}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Proposer = fp })
	before := len(inbox(t, n, bob))
	start := time.Now()
	body := append(largeMessage("refused midway", 2<<20+1000), []byte("smuggled\n.\r\nMAIL FROM:<x@y.test>\r\n")...)
	body = append(body, []byte(strings.Repeat("tail\r\n", 1000))...)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(body); code != 550 {
		t.Fatalf("end of data with a bare LF: %d %s", code, msg)
	}
	fp.mu.Lock()
	staged, minPin := fp.staged, fp.minPin
	fp.mu.Unlock()
	if staged == 0 {
		t.Fatal("no chunk staged before the refusal")
	}
	// The pin outlasts a client's pause between chunks (ReadTimeout, 5
	// minutes by default) and the delivery's proposal after the last.
	if want := start.Add(5*time.Minute + 10*time.Second).Unix(); minPin < want {
		t.Errorf("staged chunks pinned until %d, want at least %d", minPin, want)
	}
	// Every chunk proposal has ended (committed or not), so none can
	// stage its upload again after the check.
	protocoltest.WaitFor(t, 10*time.Second, "the chunk proposals to end", func() bool {
		fp.mu.Lock()
		defer fp.mu.Unlock()
		return fp.inflight == 0
	})
	if u := uploads(t, n); u != 0 {
		t.Fatalf("%d staged uploads left after the refusal", u)
	}
	if got := inbox(t, n, bob); len(got) != before {
		t.Fatal("a refused message was delivered")
	}
	cl.must(250, "RSET") // the session serves on
}
