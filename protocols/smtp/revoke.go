package smtp

import (
	"fmt"
	"io"

	"github.com/emersion/go-sasl"

	evlog "github.com/surat-mail/surat/log"
)

// Revocation on submission. A session that authenticated is bound to the
// credentials it used: the user's credential_index (the log index of the
// event that last set them, UserCreated or PasswordChanged) and password
// hash. MAIL, RCPT and DATA re-read the account; when it is gone or its
// credentials moved (a password change or a deletion through any node),
// the command gets 421 4.7.0 and the connection closes (RFC 5321 §3.8).

// errRevoked ends a session whose credentials changed.
var errRevoked = reply(421, 4, 7, 0, "Credentials changed or account removed; closing connection")

// errCredentialsChanged refuses an AUTH during which the credentials
// changed: the password may have been the old one.
var errCredentialsChanged = reply(454, 4, 7, 0, "Credentials changed during authentication, try again")

// appliedIndexer is the store's applied index (*mailbox.Store has it);
// a Directory without it gets no revocation.
type appliedIndexer interface{ AppliedIndex() uint64 }

// credential is the user a session authenticated as and with what.
type credential struct {
	user string
	evlog.Credential
}

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
	u, err := b.s.srv.cfg.Directory.User(b.s.user)
	switch {
	case err != nil && !b.s.srv.cfg.IsNotFound(err):
		b.s.log.Warn("smtp AUTH: reading the account failed", "err", err)
		b.s.user = ""
		return nil, true, errAuthTemporary
	case err != nil, u.GetCredentialIndex() > b.before:
		b.s.log.Info("smtp AUTH refused: credentials changed during authentication")
		b.s.user = ""
		return nil, true, errCredentialsChanged
	}
	b.s.cred = &credential{user: b.s.user, Credential: u.Credential()}
	return challenge, done, nil
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
	u, err := s.srv.cfg.Directory.User(s.cred.user)
	if err != nil && !s.srv.cfg.IsNotFound(err) {
		s.log.Warn("smtp credentials check failed", "err", err)
		return errTemporary
	}
	if err == nil && u.Credential() == s.cred.Credential {
		return nil
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
