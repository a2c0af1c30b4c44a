package pop3

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/auth"
	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// heldProposer holds proposals while hold is set, until release is
// closed: a QUIT's UPDATE can be caught in flight.
type heldProposer struct {
	propose.Proposer
	hold    atomic.Bool
	held    chan struct{} // a proposal is being held
	release chan struct{}
}

func (h *heldProposer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	if h.hold.Load() {
		h.held <- struct{}{}
		<-h.release
	}
	return h.Proposer.Propose(ctx, p)
}

func submitVia(t *testing.T, n *testNode, events ...*evlog.Event) {
	t.Helper()
	n.Submit(t, events...)
}

// expectClosed waits for the server to close the session.
func expectClosed(t *testing.T, c *client, within time.Duration) {
	t.Helper()
	start := time.Now()
	_ = c.conn.SetReadDeadline(time.Now().Add(within))
	l, err := c.r.ReadString('\n')
	if err == nil || time.Since(start) >= within {
		t.Fatalf("session not closed within %v: %q, %v", within, l, err)
	}
}

// TestRevocation: a password change or a deletion through another node
// closes the user's POP3 sessions on this one; a QUIT committing its
// UPDATE meanwhile finishes first; a user deleted and created again with
// the same hash keeps no old session.
func TestRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := startCluster(t, 3)
	a, b, other := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	user, bystander := c.NewUser(t, "revoke", password), c.NewUser(t, "bystander", password)
	c.Deliver(t, user, message("m1"), message("m2"), message("m3"))
	waitFor(t, "delivery on n1", func() bool { u, _ := inbox(t, a, user); return len(u) == 3 })
	held := &heldProposer{Proposer: a.Node, held: make(chan struct{}), release: make(chan struct{})}
	_, addr := c.serve(t, a, func(cfg *Config) { cfg.Feed = a.Store; cfg.Proposer = held })

	idle := login(t, addr, user)
	quitting := login(t, addr, user)
	by := login(t, addr, bystander)
	quitting.must("DELE 1")

	// QUIT's UPDATE is in flight when the password changes.
	held.hold.Store(true)
	quitting.send("QUIT")
	<-held.held
	held.hold.Store(false)
	newHash := protocoltest.Hash(t, "new password")
	start := time.Now()
	submitVia(t, b, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
		Address: user, PasswordHash: newHash}}})
	expectClosed(t, idle, 5*time.Second)
	t.Logf("password change through n2: idle session on n1 closed after %v", time.Since(start).Round(time.Millisecond))
	time.Sleep(100 * time.Millisecond) // the busy session must not be cut meanwhile
	close(held.release)
	if got := quitting.line(); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("QUIT in flight during the revocation: %q", got)
	}
	if u, _ := inbox(t, a, user); len(u) != 2 {
		t.Fatalf("after the QUIT: %d messages, want 2", len(u))
	}
	by.must("NOOP")

	// Old password refused, new one works; then delete and re-create
	// with the same hash, in one proposal through n3.
	fresh := dial(t, addr)
	fresh.stls()
	fresh.must("USER " + user)
	if got := fresh.cmd("PASS " + password); !strings.HasPrefix(got, "-ERR [AUTH]") {
		t.Fatalf("old password after the change: %q", got)
	}
	s := dial(t, addr)
	s.stls()
	s.must("USER " + user)
	s.must("PASS new password")
	submitVia(t, other,
		&evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: user}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: user, PasswordHash: newHash, CreatedUnix: 1}}})
	expectClosed(t, s, 5*time.Second)
	by.must("NOOP")
}

// TestLoginRacesPasswordChange: a password change committed while PASS
// checks the old password ends the session before its next command,
// instead of binding it to credentials already replaced.
func TestLoginRacesPasswordChange(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "race", password)
	c.Deliver(t, user, message("m1"))
	var changed bool
	_, addr := c.serve(t, n, func(cfg *Config) {
		cfg.Feed = n.Store
		cfg.Login = logintest.New(t, n.Store, authn.Config{Verify: func(hash, pw string) (bool, error) {
			ok, err := auth.Verify(hash, pw)
			if ok && !changed {
				changed = true
				submitVia(t, n, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
					Address: user, PasswordHash: hash}}}) // same hash: only the index moves
			}
			return ok, err
		}})
	})
	cl := login(t, addr, user)
	if got := cl.cmd("STAT"); !strings.HasPrefix(got, "EOF") {
		t.Fatalf("STAT after a login that raced a password change: %q", got)
	}
	cl = login(t, addr, user)
	cl.must("STAT")
}
