package pop3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surat-mail/surat/protocols/clientwatch"
	"github.com/surat-mail/surat/protocols/frontend"
	"github.com/surat-mail/surat/protocols/propose"

	authn "github.com/surat-mail/surat/protocols/login"
)

// Buffer sizes: commands are short (255 octets); the writer is large
// enough that RETR of a typical message is one or two writes.
const (
	readBufferSize  = 1 << 10
	writeBufferSize = 32 << 10
	copyBufferSize  = 16 << 10
)

// dropFlushTimeout bounds the best-effort \Seen proposal of a session that
// ended without QUIT.
const dropFlushTimeout = 3 * time.Second

type state int

const (
	stateAuthorization state = iota // RFC 1939 §4
	stateTransaction                // RFC 1939 §5
)

// session is one POP3 connection. Its fields are owned by its goroutine,
// except idle and the close bookkeeping, which Shutdown uses.
type session struct {
	srv   *Server
	cfg   *Config
	raw   net.Conn          // the accepted TCP connection
	watch *clientwatch.Conn // raw, read ahead while a command waits
	tcp   *frontend.WriteTimeoutConn
	r     *bufio.Reader
	w     *bufio.Writer
	buf   []byte // body copy buffer, allocated at the first RETR or TOP

	ip  string
	log *slog.Logger

	tls   bool
	state state
	user  string // USER's argument, awaiting PASS
	addr  string // the logged-in user
	md    *maildrop
	bad   int         // unknown or malformed commands
	auth  *authn.Conn // this connection on the login path; made at first use
	quit  bool        // QUIT was received: no drop-flush

	idle      atomic.Bool // waiting for a command line
	hard      atomic.Bool // closed by the server: do not linger
	revoked   atomic.Bool // credentials changed: end before the next command (revoke.go)
	cred      atomic.Pointer[credential]
	closeOnce sync.Once

	// ctx ends with the session: when it finishes (QUIT, the connection
	// dropped or timed out), when its client goes away while a login or
	// a \Seen flush waits (watched meanwhile, protocols/clientwatch), or
	// when the server's context ends (Close, or Shutdown past its
	// deadline). Every wait of a command takes it.
	ctx    context.Context
	cancel context.CancelFunc
}

func newSession(srv *Server, conn net.Conn) *session {
	s := &session{srv: srv, cfg: &srv.cfg, raw: conn, watch: clientwatch.New(conn), ip: frontend.RemoteIP(conn.RemoteAddr())}
	s.ctx, s.cancel = context.WithCancel(srv.fe.Context())
	s.log = srv.log.With("remote", s.ip)
	s.setConn(s.watch)
	return s
}

func (s *session) setConn(c net.Conn) {
	s.tcp = &frontend.WriteTimeoutConn{Conn: c, WriteTimeout: s.cfg.WriteTimeout}
	s.r = bufio.NewReaderSize(s.tcp, readBufferSize)
	if s.w == nil {
		s.w = bufio.NewWriterSize(s.tcp, writeBufferSize)
	} else {
		s.w.Reset(s.tcp)
	}
}

// Run serves the connection until it ends; a panic ends only this session.
func (s *session) Run() {
	defer s.finish()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("pop3 session panic", "panic", p, "stack", string(debug.Stack()))
			s.hard.Store(true)
		}
	}()
	if s.cfg.ImplicitTLS {
		if !s.handshake() {
			return
		}
	}
	if wait, refuse := s.cfg.Login.RefuseAtConnect(s.ip); refuse {
		s.log.Debug("pop3 connection refused: client locked out", "retry_after", wait)
		s.reply(errClientLocked)
		_ = s.w.Flush()
		return
	}
	s.log.Debug("pop3 session start", "tls", s.tls)
	// RFC 1939 §4: the greeting. No APOP timestamp: APOP is not offered.
	s.reply("+OK " + s.cfg.Hostname + " Surat POP3 server ready")
	s.serve()
}

// serve is the command loop.
func (s *session) serve() {
	for {
		if err := s.w.Flush(); err != nil {
			return
		}
		if s.state == stateTransaction && !s.flushSeenIfDue() {
			return
		}
		s.idle.Store(true)
		if s.srv.fe.Closing() || s.revoked.Load() {
			return
		}
		timeout := s.cfg.AuthTimeout
		if s.state == stateTransaction {
			timeout = s.cfg.IdleTimeout // RFC 1939 §3: at least 10 minutes
		}
		_ = s.raw.SetReadDeadline(time.Now().Add(timeout))
		for {
			line, err := readLine(s.r, maxCommandLine)
			s.idle.Store(false)
			if !s.handleLine(line, err) || s.revoked.Load() {
				return
			}
			// RFC 2449 §6.6 PIPELINING: answer every command already
			// received before flushing.
			if !frontend.LineBuffered(s.r) {
				break
			}
		}
	}
}

// handleLine answers one line (or its read error); false ends the session.
func (s *session) handleLine(line []byte, err error) bool {
	var ne net.Error
	switch {
	case err == nil:
	case errors.Is(err, errLineLong):
		return s.badCommand(errLineTooLong)
	case errors.Is(err, errLineAbuse):
		s.reply(errLineTooLong)
		return false
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		// RFC 1939 §3 autologout: close without entering UPDATE.
		s.log.Info("pop3 autologout", "state", s.state)
		s.reply(errTimeout)
		return false
	default:
		return false
	}
	cmd, err := parseCommand(line)
	if err != nil {
		return s.badCommand(errUnknownCommand)
	}
	if s.state == stateAuthorization {
		return s.authorize(cmd)
	}
	return s.transaction(cmd)
}

// badCommand answers an unknown or malformed command and closes the
// session after too many of them.
func (s *session) badCommand(reply string) bool {
	s.bad++
	if s.bad > s.cfg.MaxBadCommands {
		s.log.Info("pop3 too many bad commands")
		s.reply(errTooManyBad)
		return false
	}
	s.reply(reply)
	return true
}

// authorization dispatches a command in the AUTHORIZATION state.
func (s *session) authorization(cmd command) bool {
	switch cmd.name {
	case "CAPA":
		return s.capa(cmd)
	case "STLS":
		return s.stls(cmd)
	case "USER":
		return s.cmdUser(cmd)
	case "PASS":
		return s.cmdPass(cmd)
	case "AUTH":
		return s.cmdAuth(cmd)
	case "QUIT":
		s.quit = true
		s.reply("+OK Bye")
		return false
	case "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "TOP", "UIDL":
		return s.badCommand(errWrongState)
	}
	return s.badCommand(errUnknownCommand)
}

// transaction dispatches a command in the TRANSACTION state (RFC 1939 §5).
func (s *session) transaction(cmd command) bool {
	switch cmd.name {
	case "CAPA":
		return s.capa(cmd)
	case "STAT":
		return s.stat(cmd)
	case "LIST":
		return s.list(cmd, false)
	case "UIDL":
		return s.list(cmd, true)
	case "RETR":
		return s.retr(cmd)
	case "TOP":
		return s.top(cmd)
	case "DELE":
		return s.dele(cmd)
	case "NOOP":
		if len(cmd.args) != 0 {
			return s.badCommand(errSyntax)
		}
		s.reply("+OK")
		return true
	case "RSET":
		return s.rset(cmd)
	case "QUIT":
		return s.update(cmd)
	case "USER", "PASS", "AUTH", "STLS":
		return s.badCommand(errWrongState)
	}
	return s.badCommand(errUnknownCommand)
}

// capa lists the capabilities served now (RFC 2449 §5); they depend on the
// state and on TLS.
func (s *session) capa(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand(errSyntax)
	}
	s.reply("+OK Capability list follows")
	s.reply("TOP")            // RFC 2449 §6.1
	s.reply("UIDL")           // RFC 2449 §6.3
	s.reply("RESP-CODES")     // RFC 2449 §6.4
	s.reply("AUTH-RESP-CODE") // RFC 3206 §6
	s.reply("PIPELINING")     // RFC 2449 §6.6
	if s.state == stateAuthorization {
		if !s.tls {
			s.reply("STLS") // RFC 2595 §4
		}
		// RFC 2449 §6.2: USER is served (under TLS; before it, refused
		// with [AUTH] until STLS, as docs/OPERATING.md lists it in CAPA).
		s.reply("USER")
		if s.tls {
			s.reply("SASL PLAIN") // RFC 5034 §3, RFC 2449 §6.3
		}
	}
	s.reply("IMPLEMENTATION Surat") // RFC 2449 §6.9
	s.reply(".")
	return true
}

// stls upgrades the connection (RFC 2595 §4).
func (s *session) stls(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand(errSyntax)
	}
	if s.tls {
		s.reply(errAlreadyTLS)
		return true
	}
	s.reply("+OK Begin TLS negotiation")
	if err := s.w.Flush(); err != nil {
		return false
	}
	if n := s.r.Buffered(); n > 0 {
		// Plaintext sent after STLS before the handshake could be injected
		// by a man in the middle (CVE-2011-0411): it is dropped.
		s.log.Info("pop3 discarding plaintext pipelined after STLS", "size", n)
	}
	return s.handshake()
}

// handshake runs the server side of TLS on the raw connection.
func (s *session) handshake() bool {
	tc := tls.Server(s.watch, s.cfg.TLS)
	_ = s.raw.SetDeadline(time.Now().Add(s.cfg.AuthTimeout))
	if err := tc.Handshake(); err != nil {
		s.log.Debug("pop3 TLS handshake failed", "err", err)
		return false
	}
	_ = s.raw.SetDeadline(time.Time{})
	s.setConn(tc)
	s.tls = true
	s.user = "" // RFC 2595 §4: start over under TLS
	return true
}

// reply buffers one response line.
func (s *session) reply(line string) {
	s.w.WriteString(line)
	s.w.WriteString("\r\n")
}

// IP is the client's address (frontend.Session).
func (s *session) IP() string { return s.ip }

// Drain starts the session's end at Shutdown (frontend.Session). Logins
// and \Seen flushes give up at once: nothing a client was told depends on
// them (pending \Seen changes are proposed once more as the session
// ends). A QUIT's UPDATE is bounded by the server's context and may finish
// until Shutdown's deadline.
func (s *session) Drain() {
	s.cancel()
	s.closeIfIdle()
}

// closeIfIdle closes the connection if the session is waiting for a
// command (Shutdown, revocation).
func (s *session) closeIfIdle() {
	if s.idle.Load() {
		s.Cut()
	}
}

// Discard ends the context of a session refused over the limits, which
// never runs (frontend.Session).
func (s *session) Discard() { s.cancel() }

// Cut cuts the connection at once (Shutdown past its deadline, Close).
func (s *session) Cut() {
	s.hard.Store(true)
	s.closeOnce.Do(func() { s.raw.Close() })
}

// finish flushes, proposes the pending \Seen changes of a session that
// ended without QUIT (best effort), and closes the connection gracefully.
func (s *session) finish() {
	defer s.cancel()
	_ = s.w.Flush()
	if !s.quit && s.md != nil && len(s.md.pendingSeen) > 0 {
		// The session is over but the client did receive these
		// messages: the flush is bounded by the server, not the session.
		ctx, cancel := context.WithTimeout(s.srv.fe.Context(), dropFlushTimeout)
		if err := s.proposeSeen(ctx); err != nil {
			s.log.Warn("pop3 \\Seen flush after dropped connection failed", "err", err, "messages", len(s.md.pendingSeen))
		}
		cancel()
	}
	s.closeOnce.Do(func() {
		if !s.hard.Load() {
			frontend.Linger(s.raw, s.tcp.Conn)
		}
		s.raw.Close()
	})
	s.log.Debug("pop3 session end")
}

// flushSeenIfDue proposes the pending \Seen changes when they are old or
// many (doc.go); false only if the connection is gone.
func (s *session) flushSeenIfDue() bool {
	md := s.md
	if len(md.pendingSeen) == 0 || (len(md.pendingSeen) < s.cfg.SeenFlushCount &&
		s.cfg.Now().Sub(md.firstSeen) < s.cfg.SeenFlushInterval) {
		return true
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProposeTimeout)
	defer cancel()
	// A client gone meanwhile ends the wait; finish proposes the changes
	// once more, bounded by the server.
	defer s.watchClient()()
	if err := s.proposeSeen(ctx); err != nil {
		// Kept pending: proposed again at the next flush or at QUIT
		// (ADD \Seen is idempotent).
		s.log.Warn("pop3 \\Seen flush failed", "err", err, "messages", len(md.pendingSeen))
		md.firstSeen = s.cfg.Now()
	}
	return true
}

// proposeSeen proposes every pending \Seen change and clears them.
func (s *session) proposeSeen(ctx context.Context) error {
	for _, b := range s.md.seenBatches() {
		if _, err := propose.Submit(ctx, s.cfg.Proposer, b...); err != nil {
			return err
		}
	}
	s.md.pendingSeen = nil
	return nil
}

// watchClient ends the session's context if the client goes away before
// the returned stop is called. Only for waits after a command was read in
// full (or between commands): nothing else may read the connection
// meanwhile. Data the client pipelined meanwhile stays for the next read.
func (s *session) watchClient() (stop func()) { return s.watch.Watch(s.cancel) }

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
