package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/cluster/clustertest"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// These tests run real clusters (Raft + the Pebble projections) in this
// process on loopback and speak POP3 to real listeners over real TLS.

const (
	domain   = "example.test"
	password = "correct horse battery staple"
)

type testNode struct {
	node  *cluster.Node
	store *mailbox.Store
}

type testCluster struct {
	nodes []*testNode
	tls   *tls.Config
}

func testLogger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("SURAT_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// startCluster starts size nodes in dir and waits until every one is ready.
func startCluster(t testing.TB, dir string, size int) *testCluster {
	t.Helper()
	ports := clustertest.FreePorts(t, 2*size)
	c := &testCluster{}
	for i := range size {
		var join []string
		for j := range size {
			if j != i {
				join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[2*j+1]))
			}
		}
		id := fmt.Sprintf("n%d", i+1)
		st, err := mailbox.Open(filepath.Join(dir, id, "state"), mailbox.Options{Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		cfg := cluster.Config{
			NodeID: id, DataDir: filepath.Join(dir, id, "raft"),
			RaftAddr:   fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			GossipAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Join:       join, StateMachine: st, Logger: testLogger().With("node", id),
			// Generous under -race on two cores.
			HeartbeatTimeout: time.Second, ElectionTimeout: time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond, ProposeTimeout: 5 * time.Second,
		}
		if i == 0 {
			cfg.BootstrapExpect = size
		}
		n, err := cluster.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, &testNode{node: n, store: st})
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range c.nodes {
		for !n.node.Ready() {
			if time.Now().After(deadline) {
				c.stop()
				t.Fatalf("node %s not ready within 60 s", n.node.ID())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var err error
	if c.tls, err = tlsconf.Server(tlsconf.Options{DataDir: dir, Hostnames: []string{"pop." + domain}}); err != nil {
		t.Fatal(err)
	}
	c.submit(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: domain}}})
	return c
}

func (c *testCluster) stop() {
	for _, n := range c.nodes {
		c.stopNode(n)
	}
}

func (c *testCluster) stopNode(n *testNode) {
	if n.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.node.Shutdown(ctx)
		cancel()
		n.node = nil
		n.store.Close()
	}
}

func (c *testCluster) submit(t testing.TB, events ...*evlog.Event) *evlog.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var p propose.Proposer
	for _, n := range c.nodes {
		if n.node != nil {
			p = n.node
			break
		}
	}
	out, err := propose.Submit(ctx, p, events...)
	if err != nil {
		t.Fatalf("submit %s: %v", events[0].Name(), err)
	}
	return out
}

var addressSeq atomic.Int64

// newUser creates a fresh account (cheap argon2id parameters; they travel
// in the hash, so Verify runs the production code) and returns its address.
func (c *testCluster) newUser(t testing.TB, prefix string) string {
	t.Helper()
	addr := fmt.Sprintf("%s%d@%s", prefix, addressSeq.Add(1), domain)
	hash, err := auth.HashWith(auth.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password)
	if err != nil {
		t.Fatal(err)
	}
	c.submit(t, &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: addr, PasswordHash: hash, CreatedUnix: time.Now().Unix()}}})
	return addr
}

// deliver files bodies into user's INBOX, many per proposal.
func (c *testCluster) deliver(t testing.TB, user string, bodies ...[]byte) {
	t.Helper()
	const perBatch = 100
	for len(bodies) > 0 {
		n := min(len(bodies), perBatch)
		var events []*evlog.Event
		for _, b := range bodies[:n] {
			chunks := evlog.Chunks(b)
			if len(chunks) != 1 {
				t.Fatal("test bodies fit one chunk")
			}
			events = append(events,
				&evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: chunks[0]}},
				&evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
					Blob: chunks[0].Hash, Size: chunks[0].Size, InternalDateUnix: time.Now().Unix(),
					Recipients: []*evlog.Recipient{{Address: user}},
				}}})
		}
		c.submit(t, events...)
		bodies = bodies[n:]
	}
}

// inbox lists the UIDs and flags of user's INBOX on n.
func inbox(t testing.TB, n *testNode, user string) (uids []uint32, flags [][]string) {
	t.Helper()
	mb, err := n.store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatalf("INBOX of %s: %v", user, err)
	}
	err = n.store.Messages(mb.GetId(), func(uid uint32, m *evlog.MessageRecord) bool {
		uids = append(uids, uid)
		flags = append(flags, m.GetFlags())
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return uids, flags
}

// expunge removes user's INBOX message uid as another session would.
func (c *testCluster) expunge(t testing.TB, n *testNode, user string, uid uint32) {
	t.Helper()
	mb, err := n.store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	c.submit(t, &evlog.Event{Kind: &evlog.Event_Expunged{Expunged: &evlog.Expunged{
		MailboxId: mb.GetId(), Uids: []*evlog.UidRange{{First: uid, Last: uid}}}}})
}

// shared is one single-node cluster for the tests that need no faults.
var shared struct {
	once sync.Once
	c    *testCluster
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func sharedCluster(t testing.TB) *testCluster {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "surat-pop3-test-")
		if shared.err != nil {
			return
		}
		ok := false
		defer func() {
			if !ok && shared.err == nil {
				shared.err = errors.New("cluster did not start (see the first failure)")
			}
		}()
		shared.c = startCluster(t, shared.dir, 1)
		ok = true
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.c
}

func isNotFound(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }

// serve starts a POP3 listener on node n with tweak applied to its Config.
func (c *testCluster) serve(t testing.TB, n *testNode, tweak func(*Config)) (*Server, string) {
	t.Helper()
	cfg := Config{
		Hostname: "pop." + domain, TLS: c.tls, Store: n.store, Proposer: n.node,
		IsNotFound: isNotFound, Logger: testLogger(), ProposeTimeout: 10 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

// client is a byte-exact POP3 client.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { c.conn.Close() })
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("greeting: %q", l)
	}
	return c
}

func dialTLS(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { c.conn.Close() })
	if l := c.line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("greeting: %q", l)
	}
	return c
}

// login dials, upgrades with STLS and logs in with USER/PASS.
func login(t testing.TB, addr, user string) *client {
	t.Helper()
	c := dial(t, addr)
	c.stls()
	c.must("USER " + user)
	c.must("PASS " + password)
	return c
}

func (c *client) stls() {
	c.t.Helper()
	c.must("STLS")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
}

// line reads one response line without CRLF ("" and the error text
// prefixed "EOF:" when the server hung up).
func (c *client) line() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		return "EOF: " + err.Error()
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("response line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a command and returns its status line.
func (c *client) cmd(line string) string {
	c.t.Helper()
	c.send(line)
	return c.line()
}

func (c *client) must(line string) string {
	c.t.Helper()
	got := c.cmd(line)
	if !strings.HasPrefix(got, "+OK") && !strings.HasPrefix(got, "+ ") {
		c.t.Fatalf("%s: %q", line, got)
	}
	return got
}

// multi reads a multi-line body up to ".", undoing byte-stuffing.
func (c *client) multi() []string {
	c.t.Helper()
	var out []string
	for {
		l := c.line()
		if strings.HasPrefix(l, "EOF:") {
			c.t.Fatalf("multi-line response cut: %s", l)
		}
		if l == "." {
			return out
		}
		if strings.HasPrefix(l, ".") {
			l = l[1:]
		}
		out = append(out, l)
	}
}

// mustMulti sends a command that answers +OK and a multi-line body.
func (c *client) mustMulti(line string) (string, []string) {
	c.t.Helper()
	status := c.must(line)
	return status, c.multi()
}

// message is a small RFC 5322 message with CRLF line endings.
func message(subject string, bodyLines ...string) []byte {
	var b strings.Builder
	b.WriteString("From: <sender@remote.test>\r\nTo: <someone@example.test>\r\nSubject: " + subject + "\r\n\r\n")
	if len(bodyLines) == 0 {
		bodyLines = []string{"Hello."}
	}
	for _, l := range bodyLines {
		b.WriteString(l + "\r\n")
	}
	return []byte(b.String())
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tlsClient(conn net.Conn) *tls.Conn {
	return tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
}

func newReader(conn net.Conn) *bufio.Reader { return bufio.NewReader(conn) }
