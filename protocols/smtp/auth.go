package smtp

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/auth"
)

// authWaitLimit bounds a rate-limit wait, whatever the limiter says.
const authWaitLimit = 10 * time.Second

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
			// authentication identity is not supported here.
			if identity != "" && identity != username {
				return errAuthFailed
			}
			return s.login(username, password)
		}), nil
	case sasl.Login:
		return &loginServer{authenticate: s.login}, nil
	}
	return nil, gosmtp.ErrAuthUnknownMechanism
}

// login checks a password, slowed by earlier failures from this IP or for
// this account (protocols/ratelimit). The wait comes first, for right and
// wrong passwords alike, so its length leaks nothing.
func (s *submissionSession) login(username, password string) error {
	cfg := &s.srv.cfg
	addr, err := canonicalAddress(username)
	if err != nil {
		addr = username // still counted against the IP and the name tried
	}
	ipKey, userKey := "ip:"+s.remote, "user:"+addr
	ctx, cancel := context.WithTimeout(context.Background(), authWaitLimit)
	waited, werr := cfg.AuthLimiter.Wait(ctx, ipKey, userKey)
	cancel()
	if waited > 0 {
		s.log.Info("smtp login slowed", "user", addr, "delay", waited)
	}
	if werr != nil {
		return errAuthTemporary
	}
	ok, err := s.verify(addr, password)
	if err != nil {
		s.log.Warn("smtp login check failed", "user", addr, "err", err)
		return errAuthTemporary
	}
	if !ok {
		cfg.AuthLimiter.Fail(ipKey, userKey)
		s.log.Info("smtp login failed", "user", addr, "delayed", waited)
		if waited > 0 {
			// A hint for clients and operators: slowed, not locked out.
			return reply(535, 5, 7, 8, "Authentication credentials invalid; too many failures, slowed down")
		}
		return errAuthFailed
	}
	cfg.AuthLimiter.Reset(userKey)
	s.user = addr
	s.log = s.log.With("user", addr)
	s.log.Info("smtp login")
	return nil
}

// verify reports whether password is addr's. An unknown user costs a
// verification too, against a fixed hash, so that timing does not reveal
// which accounts exist.
func (s *submissionSession) verify(addr, password string) (bool, error) {
	cfg := &s.srv.cfg
	u, err := cfg.Directory.User(addr)
	if err != nil {
		if !cfg.IsNotFound(err) {
			return false, err
		}
		_, _ = cfg.VerifyPassword(dummyHash, password)
		return false, nil
	}
	ok, err := cfg.VerifyPassword(u.GetPasswordHash(), password)
	if errors.Is(err, auth.ErrUnsupportedHash) || errors.Is(err, auth.ErrMalformedHash) {
		return false, nil // an unusable stored hash never logs in
	}
	return ok, err
}

// dummyHash is a real argon2id hash (of a random password, with the
// default parameters), verified for unknown users.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$r/4B0hRSqCE6yYChrlbCyg$HcDRkIsO26Qeey8S80qYghhbCLI5MAUUFJHPlUjKgTs"

func verifyPassword(hash, password string) (bool, error) { return auth.Verify(hash, password) }

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
