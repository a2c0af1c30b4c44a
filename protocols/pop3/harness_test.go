package pop3

import (
	"bufio"
	"crypto/tls"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// These tests run real clusters (protocoltest: Raft + the Pebble
// projections) in this process on loopback and speak POP3 to real
// listeners over real TLS.

const (
	domain   = "example.test"
	password = "correct horse battery staple"
)

type testNode = protocoltest.Node

type testCluster struct{ *protocoltest.Cluster }

// startCluster starts a cluster of size nodes; it stops when the test
// ends.
func startCluster(t testing.TB, size int) *testCluster {
	t.Helper()
	return &testCluster{protocoltest.Start(t, protocoltest.Options{Size: size, Domain: domain, Hostname: "pop." + domain})}
}

// inbox lists the UIDs and flags of user's INBOX on n.
func inbox(t testing.TB, n *testNode, user string) (uids []uint32, flags [][]string) {
	t.Helper()
	for _, m := range n.Inbox(t, user) {
		uids = append(uids, m.UID)
		flags = append(flags, m.Flags)
	}
	return uids, flags
}

// expunge removes user's INBOX message uid as another session would.
func (c *testCluster) expunge(t testing.TB, n *testNode, user string, uid uint32) {
	t.Helper()
	mb, err := n.Store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	c.Submit(t, &evlog.Event{Kind: &evlog.Event_Expunged{Expunged: &evlog.Expunged{
		MailboxId: mb.GetId(), Uids: []*evlog.UidRange{{First: uid, Last: uid}}}}})
}

// shared is one single-node cluster for the tests that need no faults.
var shared = protocoltest.Shared{Options: protocoltest.Options{Domain: domain, Hostname: "pop." + domain}}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func sharedCluster(t testing.TB) *testCluster {
	t.Helper()
	return &testCluster{shared.Get(t)}
}

var isNotFound = protocoltest.IsNotFound

// serve starts a POP3 listener on node n with tweak applied to its Config.
func (c *testCluster) serve(t testing.TB, n *testNode, tweak func(*Config)) (*Server, string) {
	t.Helper()
	cfg := Config{
		Hostname: "pop." + domain, TLS: c.TLS, Store: n.Store, Proposer: n.Node,
		IsNotFound: isNotFound, Logger: protocoltest.Logger(), ProposeTimeout: 10 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, protocoltest.Serve(t, srv)
}

// client is a byte-exact POP3 client.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	return greet(t, protocoltest.Dial(t, addr, false))
}

func dialTLS(t testing.TB, addr string) *client {
	t.Helper()
	return greet(t, protocoltest.Dial(t, addr, true))
}

func greet(t testing.TB, conn net.Conn) *client {
	t.Helper()
	c := &client{t: t, conn: conn, r: bufio.NewReader(conn)}
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
	protocoltest.WaitFor(t, 10*time.Second, what, cond)
}

func tlsClient(conn net.Conn) *tls.Conn {
	return tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
}

func newReader(conn net.Conn) *bufio.Reader { return bufio.NewReader(conn) }
