package smtp

import (
	"context"
	"errors"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// Connection checks (Config.ConnChecks) judge the client itself, before
// its first transaction: a DNSBL listing (RFC 5782) refuses it whatever it
// sends. They are asked when the client greets, because go-smtp makes the
// session then (NewSession at EHLO or HELO); the greeting's 220 is sent
// before anything is known of the client but its address, and a refusal
// at EHLO is as final for the client as one in the greeting (RFC 5321
// §3.1, §4.1.1.1: without a session no MAIL is taken). Only on the MX
// port: submission clients authenticate, and are judged by who they are.

// DefaultConnCheckTimeout bounds the connection checks of one greeting.
const DefaultConnCheckTimeout = 10 * time.Second

// errConnChecksFailed answers a greeting whose checks could not decide:
// RFC 5321 §4.2.5 and RFC 3463 X.7.0, temporary, as a DNSBL look-up that
// timed out must neither refuse the client for good nor let it through
// unjudged. 451 rather than 421: the connection stays, so a client may
// greet again (and is asked again).
var errConnChecksFailed = reply(451, 4, 7, 0, "Client could not be checked now, try again later")

// checkConn asks the connection checks about the session's client, in
// order, and returns the reply refusing it, or nil. A client that passed
// once passes for the rest of its connection: after STARTTLS go-smtp
// makes a new session (RFC 3207 §4.2), for the same client.
func (s *session) checkConn() error {
	checks := s.srv.cfg.ConnChecks
	if len(checks) == 0 || s.srv.cfg.Kind != MX {
		return nil
	}
	lc := limitedConnOf(s.conn.Conn())
	if lc != nil && lc.clientPassed.Load() {
		return nil
	}
	client := pipeline.Client{RemoteIP: s.remote, Helo: s.conn.Hostname(), TLS: s.tls}
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.cfg.ConnCheckTimeout)
	defer cancel()
	for _, c := range checks {
		err := c.CheckConn(ctx, client)
		if err == nil {
			continue
		}
		se := connReply(err)
		if se.Code/100 == 5 {
			s.log.Info("smtp client refused by a connection check", "checks", c.Name(), "code", se.Code, "reason", se.Message)
		} else {
			s.log.Warn("smtp connection check failed; temporary", "checks", c.Name(), "code", se.Code, "err", err)
		}
		return se
	}
	if lc != nil {
		lc.clientPassed.Store(true)
	}
	return nil
}

// connReply is the reply for a connection check's refusal (its own
// *pipeline.Reply) or failure (temporary, errConnChecksFailed).
func connReply(err error) *gosmtp.SMTPError {
	var r *pipeline.Reply
	if errors.As(err, &r) && r.Code >= 400 && r.Code < 600 {
		return &gosmtp.SMTPError{Code: r.Code, EnhancedCode: gosmtp.EnhancedCode(r.Enhanced), Message: r.Text}
	}
	return errConnChecksFailed
}
