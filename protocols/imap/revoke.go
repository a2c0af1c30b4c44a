package imap

import (
	"errors"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// Revocation. A logged-in session is bound to the credentials it logged in
// with: the user's credential_index (the log index of the event that last
// set them, UserCreated or PasswordChanged) and password hash. When the
// change feed reports the user changed, on any node's write, the node
// re-reads the record; a session whose user is gone, or whose credentials
// moved, is told BYE and closed (RFC 9051 §7.1.5). A user deleted and
// created again has a new credential_index, so no old session survives it.

// errCredentialsChanged refuses a login whose credentials changed while it
// was being checked: the password may have been the old one.
var errCredentialsChanged = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable,
	Text: "Credentials changed during login, try again"}

// revokedText is the BYE a revoked session gets.
const revokedText = "Credentials changed or account removed; log in again"

// credential is the user a session logged in as and with what.
type credential struct {
	user string
	evlog.Credential
}

// guardedSession binds a session to its credentials at login. go-imap
// routes LOGIN and AUTHENTICATE PLAIN to Login; every other method is the
// session's own.
type guardedSession struct{ *session }

func (g guardedSession) Login(username, password string) error {
	// Read before the password is checked: a credential change committed
	// after this point has a larger index and is caught below.
	before := g.srv.cfg.Store.AppliedIndex()
	if err := g.session.Login(username, password); err != nil {
		return err
	}
	u, err := g.srv.cfg.Store.User(g.user)
	switch {
	case errors.Is(err, mailbox.ErrNotFound):
		g.log.Info("imap login refused: account removed during login")
		g.user = ""
		return errAuthFailed
	case err != nil:
		g.log.Warn("imap login: reading the account failed", "err", err)
		g.user = ""
		return errAuthTemporary
	case u.GetCredentialIndex() > before:
		g.log.Info("imap login refused: credentials changed during login")
		g.user = ""
		return errCredentialsChanged
	}
	g.cred.Store(&credential{user: g.user, Credential: u.Credential()})
	return nil
}

// revoker ends the sessions whose credentials changed; it reads the change
// feed on its own subscription.
type revoker struct {
	srv  *Server
	sub  *mailbox.Subscription
	done chan struct{}
}

func newRevoker(srv *Server) *revoker {
	r := &revoker{srv: srv, sub: srv.cfg.Store.Subscribe(""), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *revoker) close() {
	r.sub.Close()
	<-r.done
}

func (r *revoker) run() {
	defer close(r.done)
	for c := range r.sub.C {
		switch c.Kind {
		case mailbox.UserChanged:
			r.check(c.Address)
		case mailbox.Reset:
			r.check("") // changes were missed: check everyone
		}
	}
}

// check revokes the sessions of user (every user when empty) whose
// credentials are no longer the account's.
func (r *revoker) check(user string) {
	type bound struct {
		sess *session
		cred *credential
	}
	var list []bound
	r.srv.mu.Lock()
	for sess := range r.srv.sessions {
		if cr := sess.cred.Load(); cr != nil && (user == "" || cr.user == user) {
			list = append(list, bound{sess, cr})
		}
	}
	r.srv.mu.Unlock()
	for _, b := range list {
		u, err := r.srv.cfg.Store.User(b.cred.user)
		if err != nil && !errors.Is(err, mailbox.ErrNotFound) {
			r.srv.log.Warn("imap revocation check failed", "user", b.cred.user, "err", err)
			continue
		}
		if err == nil && u.Credential() == b.cred.Credential {
			continue
		}
		r.srv.log.Info("imap session revoked: credentials changed or account removed", "user", b.cred.user, "remote", b.sess.remote)
		b.sess.revoke()
	}
}

// revoke says BYE and closes the connection; the command in flight, if
// any, fails on the closed connection (its write, if it proposed one, is
// committed or not as with any dropped client).
func (s *session) revoke() {
	if s.cred.Swap(nil) == nil {
		return // revoked already
	}
	go func(conn *imapserver.Conn) {
		_ = conn.NetConn().SetWriteDeadline(time.Now().Add(time.Second))
		_ = conn.Bye(revokedText)
	}(s.conn)
}

var (
	_ imapserver.SessionIMAP4rev2   = guardedSession{}
	_ imapserver.SessionAppendLimit = guardedSession{}
)
