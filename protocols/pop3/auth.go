package pop3

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/auth"
)

// errUserNotYetKnown: the user is not in this node's projections, but the
// node has not applied the whole committed log yet.
var errUserNotYetKnown = errors.New("pop3: user not known yet: the node is catching up on the log")

// authWaitLimit bounds a rate-limit wait, whatever the limiter says.
const authWaitLimit = 10 * time.Second

// dummyHash is a real argon2id hash (of a random password, with the default
// parameters), verified for unknown users so that timing does not reveal
// which accounts exist.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$r/4B0hRSqCE6yYChrlbCyg$HcDRkIsO26Qeey8S80qYghhbCLI5MAUUFJHPlUjKgTs"

// canonicalAddress lower-cases a login name, as the store keys users.
func canonicalAddress(name string) string { return strings.ToLower(name) }

// cmdUser is USER (RFC 1939 §7), refused before TLS (RFC 2595 §4).
func (s *session) cmdUser(cmd command) bool {
	if !s.tls {
		s.reply(errTLSRequired)
		return true
	}
	if len(cmd.args) != 1 {
		return s.badCommand(errSyntax)
	}
	s.user = canonicalAddress(cmd.args[0])
	s.reply("+OK Send PASS")
	return true
}

// cmdPass is PASS (RFC 1939 §7). The password is the rest of the line: it
// may contain spaces.
func (s *session) cmdPass(cmd command) bool {
	if !s.tls {
		s.reply(errTLSRequired)
		return true
	}
	if s.user == "" {
		s.reply(errNeedUser)
		return true
	}
	if cmd.rest == "" {
		return s.badCommand(errSyntax)
	}
	user := s.user
	s.user = "" // RFC 1939 §7: after PASS fails, USER must come again
	return s.login(user, cmd.rest)
}

// cmdAuth is AUTH (RFC 5034) with the PLAIN mechanism (RFC 4616), with or
// without an initial response. AUTH alone lists the mechanisms, as many
// clients expect (not in RFC 5034; harmless).
func (s *session) cmdAuth(cmd command) bool {
	if !s.tls {
		s.reply(errTLSRequired)
		return true
	}
	if len(cmd.args) == 0 {
		s.reply("+OK")
		s.reply("PLAIN")
		s.reply(".")
		return true
	}
	if !strings.EqualFold(cmd.args[0], "PLAIN") {
		s.reply(errUnknownMech)
		return true
	}
	var resp string
	if len(cmd.args) == 2 {
		resp = cmd.args[1] // RFC 5034 §4: "=" is an empty initial response
	} else {
		// RFC 5034 §4: an empty challenge, "+ " and CRLF.
		s.reply("+ ")
		if err := s.w.Flush(); err != nil {
			return false
		}
		_ = s.raw.SetReadDeadline(time.Now().Add(s.cfg.AuthTimeout))
		line, err := readLine(s.r, s.cfg.MaxSASLLine)
		switch {
		case errors.Is(err, errLineLong):
			return s.badCommand(errLineTooLong)
		case err != nil:
			return false
		}
		resp = string(line)
		if resp == "*" { // RFC 5034 §4: the client cancels
			s.reply(errAuthCancelled)
			return true
		}
	}
	var raw []byte
	if resp != "=" {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(resp); err != nil {
			s.reply(errBadBase64)
			return true
		}
	}
	// RFC 4616 §2: [authzid] NUL authcid NUL passwd.
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return s.loginFailed("", 0)
	}
	authz, authc := canonicalAddress(string(parts[0])), canonicalAddress(string(parts[1]))
	if authz != "" && authz != authc {
		// Acting as another user is not supported (RFC 4616 §2).
		return s.loginFailed(authc, 0)
	}
	return s.login(authc, string(parts[2]))
}

// login checks a password, slowed by earlier failures from this IP or for
// this account (protocols/ratelimit, shared with SMTP and IMAP). The wait
// comes first, for right and wrong passwords alike, so its length leaks
// nothing. On success it opens the maildrop and enters TRANSACTION.
func (s *session) login(addr, password string) bool {
	cfg := s.cfg
	ipKey, userKey := "ip:"+s.ip, "user:"+addr
	ctx, cancel := context.WithTimeout(s.srv.ctx, authWaitLimit)
	waited, werr := cfg.AuthLimiter.Wait(ctx, ipKey, userKey)
	cancel()
	if waited > 0 {
		s.log.Info("pop3 login slowed", "user", addr, "delay", waited)
	}
	if werr != nil {
		s.reply(errAuthTemporary)
		return true
	}
	ok, err := s.verify(addr, password)
	if err != nil {
		s.log.Warn("pop3 login check failed", "user", addr, "err", err)
		s.reply(errAuthTemporary)
		return true
	}
	if !ok {
		cfg.AuthLimiter.Fail(ipKey, userKey)
		return s.loginFailed(addr, waited)
	}
	cfg.AuthLimiter.Reset(userKey)
	md, err := loadMaildrop(cfg.Store, addr)
	if err != nil {
		s.log.Warn("pop3 maildrop not readable", "user", addr, "err", err)
		s.reply(errTemporary)
		return true
	}
	s.addr, s.md, s.state = addr, md, stateTransaction
	s.log = s.log.With("user", addr)
	s.log.Info("pop3 login", "messages", md.count, "mailbox", md.mailboxID)
	s.reply("+OK Logged in, " + itoa(uint64(md.count)) + " messages (" + itoa(md.size) + " octets)")
	return true
}

// loginFailed answers a failed login and closes the session after too
// many.
func (s *session) loginFailed(addr string, waited time.Duration) bool {
	s.authFails++
	s.log.Info("pop3 login failed", "user", addr, "delayed", waited)
	if s.authFails >= s.cfg.MaxAuthFailures {
		s.reply(errTooManyFails)
		return false
	}
	if waited > 0 {
		s.reply(errAuthSlowed)
	} else {
		s.reply(errAuthFailed)
	}
	return true
}

// verify reports whether password is addr's. An unknown user costs a
// verification too.
func (s *session) verify(addr, password string) (bool, error) {
	u, err := s.cfg.Store.User(addr)
	if err != nil {
		if !s.cfg.IsNotFound(err) {
			return false, err
		}
		_, _ = s.cfg.VerifyPassword(dummyHash, password)
		if s.cfg.CaughtUp != nil && !s.cfg.CaughtUp() {
			return false, errUserNotYetKnown
		}
		return false, nil
	}
	ok, err := s.cfg.VerifyPassword(u.GetPasswordHash(), password)
	if errors.Is(err, auth.ErrUnsupportedHash) || errors.Is(err, auth.ErrMalformedHash) {
		return false, nil // an unusable stored hash never logs in
	}
	return ok, err
}
