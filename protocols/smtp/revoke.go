package smtp

import (
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-sasl"

	"github.com/surat-mail/surat/protocols/login"
)

// Revocation on submission (protocols/login's Bind and Current). A
// session that authenticated is bound to the credentials it used. MAIL,
// RCPT and DATA check the binding; when the account is gone or its
// credentials moved (a password change or a deletion through any node),
// the command gets 421 4.7.0 and the connection closes (RFC 5321 §3.8).
// Submission sessions are short and check at every transaction command,
// so they need no watcher on the change feed as IMAP and POP3 have.

// errRevoked ends a session whose credentials changed.
var errRevoked = reply(421, 4, 7, 0, "Credentials changed or account removed; closing connection")

// errCredentialsChanged refuses an AUTH during which the credentials
// changed: the password may have been the old one.
var errCredentialsChanged = reply(454, 4, 7, 0, "Credentials changed during authentication, try again")

// appliedIndexer is the store's applied index (*mailbox.Store has it);
// a Directory without it gets no revocation.
type appliedIndexer interface{ AppliedIndex() uint64 }

// credential is the user a session authenticated as and with what.
type credential = login.Binding

// boundSession is a submission session whose AUTH exchanges bind it to
// the credentials they verified.
type boundSession struct{ *submissionSession }

// Auth starts the session's own SASL exchange, noting the applied index
// first: a credential change committed after it has a larger index.
func (b boundSession) Auth(mech string) (sasl.Server, error) {
	srv, err := b.submissionSession.Auth(mech)
	ai, ok := b.srv.cfg.Directory.(appliedIndexer)
	if err != nil || !ok {
		return srv, err
	}
	return &bindingSASL{inner: srv, s: b.session, before: ai.AppliedIndex()}, nil
}

// bindingSASL binds the session once the exchange it wraps succeeds.
type bindingSASL struct {
	inner  sasl.Server
	s      *session
	before uint64
}

func (b *bindingSASL) Next(response []byte) ([]byte, bool, error) {
	challenge, done, err := b.inner.Next(response)
	if !done || err != nil || b.s.user == "" {
		return challenge, done, err
	}
	err = b.s.srv.cfg.Login.Bind(b.s.user, b.before, func(c *credential) { b.s.cred = c })
	switch {
	case err == nil:
		return challenge, done, nil
	case errors.Is(err, login.ErrAccountRemoved), errors.Is(err, login.ErrCredentialsChanged):
		b.s.log.Info("smtp AUTH refused: credentials changed during authentication")
		b.s.user = ""
		return nil, true, errCredentialsChanged
	default:
		b.s.log.Warn("smtp AUTH: reading the account failed", "err", err)
		b.s.user = ""
		return nil, true, errAuthTemporary
	}
}

// checkCredentials returns errRevoked, after writing it and closing the
// connection, when the session's credentials are no longer the account's.
// go-smtp writes a backend's error as the reply but keeps the connection,
// so the 421 goes out here (go-smtp has flushed every earlier reply) and
// the connection is closed under it. In DATA, body is the message being
// received: it is read to its end first (go-smtp bounds it by the size
// limit), so that the 421 is the reply to it rather than lost to a reset.
func (s *session) checkCredentials(body io.Reader) error {
	if s.cred == nil {
		return nil
	}
	switch err := s.srv.cfg.Login.Current(s.cred); {
	case err == nil:
		return nil
	case !errors.Is(err, login.ErrRevoked):
		s.log.Warn("smtp credentials check failed", "err", err)
		return errTemporary
	}
	s.log.Info("smtp session revoked: credentials changed or account removed")
	s.cred, s.user = nil, ""
	if body != nil {
		_, _ = io.Copy(io.Discard, body)
	}
	e := errRevoked
	_, _ = fmt.Fprintf(s.conn.Conn(), "%d %d.%d.%d %s\r\n", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2], e.Message)
	_ = s.conn.Close()
	return errRevoked
}
