package smtp

import (
	"bytes"
	"crypto/tls"
	"fmt"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/login"
)

// Replies of the login path and of the guessing limits (RCPT below).
var (
	// RFC 5321 §3.8: 421 closes; RFC 3463 X.7.0: security or policy.
	errTooManyAuthFailures = reply(421, 4, 7, 0, "Too many failed logins, closing connection")
	errBanned              = reply(421, 4, 7, 1, "Client address banned, closing connection")
	// Postfix's smtpd_hard_error_limit: too many unknown recipients in
	// one session, or from one client over many (address harvesting).
	errTooManyUnknownRecipients = reply(421, 4, 7, 0, "Too many unknown recipients, closing connection")
)

// maxUnknownRecipients closes a session after this many unknown local
// recipients, as Postfix's smtpd_hard_error_limit (default 20) does.
const maxUnknownRecipients = 20

// submissionSession is a session with AUTH (RFC 4954).
type submissionSession struct{ *session }

var _ gosmtp.AuthSession = (*submissionSession)(nil)

// AuthMechanisms lists PLAIN (RFC 4616) and LOGIN under TLS only: nothing
// is advertised on a cleartext connection (RFC 4954 §4, RFC 8314 §3).
func (s *submissionSession) AuthMechanisms() []string {
	if !s.tls {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth starts a SASL exchange. Before TLS every mechanism is refused with
// 538 5.7.11 (RFC 4954 §6) and no password is looked at.
func (s *submissionSession) Auth(mech string) (sasl.Server, error) {
	if !s.tls {
		s.log.Info("smtp AUTH refused before TLS", "mech", mech)
		return nil, errEncryptionRequired
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, username, password string) error {
			// RFC 4616 §2: an authorization identity other than the
			// authentication identity is not supported here; the
			// attempt still counts as a failure.
			if identity != "" && identity != username {
				return s.login("", "")
			}
			return s.login(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{authenticate: s.login}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// login checks a password through the node's one login path
// (protocols/login) and maps its outcome to RFC 4954's replies.
func (s *submissionSession) login(username, password string) error {
	// The session's context: a verification queued behind others ends
	// with the connection (protocols/login bounds them per node).
	o := s.loginConn().Login(s.ctx, username, password)
	if o.Close {
		// RFC 5321 §3.8: 421, then the server closes the connection.
		s.closeAfterReply()
		if o.Result == login.Banned {
			return errBanned
		}
		return errTooManyAuthFailures
	}
	switch o.Result {
	case login.OK:
		s.user = o.User
		s.log = s.log.With("user", o.User)
		return nil
	case login.Temporary:
		return errAuthTemporary // RFC 4954 §6: 454 4.7.0
	case login.Locked:
		return reply(454, 4, 7, 0, fmt.Sprintf("Too many failed logins, try again in %d seconds", o.RetrySeconds()))
	}
	if o.Slowed > 0 {
		// A hint for clients and operators: slowed, not locked out.
		return reply(535, 5, 7, 8, "Authentication credentials invalid; too many failures, slowed down")
	}
	return errAuthFailed
}

// loginConn is the session's view of the node's login path.
func (s *session) loginConn() *login.Conn {
	if s.auth == nil {
		s.auth = s.srv.cfg.Login.NewConn(s.remote, s.log.With("proto", "smtp"))
	}
	return s.auth
}

// checkGuessing refuses RCPTs from a client that has failed too often,
// here or anywhere on this node (protocols/ratelimit's client key): once
// a harvester is locked, a known address must not answer differently from
// an unknown one.
func (s *session) checkGuessing() error {
	wait, banned := s.loginConn().ClientLocked()
	switch {
	case banned:
		s.log.Info("smtp RCPT from a banned client")
		s.closeAfterReply()
		return errBanned
	case wait > 0:
		s.log.Debug("smtp RCPT refused: client locked", "retry_after", wait)
		s.closeAfterReply()
		return errTooManyUnknownRecipients
	}
	return nil
}

// unknownRecipient answers an unknown local recipient (RFC 5321 §4.2.2,
// 550 5.1.1) and counts it against the client; past the session's limit,
// 421 and close.
func (s *session) unknownRecipient() error {
	s.loginConn().ClientFailed()
	s.unknownRcpts++
	if s.unknownRcpts >= maxUnknownRecipients {
		s.closeAfterReply()
		return errTooManyUnknownRecipients
	}
	return errNoSuchUser
}

// closeAfterReply makes the session end once the reply under way is
// written: the read side is shut, so go-smtp's next read sees the end of
// the stream and closes the connection.
func (s *session) closeAfterReply() {
	c := s.conn.Conn()
	for c != nil {
		switch x := c.(type) {
		case interface{ CloseRead() error }:
			_ = x.CloseRead()
			return
		case *tls.Conn:
			c = x.NetConn()
		case *limitedConn:
			c = x.Conn
		default:
			return
		}
	}
}

// loginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login): "Username:", then "Password:"; go-sasl has
// only the client. A client may send the username as an initial response.
type loginServer struct {
	authenticate func(username, password string) error
	username     []byte
	step         int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step = 1
		if response != nil {
			l.username = bytes.Clone(response)
			l.step = 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.username = bytes.Clone(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.authenticate(string(l.username), string(response))
	}
	return nil, true, sasl.ErrUnexpectedClientResponse
}
