package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/protocols/protocoltest"
)

// These tests run real clusters (protocoltest: Raft + the Pebble
// projections) in this process on loopback and speak IMAP to real
// listeners over real TLS, with go-imap's imapclient and with raw sockets.

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
	return &testCluster{protocoltest.Start(t, protocoltest.Options{Size: size, Domain: domain, Hostname: "imap." + domain})}
}

// serve starts an IMAP server on n with a STARTTLS and an implicit-TLS
// listener; it returns both addresses.
func (c *testCluster) serve(t testing.TB, n *testNode, tweak func(*Config)) (*Server, string, string) {
	t.Helper()
	cfg := Config{Hostname: "imap." + domain, TLS: c.TLS, Store: n.Store, Proposer: n.Node,
		Logger: protocoltest.Logger().With("node", n.ID), ProposeTimeout: 10 * time.Second}
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
var shared = protocoltest.Shared{Options: protocoltest.Options{Domain: domain, Hostname: "imap." + domain}}

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func sharedCluster(t testing.TB) *testCluster {
	t.Helper()
	return &testCluster{shared.Get(t)}
}

// sharedServer is the shared cluster with an IMAP server for this test.
func sharedServer(t *testing.T) (*testCluster, string) {
	c := sharedCluster(t)
	_, addr, _ := c.serve(t, c.Nodes[0], nil)
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
