package smtp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/log/logtest"
	"github.com/surat-mail/surat/protocols/propose"
)

// largeMessage is a message of about n bytes (many chunks).
func largeMessage(subject string, n int) []byte {
	line := strings.Repeat("z", 76) + "\r\n"
	return append(message(subject), []byte(strings.Repeat(line, n/len(line)))...)
}

// chunkOnly reports whether a proposal is one chunk ahead of a delivery
// (a lone ChunkStaged), and returns it.
func chunkOnly(p []byte) *evlog.ChunkStaged {
	b, err := evlog.DecodeBatch(p)
	if err != nil || len(b.GetEvents()) != 1 {
		return nil
	}
	return b.GetEvents()[0].GetChunkStaged()
}

// windowProposer holds every early chunk proposal until chunkWindow of
// them are in flight at once (or, for a proposer that sends them one by
// one, until a guard passes), and records the most it saw in flight.
type windowProposer struct {
	real Proposer

	mu       sync.Mutex
	inflight int
	most     int
	open     chan struct{}
}

func (w *windowProposer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	if chunkOnly(p) == nil {
		return w.real.Propose(ctx, p)
	}
	w.mu.Lock()
	w.inflight++
	w.most = max(w.most, w.inflight)
	if w.inflight == chunkWindow {
		close(w.open)
	}
	w.mu.Unlock()
	select {
	case <-w.open:
	case <-time.After(2 * time.Second): // only a serial sender gets here
	}
	defer func() {
		w.mu.Lock()
		w.inflight--
		w.mu.Unlock()
	}()
	return w.real.Propose(ctx, p)
}

// TestLargeMessageChunksArePipelined: the chunks of a large message are
// proposed chunkWindow at a time, not one round trip each, and never
// more (a session's proposals stay bounded); the message arrives whole.
func TestLargeMessageChunksArePipelined(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	wp := &windowProposer{real: n.Node, open: make(chan struct{})}
	_, addr := c.serve(t, n, MX, func(cfg *Config) {
		cfg.Proposer = wp
		cfg.ProposeTimeout = time.Minute // a serial sender waits out the guard per chunk
	})
	before := len(inbox(t, n, bob))
	body := largeMessage("pipelined", 3<<20) // 12 full chunks and a bit
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(body); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	if wp.most != chunkWindow {
		t.Fatalf("at most %d chunk proposals in flight, want %d", wp.most, chunkWindow)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !bytes.HasSuffix(got[len(got)-1], body) {
		t.Fatalf("the message did not arrive whole")
	}
}

// collectingProposer runs a blob collection once a message's second chunk
// is committed: as the collector on the leader does when, under load, the
// log has moved CollectDistance entries past the first chunks (so
// touched_before lies beyond them) while the rest is still arriving.
type collectingProposer struct {
	t    *testing.T
	node *testNode
	once sync.Once
	mu   sync.Mutex
	seen int
}

func (p *collectingProposer) Propose(ctx context.Context, data []byte) ([]byte, error) {
	res, err := p.node.Node.Propose(ctx, data)
	c := chunkOnly(data)
	if err != nil || c == nil {
		return res, err
	}
	p.mu.Lock()
	p.seen++
	second := p.seen == 2
	p.mu.Unlock()
	if second {
		p.once.Do(func() { p.collect(ctx) })
	}
	return res, err
}

func (p *collectingProposer) collect(ctx context.Context) {
	st := p.node.Store
	past := st.AppliedIndex() + 1 // everything so far is "old"
	now := time.Now().Unix()
	hashes, err := st.UnreferencedBlobs(past, now, 0)
	if err != nil {
		p.t.Errorf("collection scan: %v", err)
		return
	}
	// Expire the uploads pinned until before now, as the collector does:
	// the one in progress is pinned past it.
	if _, err := propose.Submit(ctx, p.node.Node, &evlog.Event{Kind: &evlog.Event_BlobsCollected{
		BlobsCollected: &evlog.BlobsCollected{Hashes: hashes, TouchedBefore: past, NowUnix: now, ExpiredUploadsBeforeUnix: now}}}); err != nil {
		p.t.Errorf("collection: %v", err)
	}
}

// TestCollectionMidUploadKeepsTheChunks: a blob collection that runs while
// a large message's chunks are arriving does not take them (they are
// pinned), so the message is delivered intact. Before pins, the
// collection deleted the first chunks and the delivery was refused after
// the client had sent the whole message.
func TestCollectionMidUploadKeepsTheChunks(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	cp := &collectingProposer{t: t, node: n}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Proposer = cp })
	before := len(inbox(t, n, bob))
	body := largeMessage("collected meanwhile", 2<<20)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(body); code != 250 {
		t.Fatalf("end of data with a collection mid-upload: %d %s", code, msg)
	}
	if cp.seen < 2 {
		t.Fatalf("only %d chunk proposals: no collection ran mid-upload", cp.seen)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !bytes.HasSuffix(got[len(got)-1], body) {
		t.Fatal("the message did not arrive whole")
	}
}

// blockingProposer never commits: it waits for its context and reports
// how that ended.
type blockingProposer struct {
	entered chan struct{}
	ended   chan error
}

func (b *blockingProposer) Propose(ctx context.Context, _ []byte) ([]byte, error) {
	b.entered <- struct{}{}
	<-ctx.Done()
	b.ended <- ctx.Err()
	return nil, ctx.Err()
}

// TestShutdownCancelsABlockedDelivery: a delivery waiting for the cluster
// stops waiting when the server closes, instead of holding its goroutine
// for the whole propose timeout (it took context.Background() before).
func TestShutdownCancelsABlockedDelivery(t *testing.T) {
	c := sharedCluster(t)
	bp := &blockingProposer{entered: make(chan struct{}, 1), ended: make(chan error, 1)}
	srv, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) {
		cfg.Proposer = bp
		cfg.ProposeTimeout = time.Hour
	})
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	replied := make(chan int, 1)
	go func() {
		code, _ := cl.data(message("never committed"))
		replied <- code
	}()
	<-bp.entered
	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }() // it waited for the delivery before
	select {
	case err := <-bp.ended:
		if err != context.Canceled {
			t.Fatalf("the delivery's context ended with %v, want it cancelled", err)
		}
	case <-time.After(20 * time.Second): // a guard: the cancellation is immediate
		t.Fatal("the delivery still waits after the server closed")
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if code := <-replied; code == 250 {
		t.Fatal("250 for a message never committed")
	}
}

// TestDeliveryLogLines: each local copy gets a line with the delivery's
// raft_index, the user, the mailbox by name and the UID it got, so one
// message can be followed across nodes with grep.
func TestDeliveryLogLines(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	var logs logtest.Sink
	_, addr := c.serve(t, n, MX, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(message("followed")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	applied := n.Store.AppliedIndex()
	for _, user := range []string{alice, bob} {
		mb, err := n.Store.MailboxByName(user, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		uid := mb.GetUidNext() - 1
		re := regexp.MustCompile(fmt.Sprintf(`msg="smtp delivered" .*user=%s mailbox=INBOX uid=%d raft_index=(\d+)`,
			regexp.QuoteMeta(user), uid))
		m := re.FindStringSubmatch(logs.String())
		if m == nil {
			t.Fatalf("no delivery line for %s uid %d in:\n%s", user, uid, logs.String())
		}
		if idx, _ := strconv.ParseUint(m[1], 10, 64); idx == 0 || idx > applied {
			t.Fatalf("raft_index %s (applied %d)", m[1], applied)
		}
	}
}

// TestClientHangupCancelsABlockedDelivery: a client that hangs up while
// its delivery waits for the cluster ends the wait (nothing reads the
// connection then, so before the watch its end went unseen until the
// propose timeout). A command pipelined behind the message instead is
// kept for the session and answered after the reply to DATA.
func TestClientHangupCancelsABlockedDelivery(t *testing.T) {
	c := sharedCluster(t)
	bp := &blockingProposer{entered: make(chan struct{}, 1), ended: make(chan error, 1)}
	_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) {
		cfg.Proposer = bp
		cfg.ProposeTimeout = time.Hour
	})
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	cl.must(354, "DATA")
	if _, err := cl.conn.Write(append(message("hung up"), ".\r\n"...)); err != nil {
		t.Fatal(err)
	}
	<-bp.entered
	cl.conn.Close()
	select {
	case err := <-bp.ended:
		if err != context.Canceled {
			t.Fatalf("the delivery's context ended with %v, want it cancelled", err)
		}
	case <-time.After(20 * time.Second): // a guard: the cancellation is immediate
		t.Fatal("the delivery still waits after its client hung up")
	}
}

// TestPipelinedCommandAfterDataIsKept: bytes the close watch reads while
// the delivery waits are the session's next command (RFC 2920 §3.1).
func TestPipelinedCommandAfterDataIsKept(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	slow := &slowProposer{real: n.Node, delay: 200 * time.Millisecond}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Proposer = slow })
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	cl.must(354, "DATA")
	if _, err := cl.conn.Write(append(message("pipelined"), ".\r\nNOOP\r\n"...)); err != nil {
		t.Fatal(err)
	}
	if code, msg := cl.read(); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	if code, msg := cl.read(); code != 250 {
		t.Fatalf("pipelined NOOP: %d %s", code, msg)
	}
}

// slowProposer commits after a pause, so that what the client sends
// meanwhile arrives while the delivery waits.
type slowProposer struct {
	real  Proposer
	delay time.Duration
}

func (s *slowProposer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	time.Sleep(s.delay)
	return s.real.Propose(ctx, p)
}
