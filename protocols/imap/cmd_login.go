package imap

import (
	"bytes"
	"encoding/base64"

	"github.com/emersion/go-imap/v2"
)

// errPrivacyRequired refuses LOGIN and AUTHENTICATE before TLS (RFC 9051
// §6.2.3, RFC 8314 §3; RFC 5530 §3 PRIVACYREQUIRED).
var errPrivacyRequired = no(imap.ResponseCodePrivacyRequired, "TLS is required to authenticate")

// cmdLogin: LOGIN user password (RFC 9051 §6.2.3), through the node's one
// login path (session.Login, revoke.go's binding).
func cmdLogin(s *session, c *command) error {
	user, pass, err := c.dec.ReadLogin()
	if err != nil {
		return err
	}
	return s.authenticated(c, user, pass)
}

// authenticated logs in with user and pass and, on success, moves to the
// authenticated state with the capabilities in the OK (RFC 9051 §6.2.3).
func (s *session) authenticated(c *command, user, pass string) error {
	if !s.tls {
		return errPrivacyRequired
	}
	if err := s.loginBound(user, pass); err != nil {
		return err
	}
	s.state = stateAuthenticated
	c.code, c.text = s.capabilityCode(), "Logged in"
	return nil
}

// cmdAuthenticate: AUTHENTICATE PLAIN (RFC 9051 §6.2.2, RFC 4616), with an
// initial response (SASL-IR, RFC 4959) or after an empty challenge.
func cmdAuthenticate(s *session, c *command) error {
	mech, ir, hasIR, err := c.dec.ReadAuthenticate()
	if err != nil {
		return err
	}
	if mech != "PLAIN" {
		return no("", "Unsupported authentication mechanism")
	}
	if !s.tls {
		return errPrivacyRequired
	}
	if !hasIR {
		// An empty challenge; the response is one line (RFC 9051 §6.2.2).
		s.enc.Raw("+ \r\n")
		if err := s.flush(); err != nil {
			return err
		}
		line, err := c.dec.ReadLine()
		if err != nil {
			return err
		}
		if line == "*" {
			return bad("Authentication cancelled") // RFC 9051 §6.2.2
		}
		ir = line
	}
	resp, err := base64.StdEncoding.DecodeString(ir)
	if ir == "=" {
		resp, err = nil, nil
	}
	if err != nil {
		return bad("Invalid base64 in SASL response")
	}
	// RFC 4616 §2: [authzid] NUL authcid NUL passwd; an authzid must name
	// the user logging in.
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 || (len(parts[0]) > 0 && !bytes.Equal(parts[0], parts[1])) {
		return errAuthFailed
	}
	return s.authenticated(c, string(parts[1]), string(parts[2]))
}

// cmdUnauthenticate: UNAUTHENTICATE (RFC 8437): back to the not
// authenticated state, the mailbox closed and the credentials unbound.
func cmdUnauthenticate(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	s.unselect()
	s.stopNotify()
	s.cred.Store(nil)
	s.user = ""
	s.log = s.srv.log.With("remote", s.remote)
	s.resetEnabled() // RFC 8437 §3: as if the client had just connected
	s.state = stateNotAuthenticated
	return nil
}

// cmdStartTLS: STARTTLS (RFC 9051 §6.2.1): the OK, then the handshake.
func cmdStartTLS(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	if s.tls {
		return bad("TLS is already active")
	}
	c.text = "Begin TLS negotiation now"
	c.after = s.startTLS
	return nil
}
