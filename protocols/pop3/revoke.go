package pop3

import (
	"github.com/surat-mail/surat/mailbox"
	authn "github.com/surat-mail/surat/protocols/login"
)

// Revocation (protocols/login's Bind and WatchRevocations). A session in
// TRANSACTION is bound to the credentials it logged in with; when a
// password change or a deletion through any node moves them, the session
// is closed: at once when it waits for a command, else right after the
// command it is running, so that a QUIT's UPDATE is never cut off halfway
// (RFC 1939 §6). POP3 has no unsolicited reply to say why.

// Feed is what revocation needs from the store (*mailbox.Store has it).
type Feed interface {
	Subscribe(address string) *mailbox.Subscription
	// AppliedIndex is the last log index applied here.
	AppliedIndex() uint64
}

// credential is the user a session logged in as and with what.
type credential = authn.Binding

// authorize runs a command in AUTHORIZATION and, when it logged the
// session in, binds the session to the account's credentials.
func (s *session) authorize(cmd command) bool {
	if s.cfg.Feed == nil {
		return s.authorization(cmd)
	}
	// Read before the password is checked: a credential change committed
	// after this point has a larger index.
	before := s.cfg.Feed.AppliedIndex()
	more := s.authorization(cmd)
	if s.state != stateTransaction {
		return more
	}
	if err := s.cfg.Login.Bind(s.addr, before, func(b *credential) { s.cred.Store(b) }); err != nil {
		// Removed, unreadable or changed during the login: the password
		// may have been the old one. The +OK is already written; the
		// session ends before its next command.
		s.log.Info("pop3 session ended: credentials changed during login", "err", err)
		s.revoked.Store(true)
	}
	return more
}

// Binding is the credentials the session is bound to (login.Session).
func (s *session) Binding() *authn.Binding { return s.cred.Load() }

// Revoke ends the session if it is still bound to b (login.Session): now
// if it waits for a command, else after the current one (serve checks
// revoked).
func (s *session) Revoke(b *authn.Binding) {
	if !s.cred.CompareAndSwap(b, nil) {
		return
	}
	s.log.Info("pop3 session revoked: credentials changed or account removed")
	s.revoked.Store(true)
	s.closeIfIdle()
}

var _ authn.Session = (*session)(nil)
