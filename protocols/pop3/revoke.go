package pop3

import (
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// Revocation. A session in TRANSACTION is bound to the credentials it
// logged in with: the user's credential_index (the log index of the event
// that last set them) and password hash. When the change feed reports the
// user changed, on any node's write, the server re-reads the record; a
// session whose user is gone or whose credentials moved is closed: at once
// when it waits for a command, else right after the command it is running,
// so that a QUIT's UPDATE is never cut off halfway (RFC 1939 §6). POP3 has
// no unsolicited reply to say why. A user deleted and created again has a
// new credential_index, so no old session survives it.

// Feed is what revocation needs from the store (*mailbox.Store has it).
type Feed interface {
	Subscribe(address string) *mailbox.Subscription
	// AppliedIndex is the last log index applied here.
	AppliedIndex() uint64
}

// credential is the user a session logged in as and with what.
type credential struct {
	user string
	evlog.Credential
}

// authorize runs a command in AUTHORIZATION and, when it logged the
// session in, binds the session to the account's credentials.
func (s *session) authorize(cmd command) bool {
	if s.cfg.Feed == nil {
		return s.authorization(cmd)
	}
	// Read before the password is checked: a credential change committed
	// after this point has a larger index and is caught below.
	before := s.cfg.Feed.AppliedIndex()
	more := s.authorization(cmd)
	if s.state != stateTransaction {
		return more
	}
	u, err := s.cfg.Store.User(s.addr)
	if err != nil || u.GetCredentialIndex() > before {
		// Removed, unreadable or changed during the login: the password
		// may have been the old one. The +OK is already written; the
		// session ends before its next command.
		s.log.Info("pop3 session ended: credentials changed during login", "err", err)
		s.revoked.Store(true)
		return more
	}
	s.cred.Store(&credential{user: s.addr, Credential: u.Credential()})
	return more
}

// revoke ends the session: now if it waits for a command, else after the
// current one (serve checks revoked).
func (s *session) revoke() {
	s.revoked.Store(true)
	s.closeIfIdle()
}

// watchRevocations ends sessions whose credentials changed, until the
// subscription closes.
func (s *Server) watchRevocations(sub *mailbox.Subscription) {
	defer close(s.revokerDone)
	for c := range sub.C {
		switch c.Kind {
		case mailbox.UserChanged:
			s.checkCredentials(c.Address)
		case mailbox.Reset:
			s.checkCredentials("") // changes were missed: check everyone
		}
	}
}

// checkCredentials revokes the sessions of user (every user when empty)
// whose credentials are no longer the account's.
func (s *Server) checkCredentials(user string) {
	for _, sess := range s.limits.Conns() {
		cr := sess.cred.Load()
		if cr == nil || (user != "" && cr.user != user) {
			continue
		}
		u, err := s.cfg.Store.User(cr.user)
		if err != nil && !s.cfg.IsNotFound(err) {
			s.log.Warn("pop3 revocation check failed", "user", cr.user, "err", err)
			continue
		}
		if err == nil && u.Credential() == cr.Credential {
			continue
		}
		if sess.cred.CompareAndSwap(cr, nil) {
			s.log.Info("pop3 session revoked: credentials changed or account removed", "user", cr.user, "remote", sess.ip)
			sess.revoke()
		}
	}
}
