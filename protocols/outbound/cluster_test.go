package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/protocoltest"
	"github.com/surat-mail/surat/protocols/smtp"
)

// These tests run a real three-node cluster (protocoltest: Raft + Pebble)
// in this process, a worker on every node, and an SMTP sink on loopback as the
// smarthost. Nothing leaves the machine and no DNS is asked.

const (
	domain    = "example.test"
	alice     = "alice@example.test"
	alicePass = "alice's password"
)

type testNode = protocoltest.Node

// testCluster is a cluster with a worker on every node, relaying to sink.
type testCluster struct {
	*protocoltest.Cluster
	t      *testing.T
	sink   *sink
	relays map[*testNode]*Relay
}

// workerConfig is short enough for tests: 1 s backoff (queue times are in
// whole seconds), quick polls.
func workerConfig(n *testNode, tr *Transport) Config {
	return Config{
		Store: n.Store, Cluster: n.Node,
		Deliverer:  tr,
		IsNotFound: protocoltest.IsNotFound,
		OneRoute:   true, Hostname: "mx." + domain, LocalDomains: []string{domain},
		Schedule: []time.Duration{time.Second}, PollInterval: 100 * time.Millisecond,
		LeaderCheck: 50 * time.Millisecond, HoldOff: time.Second, ProposeTimeout: 10 * time.Second,
		CollectInterval: -1, Logger: protocoltest.Logger().With("node", n.ID),
	}
}

func startCluster(t *testing.T, size int, lifetime time.Duration) *testCluster {
	t.Helper()
	return startClusterWith(t, size, lifetime, newSink(t, "", nil, false), plainSmarthost, nil)
}

func plainSmarthost(addr string) *Transport {
	return &Transport{Smarthost: addr, SmarthostTLS: TLSNone, DialTimeout: 2 * time.Second, CommandTimeout: 10 * time.Second}
}

// startClusterWith relays to s through the transport that newTransport
// makes for s's address; tweak, if set, changes the workers' Config.
func startClusterWith(t *testing.T, size int, lifetime time.Duration, s *sink, newTransport func(addr string) *Transport, tweak func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, sink: s, relays: map[*testNode]*Relay{}}
	// The worker runs beside each node: stopped before a clean stop, cut
	// off after a kill.
	worker := func(n *testNode) (func(), error) {
		wc := workerConfig(n, newTransport(c.sink.addr))
		if tweak != nil {
			tweak(&wc)
		}
		w, err := New(wc)
		if err != nil {
			return nil, err
		}
		c.relays[n] = &Relay{Lifetime: lifetime, Wake: w.Wake}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.Run(ctx)
		}()
		return func() { cancel(); <-done }, nil
	}
	c.Cluster = protocoltest.Start(t, protocoltest.Options{Size: size, Domain: domain, Services: worker,
		Setup: func(tb testing.TB, pc *protocoltest.Cluster) { pc.CreateUser(tb, alice, alicePass) }})
	return c
}

// queue submits a message as protocols/smtp does: body chunk, local
// delivery (none here) and the Relay's Queued event in one proposal.
func (c *testCluster) queue(n *testNode, from string, rcpts []string, body []byte) []byte {
	c.t.Helper()
	chunks := evlog.Chunks(body)
	evs, err := c.relays[n].QueueEvents(smtp.Outbound{From: from, Recipients: rcpts, Blob: chunks[0].Hash,
		Size: chunks[0].Size, Received: time.Now(), User: from})
	if err != nil {
		c.t.Fatal(err)
	}
	n.Submit(c.t, append([]*evlog.Event{{Kind: &evlog.Event_BlobStored{BlobStored: chunks[0]}}}, evs...)...)
	c.relays[n].Queued()
	return evs[0].GetQueued().GetId()
}

// waitGone waits until no live node has the entry.
func (c *testCluster) waitGone(id []byte, d time.Duration) {
	c.t.Helper()
	waitUntil(c.t, d, fmt.Sprintf("queue entry %x to finish", id), func() bool {
		for _, n := range c.Live() {
			if _, err := n.Store.QueueEntry(id); !errors.Is(err, mailbox.ErrNotFound) {
				return false
			}
		}
		return true
	})
}

func inbox(t *testing.T, n *testNode, user string) [][]byte {
	t.Helper()
	return n.Bodies(t, user)
}

func message(subject string) []byte {
	return []byte("From: <" + alice + ">\r\nTo: <dave@remote.test>\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@example.test>\r\n\r\nHello.\r\n")
}

// Submission over real SMTP (STARTTLS, AUTH) to a follower: the remote
// recipient reaches the smarthost exactly once, the local one is
// delivered, and the entry leaves the queue on every node.
func TestSubmissionRelayedOnce(t *testing.T) {
	c := startCluster(t, 3, time.Hour)
	follower := c.Follower(t)
	waitUntil(t, 5*time.Second, "the user on the follower", func() bool {
		_, err := follower.Store.User(alice)
		return err == nil
	})
	srv, err := smtp.New(smtp.Config{
		Kind: smtp.Submission, Hostname: "mx." + domain, TLS: c.TLS, Directory: follower.Store,
		Proposer: follower.Node, IsNotFound: protocoltest.IsNotFound,
		LocalDomains: []string{domain}, Relay: c.relays[follower], Logger: protocoltest.Logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	cl, err := gosmtp.DialStartTLS(ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Auth(sasl.NewPlainClient("", alice, alicePass)); err != nil {
		t.Fatal(err)
	}
	body := message("relay once")
	if err := cl.SendMail(alice, []string{"dave@remote.test", alice}, bytes.NewReader(body)); err != nil {
		t.Fatalf("submission: %v", err)
	}
	waitUntil(t, 15*time.Second, "the message at the smarthost", func() bool { return c.sink.countWith("relay-once@") == 1 })
	if got := inbox(t, follower, alice); len(got) != 1 {
		t.Fatalf("local recipient: %d messages", len(got))
	}
	entries, _ := follower.Store.QueueEntries(0)
	for _, e := range entries {
		c.waitGone(e.GetId(), 10*time.Second)
	}
	waitUntil(t, 10*time.Second, "the queue to empty", func() bool {
		for _, n := range c.Live() {
			if k, _ := n.Store.QueueLength(); k != 0 {
				return false
			}
		}
		return true
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would show by now
	m := c.sink.all()
	if len(m) != 1 || m[0].From != alice || len(m[0].Rcpts) != 1 || m[0].Rcpts[0] != "dave@remote.test" {
		t.Fatalf("sink got %d messages: %+v", len(m), m)
	}
	if !bytes.HasSuffix(m[0].Data, body) {
		t.Fatalf("relayed body differs:\n%s", m[0].Data)
	}
	// RFC 5321 §4.4: the local copy has our Return-Path, the relayed one none.
	if bytes.Contains(m[0].Data, []byte("Return-Path:")) || !bytes.HasPrefix(inbox(t, follower, alice)[0], []byte("Return-Path: <"+alice+">")) {
		t.Fatalf("Return-Path: relayed\n%s", m[0].Data)
	}
	// The body stays referenced by the local delivery only.
	mb, err := follower.Store.MailboxByName(alice, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	var blob []byte
	if err := follower.Store.Messages(mb.GetId(), func(_ uint32, m *evlog.MessageRecord) bool { blob = m.GetBlob(); return false }); err != nil {
		t.Fatal(err)
	}
	if b, err := follower.Store.BlobInfo(blob); err != nil || b.GetRefs() != 1 {
		t.Fatalf("blob refs after the entry finished: %v %v", b, err)
	}
}

// A 4xx is retried after the backoff, then the 2xx finishes the entry.
func TestTemporaryFailureRetried(t *testing.T) {
	c := startCluster(t, 3, time.Hour)
	var mu sync.Mutex
	calls := 0
	c.sink.mu.Lock()
	c.sink.dataHook = func(int) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errTempFail
		}
		return nil
	}
	c.sink.mu.Unlock()
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"dave@remote.test"}, message("retry me"))
	waitUntil(t, 10*time.Second, "the failed attempt recorded", func() bool {
		q, err := l.Store.QueueEntry(id)
		return err == nil && q.GetAttempts() == 1
	})
	q, _ := l.Store.QueueEntry(id)
	if !strings.HasPrefix(q.GetLastReply(), "451") || q.GetNextAttemptUnix() <= q.GetLastAttemptUnix()-1 {
		t.Fatalf("after the 4xx: %v", q)
	}
	c.waitGone(id, 15*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || c.sink.countWith("retry-me@") != 1 {
		t.Fatalf("%d DATA attempts, %d accepted", calls, c.sink.countWith("retry-me@"))
	}
}

// A 5xx bounces that recipient only; the local sender gets a DSN in its
// INBOX, in the same commit as the Bounced event.
func TestPermanentFailureDSN(t *testing.T) {
	c := startCluster(t, 3, time.Hour)
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"dave@remote.test", "reject-carol@remote.test"}, message("bounce me"))
	c.waitGone(id, 15*time.Second)
	if c.sink.countWith("bounce-me@") != 1 {
		t.Fatalf("the good recipient: %d messages", c.sink.countWith("bounce-me@"))
	}
	for _, n := range c.Live() {
		waitUntil(t, 5*time.Second, "the DSN on "+n.ID, func() bool { return len(inbox(t, n, alice)) == 1 })
	}
	dsn := inbox(t, l, alice)[0]
	fields := checkDSN(t, dsn, "reject-carol@remote.test")
	if fields["Status"] != "5.1.1" || !strings.HasPrefix(fields["Diagnostic-Code"], "smtp; 550") {
		t.Fatalf("delivery-status fields: %v", fields)
	}
	if strings.Contains(string(dsn), "dave@remote.test>: failed") {
		t.Fatal("the delivered recipient is reported as failed")
	}
}

// checkDSN parses a DSN (RFC 3464 in RFC 6522 multipart/report) and
// returns the per-recipient fields of rcpt's block.
func checkDSN(t *testing.T, raw []byte, rcpt string) map[string]string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("DSN does not parse: %v\n%s", err, raw)
	}
	if msg.Header.Get("Return-Path") != "<>" {
		t.Errorf("Return-Path %q, want <> (null reverse-path)", msg.Header.Get("Return-Path"))
	}
	if !strings.HasPrefix(msg.Header.Get("From"), "Mail Delivery System <MAILER-DAEMON@"+domain) {
		t.Errorf("From %q", msg.Header.Get("From"))
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	fields := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("DSN part: %v", err)
		}
		ct := p.Header.Get("Content-Type")
		types = append(types, strings.Split(ct, ";")[0])
		data, _ := io.ReadAll(p)
		if strings.HasPrefix(ct, "message/delivery-status") {
			blocks := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n\n")
			if !strings.Contains(blocks[0], "Reporting-MTA: dns; ") || !strings.Contains(blocks[0], "Arrival-Date: ") {
				t.Errorf("per-message fields: %q", blocks[0])
			}
			for _, b := range blocks[1:] {
				if !strings.Contains(b, "Final-Recipient: rfc822; "+rcpt) {
					continue
				}
				for _, line := range strings.Split(b, "\n") {
					if k, v, ok := strings.Cut(line, ": "); ok {
						fields[k] = v
					}
				}
			}
		}
	}
	if strings.Join(types, ",") != "text/plain,message/delivery-status,message/rfc822" {
		t.Fatalf("DSN parts %v", types)
	}
	if fields["Action"] != "failed" {
		t.Fatalf("no failed block for %s: %v", rcpt, fields)
	}
	return fields
}

// An entry still failing temporarily after its expiry bounces (4.4.7).
func TestExpiryBounces(t *testing.T) {
	c := startCluster(t, 3, time.Second)
	c.sink.mu.Lock()
	c.sink.rcptHook = func(string) error { return errTempFail }
	c.sink.mu.Unlock()
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"dave@remote.test"}, message("expire me"))
	c.waitGone(id, 20*time.Second)
	waitUntil(t, 5*time.Second, "the DSN", func() bool { return len(inbox(t, l, alice)) == 1 })
	fields := checkDSN(t, inbox(t, l, alice)[0], "dave@remote.test")
	if fields["Status"] != "4.4.7" || !strings.Contains(fields["Diagnostic-Code"], "451") {
		t.Fatalf("expiry fields: %v", fields)
	}
	if c.sink.count() != 0 {
		t.Fatal("message accepted by a sink that refuses it")
	}
}

// A bounce with an empty sender (a DSN itself) produces no DSN.
func TestNoBounceOfBounce(t *testing.T) {
	c := startCluster(t, 1, time.Hour)
	l := c.Leader(t)
	id := c.queue(l, "", []string{"reject-x@remote.test"}, message("null sender"))
	c.waitGone(id, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := len(inbox(t, l, alice)); n != 0 {
		t.Fatalf("%d messages in alice's INBOX", n)
	}
	if n, _ := l.Store.QueueLength(); n != 0 {
		t.Fatalf("a DSN to <> was queued: %d entries", n)
	}
}

// The leader dies while the smarthost holds the reply to the message: the
// new leader delivers it. The sink sees it once or, since the attempt was
// cut off after the data arrived, twice; never more.
func TestLeaderKilledMidAttempt(t *testing.T) {
	c := startCluster(t, 3, time.Hour)
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	c.sink.mu.Lock()
	c.sink.dataGate, c.sink.dataStarted = gate, started
	c.sink.mu.Unlock()
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"dave@remote.test"}, message("failover"))
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatal("no attempt started")
	}
	l.Kill()
	c.sink.mu.Lock()
	c.sink.dataGate, c.sink.dataStarted = nil, nil
	c.sink.mu.Unlock()
	close(gate) // the cut-off attempt's data is recorded too: a duplicate
	nl := c.Leader(t)
	if nl == l {
		t.Fatal("killed node still leads")
	}
	c.waitGone(id, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	n := c.sink.countWith("failover@")
	t.Logf("leader %s killed mid-attempt; new leader %s; sink has %d copies", l.ID, nl.ID, n)
	if n < 1 || n > 2 {
		t.Fatalf("sink got %d copies, want 1 or 2", n)
	}
	// The survivors agree.
	var digests [][32]byte
	for _, n := range c.Live() {
		waitUntil(t, 5*time.Second, "applied", func() bool { return n.Store.AppliedIndex() >= nl.Store.AppliedIndex() })
		_, d, err := n.Store.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if len(digests) == 2 && digests[0] != digests[1] {
		t.Fatal("survivors' digests differ")
	}
}

// RFC 3464 Action: delayed: a recipient still pending DelayWarning after
// queueing gets one delay DSN (NOTIFY absent counts as FAILURE,DELAY), in
// the proposal of the attempt that crossed the mark, and no more after
// it; a recipient with NOTIFY=FAILURE gets none.
func TestDelayDSN(t *testing.T) {
	c := startClusterWith(t, 1, time.Hour, newSink(t, "", nil, false), plainSmarthost,
		func(cfg *Config) { cfg.DelayWarning = 2 * time.Second })
	c.sink.mu.Lock()
	c.sink.dataHook = func(int) error { return errTempFail }
	c.sink.mu.Unlock()
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"dave@remote.test"}, message("slow road"))
	waitUntil(t, 15*time.Second, "four failed attempts", func() bool {
		q, err := l.Store.QueueEntry(id)
		return err == nil && q.GetAttempts() >= 4
	})
	var dsns [][]byte
	for _, m := range inbox(t, l, alice) {
		if bytes.Contains(m, []byte("Action: delayed")) {
			dsns = append(dsns, m)
		}
	}
	if len(dsns) != 1 {
		t.Fatalf("%d delay DSNs, want 1", len(dsns))
	}
	for _, want := range []string{"Subject: Delayed Mail (still being retried)", "Content-Type: text/rfc822-headers",
		"Final-Recipient: rfc822; dave@remote.test", "Status: 4.", "Will-Retry-Until: ", "Subject: slow road"} {
		if !bytes.Contains(dsns[0], []byte(want)) {
			t.Errorf("delay DSN lacks %q:\n%s", want, dsns[0])
		}
	}
	if bytes.Contains(dsns[0], []byte("Hello.")) {
		t.Error("a delay DSN returns the whole message; want its header only")
	}
	if _, err := l.Store.QueueEntry(id); err != nil {
		t.Fatalf("the entry is no longer queued: %v", err)
	}
}
