package smtp

import (
	"github.com/surat-mail/surat/cluster/clustertest"

	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// These tests run real clusters (Raft + the Pebble projections) in this
// process on loopback and speak SMTP to real listeners over real TLS.

const (
	domain     = "example.test"
	alice      = "alice@example.test"
	bob        = "bob@example.test"
	alicePass  = "correct horse battery staple"
	bobPass    = "bob's own password"
	aliceAlias = "postmaster@example.test"
	sender     = "sender@remote.test"
)

// testNode is one cluster member with its store.
type testNode struct {
	node  *cluster.Node
	store *mailbox.Store
}

// testCluster is a cluster with alice and bob (and alice's alias) created.
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

// startCluster starts size nodes in dir, waits until every one is ready
// and creates the test users. The caller stops it with stop.
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
	if c.tls, err = tlsconf.Server(tlsconf.Options{DataDir: dir, Hostnames: []string{"mx." + domain}}); err != nil {
		t.Fatal(err)
	}
	c.mustSubmit(t, ev(&evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: domain}}))
	c.createUser(t, alice, alicePass)
	c.createUser(t, bob, bobPass)
	c.mustSubmit(t, ev(&evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: aliceAlias, Target: alice}}))
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

func ev(kind any) *evlog.Event {
	e := &evlog.Event{}
	switch k := kind.(type) {
	case *evlog.Event_DomainAdded:
		e.Kind = k
	case *evlog.Event_UserCreated:
		e.Kind = k
	case *evlog.Event_AliasAdded:
		e.Kind = k
	case *evlog.Event_QuotaSet:
		e.Kind = k
	case *evlog.Event_UserDeleted:
		e.Kind = k
	default:
		panic(fmt.Sprintf("ev: %T", kind))
	}
	return e
}

func (c *testCluster) mustSubmit(t testing.TB, events ...*evlog.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := propose.Submit(ctx, c.nodes[0].node, events...); err != nil {
		t.Fatalf("submit %s: %v", events[0].Name(), err)
	}
}

// createUser creates an account with a cheap argon2id hash (the parameters
// travel in the hash, so Verify runs the same code as in production).
func (c *testCluster) createUser(t testing.TB, addr, password string) {
	t.Helper()
	hash, err := auth.HashWith(auth.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password)
	if err != nil {
		t.Fatal(err)
	}
	c.mustSubmit(t, ev(&evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: addr, PasswordHash: hash, CreatedUnix: time.Now().Unix()}}))
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

// sharedCluster starts the shared single-node cluster on first use.
func sharedCluster(t *testing.T) *testCluster {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "surat-smtp-test-")
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

// serve starts a listener of kind on node n with cfg's tweaks applied.
func (c *testCluster) serve(t *testing.T, n *testNode, kind Kind, tweak func(*Config)) (*Server, string) {
	t.Helper()
	cfg := Config{
		Kind: kind, Hostname: "mx." + domain, TLS: c.tls,
		Directory: n.store, Proposer: n.node, IsNotFound: isNotFound,
		LocalDomains: []string{domain, "fresh.test"}, Logger: testLogger(),
		ProposeTimeout: 10 * time.Second,
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

// inbox lists the bodies in user's INBOX on n, in UID order.
func inbox(t *testing.T, n *testNode, user string) [][]byte {
	t.Helper()
	mb, err := n.store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatalf("INBOX of %s: %v", user, err)
	}
	var out [][]byte
	var readErr error
	err = n.store.Messages(mb.GetId(), func(_ uint32, m *evlog.MessageRecord) bool {
		body, err := n.store.Blob(m.GetBlob())
		if err != nil {
			readErr = err
			return false
		}
		out = append(out, body)
		return true
	})
	if err != nil || readErr != nil {
		t.Fatalf("read INBOX of %s: %v %v", user, err, readErr)
	}
	return out
}

// client is a byte-exact SMTP client.
type client struct {
	t    *testing.T
	conn net.Conn
	tp   *textproto.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, tp: textproto.NewConn(conn)}
	t.Cleanup(func() { conn.Close() })
	c.expect(220)
	return c
}

// dialTLS connects to an implicit-TLS listener.
func dialTLS(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, conn: conn, tp: textproto.NewConn(conn)}
	t.Cleanup(func() { conn.Close() })
	c.expect(220)
	return c
}

// read reads one reply; code 0 and the error text when the server hung up.
func (c *client) read() (int, string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		var perr textproto.ProtocolError
		if errors.As(err, &perr) || errors.Is(err, io.EOF) || isNetErr(err) {
			return 0, err.Error()
		}
		if code == 0 {
			return 0, err.Error()
		}
	}
	return code, msg
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

func (c *client) expect(code int) string {
	c.t.Helper()
	got, msg := c.read()
	if got != code {
		c.t.Fatalf("want %d, got %d %s", code, got, msg)
	}
	return msg
}

// cmd sends one command line and reads the reply.
func (c *client) cmd(format string, args ...any) (int, string) {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		return 0, err.Error()
	}
	return c.read()
}

func (c *client) must(code int, format string, args ...any) string {
	c.t.Helper()
	got, msg := c.cmd(format, args...)
	if got != code {
		c.t.Fatalf("%s: want %d, got %d %s", fmt.Sprintf(format, args...), code, got, msg)
	}
	return msg
}

// ehlo returns the EHLO keywords.
func (c *client) ehlo() []string {
	c.t.Helper()
	msg := c.must(250, "EHLO client.test")
	return strings.Split(msg, "\n")[1:]
}

func (c *client) starttls() {
	c.t.Helper()
	c.must(220, "STARTTLS")
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn = tc
	c.tp = textproto.NewConn(tc)
}

// hello is EHLO, STARTTLS, EHLO.
func (c *client) hello() []string {
	c.t.Helper()
	c.ehlo()
	c.starttls()
	return c.ehlo()
}

// data sends DATA and then raw bytes, followed by the end-of-data line.
func (c *client) data(raw []byte) (int, string) {
	c.t.Helper()
	c.must(354, "DATA")
	w := bufio.NewWriter(c.conn)
	w.Write(raw)
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		return 0, err.Error()
	}
	return c.read()
}

// message is a small RFC 5322 message with CRLF line endings.
func message(subject string) []byte {
	return []byte("From: <" + sender + ">\r\nTo: <" + alice + ">\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@remote.test>\r\n\r\nHello.\r\n")
}

// hasKeyword reports whether an EHLO keyword list has kw (case-insensitive
// on the keyword, exact on the rest).
func hasKeyword(keywords []string, kw string) bool {
	for _, k := range keywords {
		if strings.EqualFold(strings.TrimSpace(k), kw) || strings.HasPrefix(strings.ToUpper(k), strings.ToUpper(kw)+" ") {
			return true
		}
	}
	return false
}

// dialRaw connects without reading anything.
func dialRaw(addr string) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn, nil
}

func dialTLSRaw(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn
}

// readLine reads one CRLF-terminated line byte by byte.
func readLine(conn net.Conn) (string, error) {
	var b []byte
	one := make([]byte, 1)
	for {
		if _, err := conn.Read(one); err != nil {
			return string(b), err
		}
		b = append(b, one[0])
		if one[0] == '\n' {
			return strings.TrimRight(string(b), "\r\n"), nil
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var addressSeq atomic.Int64

// uniqueAddress is a fresh address in the test domain (the shared cluster
// outlives a test, and -count may run it again).
func uniqueAddress(prefix string) string {
	return fmt.Sprintf("%s%d@%s", prefix, addressSeq.Add(1), domain)
}
