package imap

import (
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

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/cluster/clustertest"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// These tests run real clusters (Raft + the Pebble projections) in this
// process on loopback and speak IMAP to real listeners over real TLS, with
// go-imap's imapclient and with raw sockets.

const (
	domain   = "example.test"
	password = "correct horse battery staple"
)

type testNode struct {
	id    string
	node  *cluster.Node
	store *mailbox.Store
	dir   string
	cfg   cluster.Config
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

// startCluster starts size nodes in dir and waits until all are ready.
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
		cfg := cluster.Config{
			NodeID: id, DataDir: filepath.Join(dir, id, "raft"),
			RaftAddr:   fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			GossipAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Join:       join, Logger: testLogger().With("node", id),
			HeartbeatTimeout: time.Second, ElectionTimeout: time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond, ProposeTimeout: 5 * time.Second,
		}
		if i == 0 {
			cfg.BootstrapExpect = size
		}
		n := &testNode{id: id, dir: filepath.Join(dir, id), cfg: cfg}
		c.nodes = append(c.nodes, n)
		if err := n.start(); err != nil {
			c.stop()
			t.Fatal(err)
		}
	}
	c.waitReady(t)
	var err error
	if c.tls, err = tlsconf.Server(tlsconf.Options{DataDir: dir, Hostnames: []string{"imap." + domain}}); err != nil {
		t.Fatal(err)
	}
	c.submit(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: domain}}})
	return c
}

func (n *testNode) start() error {
	st, err := mailbox.Open(filepath.Join(n.dir, "state"), mailbox.Options{Logger: testLogger()})
	if err != nil {
		return err
	}
	cfg := n.cfg
	cfg.StateMachine = st
	node, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		st.Close()
		return err
	}
	n.node, n.store = node, st
	return nil
}

func (n *testNode) stop() {
	if n.node != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.node.Shutdown(ctx)
		cancel()
		n.node = nil
		n.store.Close()
	}
}

func (c *testCluster) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range c.nodes {
		for n.node != nil && !n.node.Ready() {
			if time.Now().After(deadline) {
				c.stop()
				t.Fatalf("node %s not ready within 60 s", n.id)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (c *testCluster) stop() {
	for _, n := range c.nodes {
		n.stop()
	}
}

func (c *testCluster) submit(t testing.TB, events ...*evlog.Event) *evlog.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, n := range c.nodes {
		if n.node == nil {
			continue
		}
		out, err := propose.Submit(ctx, n.node, events...)
		if err != nil {
			t.Fatalf("submit %s: %v", events[0].Name(), err)
		}
		return out
	}
	t.Fatal("no node running")
	return nil
}

var userSeq atomic.Int64

// newUser creates a fresh account (the shared cluster outlives a test) with
// a cheap argon2id hash.
func (c *testCluster) newUser(t testing.TB, prefix string) string {
	t.Helper()
	addr := fmt.Sprintf("%s%d@%s", prefix, userSeq.Add(1), domain)
	hash, err := auth.HashWith(auth.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password)
	if err != nil {
		t.Fatal(err)
	}
	c.submit(t, &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: addr, PasswordHash: hash, CreatedUnix: time.Now().Unix()}}})
	return addr
}

// deliver proposes a delivery of body to user's INBOX through node n.
func (c *testCluster) deliver(t testing.TB, n *testNode, user string, body []byte) {
	t.Helper()
	chunks := evlog.Chunks(body)
	last := chunks[len(chunks)-1]
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := propose.Submit(ctx, n.node,
		&evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: last}},
		&evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
			Blob: last.Hash, Size: last.Size, InternalDateUnix: time.Now().Unix(),
			Recipients: []*evlog.Recipient{{Address: user}},
		}}})
	if err != nil {
		t.Fatalf("deliver: %v", err)
	}
}

// serve starts an IMAP server on n with a STARTTLS and an implicit-TLS
// listener; it returns both addresses.
func (c *testCluster) serve(t testing.TB, n *testNode, tweak func(*Config)) (*Server, string, string) {
	t.Helper()
	cfg := Config{Hostname: "imap." + domain, TLS: c.tls, Store: n.store, Proposer: n.node,
		Logger: testLogger().With("node", n.id), ProposeTimeout: 10 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	implicit, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = srv.Serve(plain) }()
	go func() { defer wg.Done(); _ = srv.ServeTLS(implicit) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		wg.Wait()
	})
	return srv, plain.Addr().String(), implicit.Addr().String()
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
		shared.dir, shared.err = os.MkdirTemp("", "surat-imap-test-")
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

// sharedServer is the shared cluster with an IMAP server for this test.
func sharedServer(t *testing.T) (*testCluster, string) {
	c := sharedCluster(t)
	_, addr, _ := c.serve(t, c.nodes[0], nil)
	return c, addr
}

// updates collects a client's unilateral data.
type updates struct {
	mu       sync.Mutex
	exists   []uint32
	expunged []uint32
	flags    map[uint32][]imap.Flag // by UID (or seq when no UID)
	ch       chan struct{}
}

func (u *updates) notify() {
	select {
	case u.ch <- struct{}{}:
	default:
	}
}

func (u *updates) handler() *imapclient.UnilateralDataHandler {
	return &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) {
			u.mu.Lock()
			u.expunged = append(u.expunged, seq)
			u.mu.Unlock()
			u.notify()
		},
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				u.mu.Lock()
				u.exists = append(u.exists, *d.NumMessages)
				u.mu.Unlock()
				u.notify()
			}
		},
		Fetch: func(msg *imapclient.FetchMessageData) {
			buf, err := msg.Collect()
			if err != nil {
				return
			}
			key := uint32(buf.UID)
			if key == 0 {
				key = buf.SeqNum
			}
			u.mu.Lock()
			u.flags[key] = buf.Flags
			u.mu.Unlock()
			u.notify()
		},
	}
}

// wait polls cond until it holds or the timeout passes.
func (u *updates) wait(t testing.TB, timeout time.Duration, what string, cond func(u *updates) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		u.mu.Lock()
		ok := cond(u)
		u.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		select {
		case <-u.ch:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// dial connects with STARTTLS and logs in as user.
func dial(t testing.TB, addr, user string) (*imapclient.Client, *updates) {
	t.Helper()
	u := &updates{flags: map[uint32][]imap.Flag{}, ch: make(chan struct{}, 1)}
	cl, err := imapclient.DialStartTLS(addr, &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: true}, UnilateralDataHandler: u.handler(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if user != "" {
		if err := cl.Login(user, password).Wait(); err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
	}
	return cl, u
}

func mustSelect(t testing.TB, cl *imapclient.Client, name string) *imap.SelectData {
	t.Helper()
	d, err := cl.Select(name, nil).Wait()
	if err != nil {
		t.Fatalf("SELECT %s: %v", name, err)
	}
	return d
}

func msg(subject, body string) []byte {
	return []byte("From: <sender@remote.test>\r\nTo: <someone@example.test>\r\nSubject: " + subject +
		"\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") +
		"@remote.test>\r\nContent-Type: text/plain\r\n\r\n" + body + "\r\n")
}

func appendMsg(t testing.TB, cl *imapclient.Client, mailbox string, body []byte, flags ...imap.Flag) *imap.AppendData {
	t.Helper()
	cmd := cl.Append(mailbox, int64(len(body)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := cmd.Wait()
	if err != nil {
		t.Fatalf("APPEND %s: %v", mailbox, err)
	}
	return d
}

func fetchAll(t testing.TB, cl *imapclient.Client, set imap.NumSet, opts *imap.FetchOptions) []*imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := cl.Fetch(set, opts).Collect()
	if err != nil {
		t.Fatalf("FETCH: %v", err)
	}
	return msgs
}

func hasFlagList(flags []imap.Flag, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

func imapCode(err error) imap.ResponseCode {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return ie.Code
	}
	return ""
}
