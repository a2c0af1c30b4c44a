package smtp

import (
	"crypto/tls"
	"net"
	"time"
)

// Bounds on one connection, MX and submission alike, so that a client
// cannot hold a session slot (Config.MaxSessions, MaxSessionsPerIP) for
// ever: the idle timeout bounds silence, these bound the rest.
const (
	// DefaultMaxSessionDuration: a session's whole length. Sending a
	// 25 MiB message takes under 30 minutes on a 128 kbit/s link, so only
	// a client trickling data to pin the slot meets it. The session then
	// ends with go-smtp's 421 4.4.2 (RFC 5321 §4.5.3.2: a server may end
	// a session that takes too long); an unfinished message was not
	// acknowledged, so the client keeps it and retries.
	DefaultMaxSessionDuration = 30 * time.Minute
	// DefaultMaxTransactions: MAIL commands per connection, as Exim's
	// smtp_accept_max_per_connection (same default). A sender with more
	// mail reconnects. The other commands go-smtp answers itself (NOOP,
	// VRFY, HELP) are bounded by the session's length, and its bad
	// commands by go-smtp's own limit of three errors.
	DefaultMaxTransactions = 1000
)

// readDeadline is the next read's deadline: the idle timeout from now,
// but never past the session's end (zero: none).
func readDeadline(now time.Time, idle time.Duration, ends time.Time) time.Time {
	d := ends
	if idle > 0 && (d.IsZero() || now.Add(idle).Before(d)) {
		d = now.Add(idle)
	}
	return d
}

// RFC 5321 §3.8: 421 and close, the one way a server ends a session
// itself; RFC 3463 X.7.0: a policy of this server.
var errTooManyTransactions = reply(421, 4, 7, 0, "Too many messages in one session, reconnect to send more")

// countTransaction counts a MAIL command against MaxTransactions; past it
// the reply is 421 and the connection closes once it is written.
func (s *session) countTransaction() error {
	limit := s.srv.cfg.MaxTransactions
	c := limitedConnOf(s.conn.Conn())
	if limit < 0 || c == nil {
		return nil
	}
	if n := c.transactions.Add(1); n > int64(limit) {
		s.log.Info("smtp session ended: too many transactions", "transactions", n-1, "limit", limit)
		c.closeAfterWrite.Store(true)
		return errTooManyTransactions
	}
	return nil
}

// limitedConnOf finds the limitedConn under a session's connection (under
// the TLS layer of STARTTLS or implicit TLS); nil when there is none.
func limitedConnOf(c net.Conn) *limitedConn {
	for {
		switch v := c.(type) {
		case *limitedConn:
			return v
		case *tls.Conn:
			c = v.NetConn()
		default:
			return nil
		}
	}
}
