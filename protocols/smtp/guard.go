package smtp

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

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

// guardedBackend checks the HELO name before a session exists, and wraps
// sessions so that MAIL and RCPT paths are checked before they are used and
// a message still in Data is never reset under it.
type guardedBackend struct {
	b          gosmtp.Backend
	postmaster string // Config.Postmaster
	log        *slog.Logger
}

func (lb guardedBackend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	if len(c.Hostname()) > maxDomainLength {
		return nil, errHeloTooLong
	}
	sess, err := lb.b.NewSession(c)
	if err != nil {
		return nil, err
	}
	if as, ok := sess.(gosmtp.AuthSession); ok {
		return &guardedAuthSession{guardedSession{Session: sess, backend: lb}, as}, nil
	}
	return &guardedSession{Session: sess, backend: lb}, nil
}

// guardedSession serialises Data with the rest of the session. With BDAT
// (RFC 3030) go-smtp runs Data in a goroutine of its own while the
// connection goes on reading commands; an RSET, EHLO or a failed chunk then
// resets the session (after closing Data's reader with ErrDataReset) while
// Data may still be reading the transaction. Reset waits for that Data to
// return, which it does at once on the closed reader.
//
// go-smtp v0.25.1 has a race of its own there: after Data returns, its
// goroutine sends the result on the connection's dataResult channel,
// which the next BDAT replaces; an aborted chunk's late error could be
// taken as the next message's answer. That goroutine closes Data's pipe
// reader right after the send, so the next MAIL waits until the reader is
// closed (a read then gives io.ErrClosedPipe instead of the writer's error).
type guardedSession struct {
	gosmtp.Session
	backend guardedBackend
	mu      sync.Mutex
	inData  chan struct{}  // closed when the running Data returns; nil: none
	bdat    *io.PipeReader // the last BDAT transfer's reader, until go-smtp is done with it
}

func (s *guardedSession) Data(r io.Reader) error {
	done := make(chan struct{})
	pr, _ := r.(*io.PipeReader)
	s.mu.Lock()
	s.inData, s.bdat = done, pr
	s.mu.Unlock()
	defer close(done)
	return s.Session.Data(r)
}

// waitData waits for a running Data to return.
func (s *guardedSession) waitData() {
	s.mu.Lock()
	done := s.inData
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// bdatSettleTime bounds the wait for go-smtp's BDAT goroutine to finish
// after Data returned (normally microseconds).
const bdatSettleTime = time.Second

// waitBDAT waits until go-smtp's goroutine of the last BDAT transfer has
// closed its reader, so that it has delivered its result.
func (s *guardedSession) waitBDAT() {
	s.waitData()
	s.mu.Lock()
	pr := s.bdat
	s.bdat = nil
	s.mu.Unlock()
	if pr == nil {
		return
	}
	deadline := time.Now().Add(bdatSettleTime)
	for pause := 10 * time.Microsecond; time.Now().Before(deadline); pause = min(2*pause, 10*time.Millisecond) {
		if _, err := pr.Read(nil); errors.Is(err, io.ErrClosedPipe) {
			return
		}
		time.Sleep(pause)
	}
}

func (s *guardedSession) Reset() {
	s.waitData()
	s.Session.Reset()
}

func (s *guardedSession) Logout() error {
	s.waitData()
	return s.Session.Logout()
}

func (s *guardedSession) Mail(from string, opts *gosmtp.MailOptions) error {
	s.waitBDAT()
	if len(from)+2 > maxPathLength {
		return errPathTooLong
	}
	return s.Session.Mail(from, opts)
}

func (s *guardedSession) Rcpt(to string, opts *gosmtp.RcptOptions) error {
	if len(to)+2 > maxPathLength {
		return errPathTooLong
	}
	err := s.Session.Rcpt(to, opts)
	// RFC 5321 §4.5.1: postmaster@ of every local domain must be
	// accepted (the local part case-insensitively). Without a user or
	// alias of that name it goes to Config.Postmaster, as an alias map
	// entry "postmaster: root" does for Postfix. Only a local domain's
	// unknown user gets errNoSuchUser.
	target := s.backend.postmaster
	if err == errNoSuchUser && isPostmaster(to) && target != "" && !strings.EqualFold(to, target) {
		if perr := s.Session.Rcpt(target, opts); perr != nil {
			s.backend.log.Warn("smtp postmaster address has no mailbox: create it or set --postmaster",
				"rcpt", to, "postmaster", target, "err", perr)
			return err
		}
		return nil
	}
	if err == errNoSuchUser && isPostmaster(to) {
		s.backend.log.Warn("smtp postmaster address has no mailbox: create it or set --postmaster", "rcpt", to)
	}
	return err
}

func isPostmaster(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && strings.EqualFold(addr[:at], "postmaster")
}

// guardedAuthSession keeps submission's AUTH (go-smtp looks for
// AuthSession on the session it was given).
type guardedAuthSession struct {
	guardedSession
	auth gosmtp.AuthSession
}

func (s *guardedAuthSession) AuthMechanisms() []string { return s.auth.AuthMechanisms() }

func (s *guardedAuthSession) Auth(mech string) (sasl.Server, error) { return s.auth.Auth(mech) }

var (
	_ gosmtp.Session     = (*guardedSession)(nil)
	_ gosmtp.AuthSession = (*guardedAuthSession)(nil)
)
