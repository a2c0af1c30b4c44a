package smtp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// These tests run real clusters (protocoltest: Raft + the Pebble
// projections) in this process on loopback and speak SMTP to real
// listeners over real TLS.

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
type testNode = protocoltest.Node

// testCluster is a cluster with alice and bob (and alice's alias) created.
type testCluster struct{ *protocoltest.Cluster }

// startCluster starts a cluster of size nodes with the test users; it
// stops when the test ends.
func startCluster(t testing.TB, size int) *testCluster {
	t.Helper()
	return &testCluster{protocoltest.Start(t, clusterOptions(size))}
}

func clusterOptions(size int) protocoltest.Options {
	return protocoltest.Options{Size: size, Domain: domain, Setup: func(tb testing.TB, c *protocoltest.Cluster) {
		c.CreateUser(tb, alice, alicePass)
		c.CreateUser(tb, bob, bobPass)
		c.Submit(tb, ev(&evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: aliceAlias, Target: alice}}))
	}}
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
	c.Submit(t, events...)
}

// createUser creates an account with a cheap argon2id hash.
func (c *testCluster) createUser(t testing.TB, addr, password string) {
	t.Helper()
	c.CreateUser(t, addr, password)
}

// shared is one single-node cluster for the tests that need no faults.
var shared = protocoltest.Shared{Options: clusterOptions(1)}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// sharedCluster starts the shared single-node cluster on first use.
func sharedCluster(t *testing.T) *testCluster {
	t.Helper()
	return &testCluster{shared.Get(t)}
}

// serve starts a listener of kind on node n with cfg's tweaks applied.
func (c *testCluster) serve(t *testing.T, n *testNode, kind Kind, tweak func(*Config)) (*Server, string) {
	t.Helper()
	cfg := Config{
		Kind: kind, Hostname: "mx." + domain, TLS: c.TLS,
		Directory: n.Store, Proposer: n.Node, IsNotFound: protocoltest.IsNotFound,
		LocalDomains: []string{domain, "fresh.test"}, Logger: protocoltest.Logger(),
		ProposeTimeout: 10 * time.Second,
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

// inbox lists the bodies in user's INBOX on n, in UID order.
func inbox(t *testing.T, n *testNode, user string) [][]byte {
	t.Helper()
	return n.Bodies(t, user)
}

// client is a byte-exact SMTP client.
type client struct {
	t    *testing.T
	conn net.Conn
	tp   *textproto.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	return greet(t, protocoltest.Dial(t, addr, false))
}

// dialTLS connects to an implicit-TLS listener.
func dialTLS(t *testing.T, addr string) *client {
	t.Helper()
	return greet(t, protocoltest.Dial(t, addr, true))
}

func greet(t *testing.T, conn net.Conn) *client {
	t.Helper()
	c := &client{t: t, conn: conn, tp: textproto.NewConn(conn)}
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
	conn := protocoltest.Dial(t, addr, true)
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
	protocoltest.WaitFor(t, 5*time.Second, "condition", cond)
}

var addressSeq atomic.Int64

// uniqueAddress is a fresh address in the test domain (the shared cluster
// outlives a test, and -count may run it again).
func uniqueAddress(prefix string) string {
	return fmt.Sprintf("%s%d@%s", prefix, addressSeq.Add(1), domain)
}
