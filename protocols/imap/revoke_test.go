package imap

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// rawSession is a logged-in IMAP connection read line by line, so that a
// test sees the server's BYE.
type rawSession struct {
	conn *tls.Conn
	r    *bufio.Reader
}

func rawLogin(t *testing.T, implicitAddr, user, pw string) *rawSession {
	t.Helper()
	conn, err := tls.Dial("tcp", implicitAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &rawSession{conn: conn, r: bufio.NewReader(conn)}
	if g := s.line(t); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}
	fmt.Fprintf(conn, "a LOGIN %q %q\r\n", user, pw)
	for {
		l := s.line(t)
		if strings.HasPrefix(l, "a ") {
			if !strings.HasPrefix(l, "a OK") {
				t.Fatalf("LOGIN %s: %q", user, l)
			}
			return s
		}
	}
}

func (s *rawSession) line(t *testing.T) string {
	t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := s.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (after %q)", err, l)
	}
	return strings.TrimRight(l, "\r\n")
}

// expectBye waits for the server's BYE and the close that follows.
func (s *rawSession) expectBye(t *testing.T, within time.Duration) {
	t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(within))
	l, err := s.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, "* BYE ") {
		t.Fatalf("want * BYE within %v, got %q, %v", within, l, err)
	}
	if _, err := s.r.ReadString('\n'); err == nil {
		t.Fatal("connection still open after BYE")
	}
}

// expectAlive checks that the session still answers.
func (s *rawSession) expectAlive(t *testing.T) {
	t.Helper()
	fmt.Fprintf(s.conn, "n NOOP\r\n")
	for {
		l := s.line(t)
		if strings.HasPrefix(l, "n ") {
			if !strings.HasPrefix(l, "n OK") {
				t.Fatalf("NOOP: %q", l)
			}
			return
		}
	}
}

func submitVia(t *testing.T, n *testNode, events ...*evlog.Event) {
	t.Helper()
	n.Submit(t, events...)
}

// TestRevocation: a password change or a deletion through another node
// ends the user's IMAP sessions on this one with BYE; other users' sessions
// and a quota change leave them alone; a user deleted and created again
// (even with the very same password hash) does not keep the old sessions,
// and logs in anew.
func TestRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster")
	}
	c := startCluster(t, 3)
	a, b, other := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	_, _, addrA := c.serve(t, a, nil)
	user, bystander := c.NewUser(t, "revoke", password), c.NewUser(t, "bystander", password)
	waitFor(t, func() bool { _, err := a.Store.User(bystander); return err == nil })

	s1 := rawLogin(t, addrA, user, password)
	s2 := rawLogin(t, addrA, user, password)
	by := rawLogin(t, addrA, bystander, password)

	submitVia(t, b, &evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: 1 << 20}}})
	time.Sleep(200 * time.Millisecond)
	s1.expectAlive(t)
	// s2 waits in IDLE (RFC 2177) when the change comes.
	fmt.Fprintf(s2.conn, "s SELECT INBOX\r\n")
	for l := s2.line(t); !strings.HasPrefix(l, "s "); l = s2.line(t) {
	}
	fmt.Fprintf(s2.conn, "i IDLE\r\n")
	if l := s2.line(t); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}

	newHash := protocoltest.Hash(t, "new password")
	start := time.Now()
	submitVia(t, b, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{Address: user, PasswordHash: newHash}}})
	s1.expectBye(t, 5*time.Second)
	s2.expectBye(t, 5*time.Second)
	t.Logf("password change through n2: sessions on n1 closed after %v", time.Since(start).Round(time.Millisecond))
	by.expectAlive(t)

	// The new password logs in; then the account is deleted and created
	// again with the same hash, in one proposal through n3.
	s3 := rawLogin(t, addrA, user, "new password")
	submitVia(t, other,
		&evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: user}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: user, PasswordHash: newHash, CreatedUnix: 1}}})
	s3.expectBye(t, 5*time.Second)
	rawLogin(t, addrA, user, "new password").expectAlive(t)

	// Deleted: gone, and no login.
	s4 := rawLogin(t, addrA, user, "new password")
	submitVia(t, b, &evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: user}}})
	s4.expectBye(t, 5*time.Second)
	by.expectAlive(t)
}

// TestIdleDropped: a client that drops its connection in IDLE (and so a
// revoked or shut-down session in IDLE) ends cleanly: go-imap calls Close
// without waiting for Idle, which must not release the mailbox under it
// (the race detector and the panic count tell).
func TestIdleDropped(t *testing.T) {
	c := sharedCluster(t)
	srv, _, addr := c.serve(t, c.Nodes[0], nil)
	user := c.NewUser(t, "idledrop", password)
	for range 20 {
		s := rawLogin(t, addr, user, password)
		fmt.Fprintf(s.conn, "s SELECT INBOX\r\n")
		for l := s.line(t); !strings.HasPrefix(l, "s "); l = s.line(t) {
		}
		fmt.Fprintf(s.conn, "i IDLE\r\n")
		if l := s.line(t); !strings.HasPrefix(l, "+ ") {
			t.Fatalf("IDLE: %q", l)
		}
		s.conn.Close()
	}
	waitFor(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.sessions) == 0
	})
	if n := srv.panics.Load(); n > 0 {
		t.Fatalf("%d panics recovered by go-imap", n)
	}
}

// TestLoginRacesPasswordChange: a password change committed while LOGIN
// checks the old password refuses the login ([UNAVAILABLE], try again)
// instead of binding a session to credentials already replaced.
func TestLoginRacesPasswordChange(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "race", password)
	var changed bool
	_, _, addr := c.serve(t, n, func(cfg *Config) {
		cfg.Login = logintest.New(t, n.Store, login.Config{Verify: func(hash, pw string) (bool, error) {
			ok, err := auth.Verify(hash, pw)
			if ok && !changed {
				changed = true // one login at a time in this test
				submitVia(t, n, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
					Address: user, PasswordHash: hash}}}) // same hash: only the index moves
			}
			return ok, err
		}})
	})
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := &rawSession{conn: conn, r: bufio.NewReader(conn)}
	s.line(t)
	fmt.Fprintf(conn, "a LOGIN %q %q\r\n", user, password)
	if l := s.line(t); !strings.HasPrefix(l, "a NO [UNAVAILABLE]") {
		t.Fatalf("LOGIN racing a password change: %q", l)
	}
	fmt.Fprintf(conn, "b LOGIN %q %q\r\n", user, password)
	if l := s.line(t); !strings.HasPrefix(l, "b OK") {
		t.Fatalf("LOGIN again: %q", l)
	}
}
