package imap

import (
	"errors"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/login"
)

// Revocation (protocols/login's Bind and WatchRevocations): a logged-in
// session is bound to the credentials it logged in with; when a password
// change or a deletion through any node moves them, the session is told
// BYE and closed (RFC 9051 §7.1.5).

// errCredentialsChanged refuses a login whose credentials changed while it
// was being checked: the password may have been the old one.
var errCredentialsChanged = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeUnavailable,
	Text: "Credentials changed during login, try again"}

// revokedText is the BYE a revoked session gets.
const revokedText = "Credentials changed or account removed; log in again"

// credential is the user a session logged in as and with what.
type credential = login.Binding

// loginBound checks a password (Login) and binds the session to the
// credentials it logged in with; LOGIN and AUTHENTICATE PLAIN come here.
func (s *session) loginBound(username, password string) error {
	g := s
	// Read before the password is checked: a credential change committed
	// after this point has a larger index.
	before := g.srv.cfg.Store.AppliedIndex()
	if err := g.Login(username, password); err != nil {
		return err
	}
	err := g.srv.cfg.Login.Bind(g.user, before, func(b *credential) { g.cred.Store(b) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, login.ErrAccountRemoved):
		g.log.Info("imap login refused: account removed during login")
		g.user = ""
		return errAuthFailed
	case errors.Is(err, login.ErrCredentialsChanged):
		g.log.Info("imap login refused: credentials changed during login")
		g.user = ""
		return errCredentialsChanged
	default:
		g.log.Warn("imap login: reading the account failed", "err", err)
		g.user = ""
		return errAuthTemporary
	}
}

// revoker ends the sessions whose credentials changed.
type revoker struct{ *login.Revocations }

func newRevoker(srv *Server) *revoker {
	return &revoker{login.WatchRevocations(srv.cfg.Login, srv.cfg.Store, srv.liveSessions, srv.log)}
}

func (r *revoker) close() { r.Close() }

// liveSessions lists the open sessions.
func (s *Server) liveSessions() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		list = append(list, sess)
	}
	return list
}

// Binding is the credentials the session is bound to (login.Session).
func (s *session) Binding() *login.Binding { return s.cred.Load() }

// Revoke says BYE and closes the connection if the session is still bound
// to b (login.Session): at once when it waits for a command or idles, else
// once the command in flight is answered (requestBye), whose writes are
// then bounded by a second.
func (s *session) Revoke(b *login.Binding) {
	if !s.cred.CompareAndSwap(b, nil) {
		return // revoked already, or bound anew
	}
	s.log.Info("imap session revoked: credentials changed or account removed")
	s.requestBye(revokedText)
}

var _ login.Session = (*session)(nil)
