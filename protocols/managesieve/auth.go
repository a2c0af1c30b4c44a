package managesieve

import (
	"encoding/base64"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	authn "github.com/surat-mail/surat/protocols/login"
)

// authorize runs AUTHENTICATE and, with Config.Feed, binds a session that
// logged in to the account's credentials (revocation: a password change
// or a deletion through any node ends the session).
func (s *session) authorize(cmd command) bool {
	var before uint64
	if s.cfg.Feed != nil {
		// Read before the password is checked: a credential change
		// committed after this point has a larger index.
		before = s.cfg.Feed.AppliedIndex()
	}
	more := s.authenticate(cmd)
	if s.user == "" || s.cfg.Feed == nil {
		return more
	}
	if err := s.cfg.Login.Bind(s.user, before, func(b *authn.Binding) { s.cred.Store(b) }); err != nil {
		// The OK is already written; the session ends before its next
		// command.
		s.log.Info("managesieve session ended: credentials changed during login", "err", err)
		s.revoked.Store(true)
	}
	return more
}

// authenticate is AUTHENTICATE "PLAIN" [initial-response] (RFC 5804 §2.1,
// RFC 4616), offered only under TLS.
func (s *session) authenticate(cmd command) bool {
	if len(cmd.args) < 1 || len(cmd.args) > 2 {
		return s.badCommand("Syntax: AUTHENTICATE mechanism [initial-response]")
	}
	if s.user != "" {
		s.no("", "Already authenticated")
		return true
	}
	if !s.tls {
		// RFC 5804 §2.1 and §1.3 ENCRYPT-NEEDED: no mechanism is offered
		// before STARTTLS (PLAIN sends the password in the clear,
		// RFC 4616 §6).
		s.no("ENCRYPT-NEEDED", "Authentication requires TLS: use STARTTLS first")
		return true
	}
	if !strings.EqualFold(cmd.args[0].s, "PLAIN") {
		s.no("", "Unsupported authentication mechanism (PLAIN is)")
		return true
	}
	var resp string
	if len(cmd.args) == 2 {
		resp = cmd.args[1].s
	} else {
		// §2.1: an empty challenge, as a string; the client answers
		// with a string, or "*" to cancel.
		s.out = appendString(s.out[:0], nil)
		s.out = append(s.out, "\r\n"...)
		s.w.Write(s.out)
		if err := s.w.Flush(); err != nil {
			return false
		}
		_ = s.raw.SetReadDeadline(time.Now().Add(s.cfg.AuthTimeout))
		toks, err := readTokens(s.r, wireLimits{line: s.cfg.MaxLine, literal: uint64(s.cfg.MaxLine)})
		_ = s.raw.SetReadDeadline(time.Time{})
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
			s.bye("", "Idle for too long, closing")
			return false
		case errors.Is(err, errAbuse):
			s.bye("", "Line or literal far too long")
			return false
		case errors.Is(err, errLineLong), errors.Is(err, errSyntax), errors.Is(err, errTooManyArgs):
			return s.badCommand("Malformed SASL response")
		default:
			var big literalTooLarge
			if errors.As(err, &big) {
				return s.badCommand("SASL response too long")
			}
			return false
		}
		if len(toks) != 1 || toks[0].atom {
			return s.badCommand("Malformed SASL response")
		}
		resp = toks[0].s
		if resp == "*" { // §2.1: the client cancels
			s.no("", "Authentication cancelled")
			return true
		}
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		s.no("", "Malformed base64 in the SASL response")
		return true
	}
	// RFC 4616 §2; a malformed message, or acting as another user, is a
	// failure like any other.
	return s.login(authn.PlainCredentials(raw))
}

// login checks a password through the node's one login path
// (protocols/login) and answers with RFC 5804 §1.3 response codes.
func (s *session) login(name, password string) bool {
	if s.auth == nil {
		s.auth = s.cfg.Login.NewConn(s.ip, s.log)
	}
	// The command was read in full; a client gone while its password
	// waits (catch-up, a verification slot) gives its place up.
	stop := s.watchClient()
	o := s.auth.Login(s.ctx, name, password)
	stop()
	if o.Close {
		s.bye("", "Too many failed logins")
		return false
	}
	switch o.Result {
	case authn.OK:
	case authn.Temporary:
		s.no("TRYLATER", "Temporary authentication failure, try again later")
		return true
	case authn.Locked:
		s.no("TRYLATER", "Too many failed logins, try again in "+strconv.FormatInt(o.RetrySeconds(), 10)+" seconds")
		return true
	default:
		if o.Slowed > 0 {
			s.no("", "Authentication failed; too many failures, slowed down")
		} else {
			s.no("", "Authentication failed")
		}
		return true
	}
	s.user = o.User
	s.log = s.log.With("user", o.User)
	s.log.Info("managesieve login")
	s.ok("", "Logged in")
	return true
}

// unauthenticate is UNAUTHENTICATE (RFC 5804 §2.14.1): back to the
// non-authenticated state, TLS kept.
func (s *session) unauthenticate(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand("UNAUTHENTICATE takes no arguments")
	}
	if s.user == "" {
		s.no("", "Not authenticated")
		return true
	}
	s.cred.Store(nil)
	s.user = ""
	s.log = s.srv.log.With("remote", s.ip)
	s.ok("", "Unauthenticated")
	return true
}

// Binding is the credentials the session is bound to (login.Session).
func (s *session) Binding() *authn.Binding { return s.cred.Load() }

// Revoke ends the session if it is still bound to b (login.Session): now
// if it waits for a command, else after the current one.
func (s *session) Revoke(b *authn.Binding) {
	if !s.cred.CompareAndSwap(b, nil) {
		return
	}
	s.log.Info("managesieve session revoked: credentials changed or account removed")
	s.revoked.Store(true)
	s.closeIfIdle()
}

var _ authn.Session = (*session)(nil)
