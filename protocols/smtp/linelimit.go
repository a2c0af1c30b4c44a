package smtp

import (
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// Line lengths. go-smtp applies one limit (Server.MaxLineLength) to every
// line it reads, command or message, and closes the connection past it
// with 500 5.4.0: a message with a line over 2,000 octets, which real mail
// has (HTML from careless generators), would then bounce for good at the
// sender. Surat sets that limit to the message size, so a message line is
// bounded only by --max-message-size, and is stored unchanged (not
// wrapped as Postfix's line_length_limit does: the bytes a DKIM signature
// covers stay intact). The command-line limits are enforced on what the
// commands carry instead: a path in MAIL or RCPT at most maxPathLength
// octets (RFC 5321 §4.5.3.1.3), a HELO/EHLO name at most maxDomainLength
// (§4.5.3.1.2); other commands' arguments are not used. A command line is
// thus bounded in memory by the message size, as a message is.
const (
	maxPathLength   = 256
	maxDomainLength = 255
)

var (
	// RFC 5321 §4.5.3.1.3, RFC 3463 X.5.4: invalid command arguments.
	errPathTooLong = reply(501, 5, 5, 4, "Path too long (RFC 5321 4.5.3.1.3: at most 256 octets)")
	// RFC 5321 §4.5.3.1.2.
	errHeloTooLong = reply(501, 5, 5, 4, "HELO/EHLO name too long (RFC 5321 4.5.3.1.2: at most 255 octets)")
)

// lineLength is go-smtp's MaxLineLength for a message size limit: the
// longest line is a message of one line, with its CRLF, plus a margin so
// that the size limit (552, counted after go-smtp's buffering) is always
// met first.
func lineLength(maxMessageSize int64) int {
	return int(maxMessageSize) + 64<<10
}

// limitedBackend checks the HELO name before a session exists, and wraps
// sessions so that MAIL and RCPT paths are checked before they are used.
type limitedBackend struct{ b gosmtp.Backend }

func (lb limitedBackend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	if len(c.Hostname()) > maxDomainLength {
		return nil, errHeloTooLong
	}
	sess, err := lb.b.NewSession(c)
	if err != nil {
		return nil, err
	}
	if as, ok := sess.(gosmtp.AuthSession); ok {
		return &limitedAuthSession{limitedSession{sess}, as}, nil
	}
	return &limitedSession{sess}, nil
}

type limitedSession struct{ gosmtp.Session }

func (s *limitedSession) Mail(from string, opts *gosmtp.MailOptions) error {
	if len(from)+2 > maxPathLength {
		return errPathTooLong
	}
	return s.Session.Mail(from, opts)
}

func (s *limitedSession) Rcpt(to string, opts *gosmtp.RcptOptions) error {
	if len(to)+2 > maxPathLength {
		return errPathTooLong
	}
	return s.Session.Rcpt(to, opts)
}

// limitedAuthSession keeps submission's AUTH (go-smtp looks for
// AuthSession on the session it was given).
type limitedAuthSession struct {
	limitedSession
	auth gosmtp.AuthSession
}

func (s *limitedAuthSession) AuthMechanisms() []string { return s.auth.AuthMechanisms() }

func (s *limitedAuthSession) Auth(mech string) (sasl.Server, error) { return s.auth.Auth(mech) }

var (
	_ gosmtp.Session     = (*limitedSession)(nil)
	_ gosmtp.AuthSession = (*limitedAuthSession)(nil)
)
