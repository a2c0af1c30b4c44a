package smtp

import (
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// TestSubmissionRevocation: after a password change or a deletion through
// another node, an authenticated submission session's next command gets
// 421 4.7.0 and the connection closes; a user deleted and created again
// with the very same hash does not keep the session either.
func TestSubmissionRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster")
	}
	c := startCluster(t, 3)
	user := uniqueAddress("revoke")
	c.createUser(t, user, "old password")
	_, addr := c.serve(t, c.Nodes[0], Submission, nil)
	submitVia := func(i int, events ...*evlog.Event) {
		t.Helper()
		c.Nodes[i].Submit(t, events...)
	}
	expectRevoked := func(cl *client, cmd string) {
		t.Helper()
		if code, msg := cl.cmd("%s", cmd); code != 421 || !strings.HasPrefix(msg, "4.7.0") {
			t.Fatalf("%s after the change: %d %s, want 421 4.7.0", cmd, code, msg)
		}
		if code, msg := cl.read(); code != 0 {
			t.Fatalf("connection still open after 421: %d %s", code, msg)
		}
	}
	login := func(pw string) *client {
		cl := dial(t, addr)
		cl.hello()
		cl.must(235, "AUTH PLAIN %s", plain(user, pw))
		return cl
	}

	idle, inTx := login("old password"), login("old password")
	idle.must(250, "MAIL FROM:<%s>", user)
	idle.must(250, "RSET")
	inTx.must(250, "MAIL FROM:<%s>", user)

	hash := protocoltest.Hash(t, "new password")
	submitVia(1, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{Address: user, PasswordHash: hash}}})
	waitFor(t, func() bool {
		u, err := c.Nodes[0].Store.User(user)
		return err == nil && u.GetPasswordHash() == hash
	})
	expectRevoked(idle, "MAIL FROM:<"+user+">")
	expectRevoked(inTx, "RCPT TO:<"+user+">")

	cl := dial(t, addr)
	cl.hello()
	if code, _ := cl.cmd("AUTH PLAIN %s", plain(user, "old password")); code != 535 {
		t.Fatalf("old password after the change: %d", code)
	}
	cl = login("new password")
	cl.must(250, "MAIL FROM:<%s>", user)
	submitVia(2,
		&evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: user}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: user, PasswordHash: hash, CreatedUnix: 1}}})
	waitFor(t, func() bool {
		u, err := c.Nodes[0].Store.User(user)
		return err == nil && u.GetCreatedUnix() == 1
	})
	expectRevoked(cl, "RCPT TO:<"+user+">")

	// Revoked between RCPT and DATA: the message is read, refused with
	// 421 and stored nowhere.
	cl = login("new password")
	cl.must(250, "MAIL FROM:<%s>", user)
	cl.must(250, "RCPT TO:<%s>", user)
	submitVia(1, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{Address: user, PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"}}})
	waitFor(t, func() bool {
		u, err := c.Nodes[0].Store.User(user)
		return err == nil && u.GetPasswordHash() != hash
	})
	if code, msg := cl.data(message("after revocation")); code != 421 || !strings.HasPrefix(msg, "4.7.0") {
		t.Fatalf("DATA after the change: %d %s, want 421 4.7.0", code, msg)
	}
	if code, msg := cl.read(); code != 0 {
		t.Fatalf("connection still open after 421: %d %s", code, msg)
	}
	if got := inbox(t, c.Nodes[0], user); len(got) != 0 {
		t.Fatalf("revoked DATA stored %d messages", len(got))
	}
}

// TestAuthRacesPasswordChange: a password change committed while AUTH
// checks the old password refuses it with 454 4.7.0 (try again) instead
// of binding the session to credentials already replaced.
func TestAuthRacesPasswordChange(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("race")
	c.createUser(t, user, "pw")
	var changed bool
	_, addr := c.serve(t, n, Submission, func(cfg *Config) {
		cfg.Login = logintest.New(t, n.Store, login.Config{Verify: func(hash, pw string) (bool, error) {
			ok, err := auth.Verify(hash, pw)
			if ok && !changed {
				changed = true
				c.mustSubmit(t, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
					Address: user, PasswordHash: hash}}}) // same hash: only the index moves
			}
			return ok, err
		}})
	})
	cl := dial(t, addr)
	cl.hello()
	if code, msg := cl.cmd("AUTH PLAIN %s", plain(user, "pw")); code != 454 || !strings.HasPrefix(msg, "4.7.0") {
		t.Fatalf("AUTH racing a password change: %d %s", code, msg)
	}
	cl.must(530, "MAIL FROM:<%s>", user)
	cl.must(235, "AUTH PLAIN %s", plain(user, "pw"))
	cl.must(250, "MAIL FROM:<%s>", user)
}
