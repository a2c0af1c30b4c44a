package pop3

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	authn "github.com/surat-mail/surat/protocols/login"
)

// cmdUser is USER (RFC 1939 §7), refused before TLS (RFC 2595 §4).
func (s *session) cmdUser(cmd command) bool {
	if !s.tls {
		s.reply(errTLSRequired)
		return true
	}
	if len(cmd.args) != 1 {
		return s.badCommand(errSyntax)
	}
	s.user = cmd.args[0] // parsed by the login path, with PASS
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
	// RFC 4616 §2; a malformed message, or acting as another user, is a
	// failure like any other.
	return s.login(authn.PlainCredentials(raw))
}

// errClientLocked replaces the greeting for a locked-out client (RFC 2449
// §8.1.2 response codes; RFC 1939 §4 lets a server refuse with -ERR).
const errClientLocked = "-ERR [SYS/TEMP] Too many failed logins from your address, try again later"

// login checks a password through the node's one login path
// (protocols/login) and answers with RFC 2449/3206 response codes. On
// success it opens the maildrop and enters TRANSACTION.
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
		s.reply(errTooManyFails)
		return false
	}
	switch o.Result {
	case authn.OK:
	case authn.Temporary:
		s.reply(errAuthTemporary)
		return true
	case authn.Locked:
		s.reply(fmt.Sprintf("-ERR [SYS/TEMP] Too many failed logins, try again in %d seconds", o.RetrySeconds()))
		return true
	default:
		if o.Slowed > 0 {
			s.reply(errAuthSlowed)
		} else {
			s.reply(errAuthFailed)
		}
		return true
	}
	addr := o.User
	md, err := loadMaildrop(s.cfg.Store, addr)
	if err != nil {
		s.log.Warn("pop3 maildrop not readable", "user", addr, "err", err)
		s.reply(errTemporary)
		return true
	}
	s.addr, s.md, s.state = addr, md, stateTransaction
	// POP3 serves the INBOX only (RFC 1939 §1): every line of the
	// session names it.
	s.log = s.log.With("user", addr, "mailbox", "INBOX")
	s.log.Info("pop3 login", "mailbox_id", md.mailboxID, "messages", md.count)
	s.reply("+OK Logged in, " + itoa(uint64(md.count)) + " messages (" + itoa(md.size) + " octets)")
	return true
}
