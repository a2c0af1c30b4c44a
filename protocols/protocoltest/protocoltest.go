// Package protocoltest is the in-process cluster the protocol front ends
// are tested against: N real members, each a cluster.Node (Raft, the
// node-to-node TLS port, gossip) over its own mailbox.Store (Pebble), on
// loopback with free ports, in a temporary directory, with a self-signed
// certificate for the listeners. Nodes can be stopped, killed and
// restarted on their data; users and deliveries are proposed through the
// cluster as a front end would. It is the one such fixture: the SMTP,
// IMAP, POP3 and outbound tests and mailbox's cluster-level tests use it,
// each keeping only its own protocol client.
//
// It lives under protocols/ because it composes cluster/ and mailbox/ the
// way cmd/surat does and speaks mail semantics (domains, users, INBOX),
// which cluster/ must not know (docs/DESIGN.md, Packages). For protocol
// logic that needs no replication, mailbox/mailboxtest's direct-apply
// store is cheaper. Only tests import this package.
package protocoltest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
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

// Options describe a cluster. The zero value is one node serving
// example.test.
type Options struct {
	// Size is the number of nodes (default 1); the first bootstraps.
	Size int
	// Domain is added once the cluster is up (default example.test).
	Domain string
	// Hostname is the name in the listeners' certificate (default
	// mx.Domain).
	Hostname string
	// Config, if set, adjusts node i's cluster configuration (0-based)
	// before its first start; the defaults suit -race on two cores.
	Config func(i int, cfg *cluster.Config)
	// Services, if set, starts what runs beside a node (an outbound
	// worker, say) each time the node starts, and returns how to stop it:
	// before the node's clean stop, after its kill.
	Services func(n *Node) (stop func(), err error)
	// Setup, if set, runs once the domain exists (users, aliases).
	Setup func(tb testing.TB, c *Cluster)
}

// Cluster is the running fixture.
type Cluster struct {
	Nodes  []*Node
	TLS    *tls.Config // the listeners' certificate, for Hostname
	Dir    string
	Domain string
	seq    atomic.Int64
}

// Node is one member. Node and Store are nil while it is stopped.
type Node struct {
	ID       string
	Node     *cluster.Node
	Store    *mailbox.Store
	Dir      string
	config   cluster.Config
	services func(*Node) (func(), error)
	stopSvc  func()
}

// Logger is the nodes' and servers' logger: errors only, everything with
// SURAT_TEST_LOG set.
func Logger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("SURAT_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// IsNotFound is the front ends' IsNotFound for a mailbox.Store.
func IsNotFound(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }

// Start starts a cluster, waits until every node is ready, adds the
// domain and runs Setup. It is stopped and its directory removed when the
// test ends.
func Start(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	c := launch(tb, opts)
	tb.Cleanup(c.Close)
	c.setup(tb, opts)
	return c
}

// launch starts the nodes; the caller closes the cluster.
func launch(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	if opts.Size <= 0 {
		opts.Size = 1
	}
	if opts.Domain == "" {
		opts.Domain = "example.test"
	}
	if opts.Hostname == "" {
		opts.Hostname = "mx." + opts.Domain
	}
	// Not tb.TempDir: the cluster may outlive the test (Shared), and a
	// node whose Raft shutdown hangs is abandoned with its files open.
	dir, err := os.MkdirTemp("", "surat-protocoltest-")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{Dir: dir, Domain: opts.Domain}
	ports := clustertest.FreePorts(tb, 2*opts.Size)
	for i := range opts.Size {
		var join []string
		for j := range opts.Size {
			if j != i {
				join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[2*j+1]))
			}
		}
		id := fmt.Sprintf("n%d", i+1)
		cfg := cluster.Config{
			NodeID: id, DataDir: filepath.Join(dir, id, "raft"),
			RaftAddr:   fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			GossipAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Join:       join, Logger: Logger().With("node", id),
			// Generous under -race on two cores.
			HeartbeatTimeout: time.Second, ElectionTimeout: time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond, ProposeTimeout: 5 * time.Second,
		}
		if i == 0 {
			cfg.BootstrapExpect = opts.Size
		}
		if opts.Config != nil {
			opts.Config(i, &cfg)
		}
		n := &Node{ID: id, Dir: filepath.Join(dir, id), config: cfg, services: opts.Services}
		c.Nodes = append(c.Nodes, n)
		if err := n.Start(); err != nil {
			c.Close()
			tb.Fatal(err)
		}
	}
	if err := c.waitReady(60 * time.Second); err != nil {
		c.Close()
		tb.Fatal(err)
	}
	if c.TLS, err = tlsconf.Server(tlsconf.Options{DataDir: dir, Hostnames: []string{opts.Hostname}}); err != nil {
		c.Close()
		tb.Fatal(err)
	}
	return c
}

func (c *Cluster) setup(tb testing.TB, opts Options) {
	tb.Helper()
	c.Submit(tb, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: c.Domain}}})
	if opts.Setup != nil {
		opts.Setup(tb, c)
	}
}

// Close stops every node and removes the cluster's directory.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Stop()
	}
	_ = os.RemoveAll(c.Dir)
}

// Start starts the node on its data: the first start or a restart.
func (n *Node) Start() error {
	st, err := mailbox.Open(filepath.Join(n.Dir, "state"), mailbox.Options{Logger: Logger()})
	if err != nil {
		return fmt.Errorf("protocoltest: open store of %s: %w", n.ID, err)
	}
	cfg := n.config
	cfg.StateMachine = st
	node, err := cluster.Start(context.Background(), cfg)
	if err != nil {
		st.Close()
		return fmt.Errorf("protocoltest: start %s: %w", n.ID, err)
	}
	n.Node, n.Store = node, st
	if n.services != nil {
		if n.stopSvc, err = n.services(n); err != nil {
			n.Kill()
			return fmt.Errorf("protocoltest: services of %s: %w", n.ID, err)
		}
	}
	return nil
}

// Running reports whether the node is started.
func (n *Node) Running() bool { return n.Node != nil }

// Stop stops the node cleanly (its services first, then Raft, handing
// over leadership); a stopped node is left alone.
func (n *Node) Stop() {
	if n.Node == nil {
		return
	}
	n.stopServices()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopped := make(chan struct{})
	go func(node *cluster.Node) {
		defer close(stopped)
		_ = node.Shutdown(ctx)
	}(n.Node)
	select {
	case <-stopped:
		n.Store.Close()
	case <-time.After(20 * time.Second):
		// hashicorp/raft v1.7.3 can block in Shutdown while a pipelined
		// AppendEntries waits on a peer that stopped reading; leave the
		// node (and its store) to the process end rather than hang.
	}
	n.Node, n.Store = nil, nil
}

// Kill stops the node abruptly: Raft stops without a hand-over, then its
// services are cut off.
func (n *Node) Kill() {
	if n.Node == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.Node.Shutdown(ctx) // canceled: no wait for a leadership transfer
	n.stopServices()
	n.Store.Close()
	n.Node, n.Store = nil, nil
}

func (n *Node) stopServices() {
	if n.stopSvc != nil {
		n.stopSvc()
		n.stopSvc = nil
	}
}

// WaitReady waits until every running node is ready.
func (c *Cluster) WaitReady(tb testing.TB) {
	tb.Helper()
	if err := c.waitReady(60 * time.Second); err != nil {
		tb.Fatal(err)
	}
}

func (c *Cluster) waitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, n := range c.Live() {
		for !n.Node.Ready() {
			if time.Now().After(deadline) {
				return fmt.Errorf("protocoltest: node %s not ready within %v", n.ID, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// Live returns the running nodes.
func (c *Cluster) Live() []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// Leader waits (20 s at most) until a running node leads, and returns it.
func (c *Cluster) Leader(tb testing.TB) *Node {
	tb.Helper()
	var l *Node
	WaitFor(tb, 20*time.Second, "a leader", func() bool {
		for _, n := range c.Live() {
			if n.Node.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

// Follower returns a running node that does not lead.
func (c *Cluster) Follower(tb testing.TB) *Node {
	tb.Helper()
	for _, n := range c.Live() {
		if !n.Node.IsLeader() {
			return n
		}
	}
	tb.Fatal("protocoltest: no running follower")
	return nil
}

// WaitConverged waits until every running node has applied the same index
// with the same digest (docs/DESIGN.md invariant 2); the same index with
// different digests fails the test at once.
func (c *Cluster) WaitConverged(tb testing.TB, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		live := c.Live()
		idx0, d0, err := live[0].Store.Digest()
		if err != nil {
			tb.Fatal(err)
		}
		same := true
		for _, n := range live[1:] {
			idx, d, err := n.Store.Digest()
			if err != nil {
				tb.Fatal(err)
			}
			if idx != idx0 {
				same = false
			} else if d != d0 {
				tb.Fatalf("protocoltest: %s and %s differ at applied index %d", live[0].ID, n.ID, idx)
			}
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("protocoltest: nodes did not converge within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Submit proposes events as one batch through the first running node and
// fails the test unless they commit.
func (c *Cluster) Submit(tb testing.TB, events ...*evlog.Event) *evlog.Outcome {
	tb.Helper()
	live := c.Live()
	if len(live) == 0 {
		tb.Fatal("protocoltest: no node running")
	}
	return live[0].Submit(tb, events...)
}

// Submit proposes events as one batch through this node and fails the
// test unless they commit.
func (n *Node) Submit(tb testing.TB, events ...*evlog.Event) *evlog.Outcome {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := propose.Submit(ctx, n.Node, events...)
	if err != nil {
		tb.Fatalf("submit %s through %s: %v", events[0].Name(), n.ID, err)
	}
	return out
}

// Hash is an argon2id hash of password with cheap parameters; they travel
// in the hash, so verifying it runs the production code.
func Hash(tb testing.TB, password string) string {
	tb.Helper()
	h, err := auth.HashWith(auth.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// CreateUser creates the account addr with password.
func (c *Cluster) CreateUser(tb testing.TB, addr, password string) {
	tb.Helper()
	c.Submit(tb, &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: addr, PasswordHash: Hash(tb, password), CreatedUnix: time.Now().Unix()}}})
}

// Address is a fresh address in the cluster's domain: a shared cluster
// outlives a test, and -count may run one again.
func (c *Cluster) Address(prefix string) string {
	return fmt.Sprintf("%s%d@%s", prefix, c.seq.Add(1), c.Domain)
}

// NewUser creates an account at a fresh address and returns the address.
func (c *Cluster) NewUser(tb testing.TB, prefix, password string) string {
	tb.Helper()
	addr := c.Address(prefix)
	c.CreateUser(tb, addr, password)
	return addr
}

// Deliver files bodies into user's INBOX through the first running node,
// up to 100 in one proposal. Each body must fit one chunk.
func (c *Cluster) Deliver(tb testing.TB, user string, bodies ...[]byte) {
	tb.Helper()
	live := c.Live()
	if len(live) == 0 {
		tb.Fatal("protocoltest: no node running")
	}
	live[0].Deliver(tb, user, bodies...)
}

// Deliver files bodies into user's INBOX through this node, up to 100 in
// one proposal. Each body must fit one chunk.
func (n *Node) Deliver(tb testing.TB, user string, bodies ...[]byte) {
	tb.Helper()
	const perBatch = 100
	for len(bodies) > 0 {
		k := min(len(bodies), perBatch)
		var events []*evlog.Event
		for _, b := range bodies[:k] {
			chunks := evlog.Chunks(b)
			if len(chunks) != 1 {
				tb.Fatal("protocoltest: Deliver takes bodies of one chunk")
			}
			events = append(events,
				&evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: chunks[0]}},
				&evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
					Blob: chunks[0].Hash, Size: chunks[0].Size, InternalDateUnix: time.Now().Unix(),
					Recipients: []*evlog.Recipient{{Address: user}},
				}}})
		}
		n.Submit(tb, events...)
		bodies = bodies[k:]
	}
}

// Message is one message of a mailbox as the node's store holds it.
type Message struct {
	UID   uint32
	Flags []string
	Body  []byte
}

// Inbox lists user's INBOX on this node, in UID order.
func (n *Node) Inbox(tb testing.TB, user string) []Message {
	tb.Helper()
	return n.Mailbox(tb, user, "INBOX")
}

// Mailbox lists user's mailbox name on this node, in UID order.
func (n *Node) Mailbox(tb testing.TB, user, name string) []Message {
	tb.Helper()
	mb, err := n.Store.MailboxByName(user, name)
	if err != nil {
		tb.Fatalf("%s of %s on %s: %v", name, user, n.ID, err)
	}
	var out []Message
	var readErr error
	err = n.Store.Messages(mb.GetId(), func(uid uint32, m *evlog.MessageRecord) bool {
		body, err := n.Store.Blob(m.GetBlob())
		if err != nil {
			readErr = err
			return false
		}
		out = append(out, Message{UID: uid, Flags: m.GetFlags(), Body: body})
		return true
	})
	if err = errors.Join(err, readErr); err != nil {
		tb.Fatalf("read %s of %s on %s: %v", name, user, n.ID, err)
	}
	return out
}

// Bodies lists the bodies in user's INBOX on this node, in UID order.
func (n *Node) Bodies(tb testing.TB, user string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, m := range n.Inbox(tb, user) {
		out = append(out, m.Body)
	}
	return out
}

// WaitFor polls cond until it holds, failing the test after within.
func WaitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Shared is one cluster for every test of a package that needs no
// faults: started on first use, closed by Close (from TestMain, after
// m.Run).
type Shared struct {
	Options Options
	once    sync.Once
	c       *Cluster
	failed  bool
}

// Get returns the shared cluster, starting it on first use; it fails the
// test if the cluster could not start.
func (s *Shared) Get(tb testing.TB) *Cluster {
	tb.Helper()
	s.once.Do(func() {
		s.failed = true // until it is up: a Fatal below ends this goroutine
		s.c = launch(tb, s.Options)
		s.c.setup(tb, s.Options)
		s.failed = false
	})
	if s.failed || s.c == nil {
		tb.Fatal("protocoltest: the shared cluster did not start (see the first failure)")
	}
	return s.c
}

// Close stops the shared cluster if it was started.
func (s *Shared) Close() {
	if s.c != nil {
		s.c.Close()
	}
}

// Server is a front end as a test runs it.
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// Serve runs srv on a fresh loopback listener until the test ends, then
// shuts it down; an error from Serve fails the test. It returns the
// listener's address.
func Serve(tb testing.TB, srv Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// Dial connects to addr, over TLS when implicit (the fixture's certificate
// is self-signed: not verified), and closes the connection when the test
// ends.
func Dial(tb testing.TB, addr string, implicit bool) net.Conn {
	tb.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	var conn net.Conn
	var err error
	if implicit {
		conn, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	} else {
		conn, err = d.Dial("tcp", addr)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}
