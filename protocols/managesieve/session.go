package managesieve

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
	authn "github.com/surat-mail/surat/protocols/login"
)

const (
	readBufferSize  = 4 << 10
	writeBufferSize = 16 << 10
)

// session is one ManageSieve connection. Its fields are owned by its
// goroutine, except idle, revoked, cred and the close bookkeeping.
type session struct {
	srv   *Server
	cfg   *Config
	raw   net.Conn
	watch *clientwatch.Conn
	tcp   *frontend.WriteTimeoutConn
	r     *bufio.Reader
	w     *bufio.Writer
	out   []byte // a reply being built

	ip  string
	log *slog.Logger

	tls  bool
	user string      // the logged-in user ("" before AUTHENTICATE)
	auth *authn.Conn // this connection on the login path; made at first use
	bad  int         // malformed or unknown commands

	idle      atomic.Bool
	hard      atomic.Bool
	revoked   atomic.Bool
	cred      atomic.Pointer[authn.Binding]
	closeOnce sync.Once

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
			s.log.Error("managesieve session panic", "panic", p, "stack", string(debug.Stack()))
			s.hard.Store(true)
		}
	}()
	if wait, refuse := s.cfg.Login.RefuseAtConnect(s.ip); refuse {
		s.log.Debug("managesieve connection refused: client locked out", "retry_after", wait)
		s.bye("TRYLATER", "Too many failed logins from your address, try again later")
		return
	}
	s.log.Debug("managesieve session start")
	// RFC 5804 §1.7: the server greets with its capabilities and OK.
	s.capabilities()
	s.ok("", s.cfg.Hostname+" Surat ManageSieve ready")
	s.serve()
}

// serve is the command loop.
func (s *session) serve() {
	// A script's literal, and room for a name sent as a literal too.
	lim := wireLimits{line: s.cfg.MaxLine, literal: uint64(s.cfg.Limits.MaxScriptBytes) + uint64(s.cfg.MaxLine)}
	for {
		if err := s.w.Flush(); err != nil {
			return
		}
		s.idle.Store(true)
		if s.srv.fe.Closing() || s.revoked.Load() {
			return
		}
		timeout := s.cfg.AuthTimeout
		if s.user != "" {
			timeout = s.cfg.IdleTimeout
		}
		_ = s.raw.SetReadDeadline(time.Now().Add(timeout))
		for {
			cmd, err := readCommand(s.r, lim)
			s.idle.Store(false)
			_ = s.raw.SetReadDeadline(time.Time{})
			if !s.handle(cmd, err) || s.revoked.Load() {
				return
			}
			// Answer every command already received before flushing.
			if !frontend.LineBuffered(s.r) {
				break
			}
		}
	}
}

// handle answers one command (or its read error); false ends the session.
func (s *session) handle(cmd command, err error) bool {
	var ne net.Error
	var big literalTooLarge
	switch {
	case err == nil:
	case errors.As(err, &big):
		// RFC 5804 §2.6: a script too large for the server.
		s.no("QUOTA/MAXSIZE", "Script too large (at most "+strconv.FormatInt(s.cfg.Limits.MaxScriptBytes, 10)+" octets)")
		return true
	case errors.Is(err, errLineLong):
		return s.badCommand("Line too long")
	case errors.Is(err, errSyntax), errors.Is(err, errTooManyArgs):
		return s.badCommand("Syntax error")
	case errors.Is(err, errAbuse):
		s.bye("", "Line or literal far too long")
		return false
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		s.log.Info("managesieve autologout", "state", s.state())
		s.bye("", "Idle for too long, closing")
		return false
	default:
		return false
	}
	return s.dispatch(cmd)
}

// state names the session's state for logs.
func (s *session) state() string {
	if s.user != "" {
		return "authenticated"
	}
	return "non-authenticated"
}

// dispatch runs a command in the session's state (RFC 5804 §2).
func (s *session) dispatch(cmd command) bool {
	switch cmd.name {
	case "CAPABILITY": // §2.4
		if len(cmd.args) != 0 {
			return s.badCommand("CAPABILITY takes no arguments")
		}
		s.capabilities()
		s.ok("", "Capability completed")
		return true
	case "LOGOUT": // §2.3
		s.ok("", "Logout completed")
		return false
	case "NOOP": // §2.15
		return s.noop(cmd)
	case "STARTTLS": // §2.2
		return s.starttls(cmd)
	case "AUTHENTICATE": // §2.1
		return s.authorize(cmd)
	case "UNAUTHENTICATE": // §2.14.1
		return s.unauthenticate(cmd)
	case "PUTSCRIPT", "LISTSCRIPTS", "SETACTIVE", "GETSCRIPT", "DELETESCRIPT",
		"RENAMESCRIPT", "CHECKSCRIPT", "HAVESPACE":
		if s.user == "" {
			// These are valid only in the authenticated state (§2.5-§2.12).
			return s.badCommand(cmd.name + " is valid only after AUTHENTICATE")
		}
		return s.scriptCommand(cmd)
	}
	return s.badCommand("Unknown command")
}

// badCommand answers a malformed, unknown or misplaced command (RFC 5804
// §2: NO), and ends the session after too many of them.
func (s *session) badCommand(text string) bool {
	s.bad++
	if s.bad > s.cfg.MaxBadCommands {
		s.log.Info("managesieve too many bad commands")
		s.bye("", "Too many bad commands")
		return false
	}
	s.no("", text)
	return true
}

// noop is NOOP [tag] (RFC 5804 §2.15): the tag comes back in a TAG code.
func (s *session) noop(cmd command) bool {
	switch len(cmd.args) {
	case 0:
		s.ok("", "Done")
	case 1:
		s.out = append(s.out[:0], "OK (TAG "...)
		s.out = appendString(s.out, []byte(cmd.args[0].s))
		s.out = append(s.out, ") \"Done\"\r\n"...)
		s.w.Write(s.out)
	default:
		return s.badCommand("NOOP takes at most one argument")
	}
	return true
}

// capabilities writes the capability lines (RFC 5804 §1.7), as the
// greeting, CAPABILITY and the end of STARTTLS (§2.2) send them.
func (s *session) capabilities() {
	s.capLine("IMPLEMENTATION", "Surat")
	// §1.7: SASL lists the mechanisms usable now. PLAIN only under TLS
	// (RFC 4616 §6); before it the list is empty, which is allowed only
	// together with STARTTLS. After login there is nothing left to use.
	switch {
	case s.user != "":
	case s.tls:
		s.capLine("SASL", "PLAIN")
	default:
		s.capLine("SASL", "")
	}
	s.capLine("SIEVE", joinWords(s.cfg.Extensions))
	if !s.tls {
		s.capLine("STARTTLS", "") // §2.2: not after TLS is in force
	}
	if s.cfg.MaxRedirects > 0 {
		s.capLine("MAXREDIRECTS", strconv.Itoa(s.cfg.MaxRedirects))
	}
	for _, e := range s.cfg.Extensions {
		if e == "enotify" {
			s.capLine("NOTIFY", "mailto") // §1.7: only with enotify
		}
	}
	s.capLine("UNAUTHENTICATE", "") // §2.14.1
	s.capLine("VERSION", "1.0")     // §1.7: RFC 5804 itself
}

func (s *session) capLine(name, value string) {
	s.out = appendString(s.out[:0], []byte(name))
	if value != "" || name == "SASL" {
		s.out = append(s.out, ' ')
		s.out = appendString(s.out, []byte(value))
	}
	s.out = append(s.out, "\r\n"...)
	s.w.Write(s.out)
}

func joinWords(ws []string) string {
	var b []byte
	for i, w := range ws {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w...)
	}
	return string(b)
}

// starttls upgrades the connection (RFC 5804 §2.2), then re-issues the
// capabilities, now without STARTTLS and with SASL PLAIN.
func (s *session) starttls(cmd command) bool {
	if len(cmd.args) != 0 {
		return s.badCommand("STARTTLS takes no arguments")
	}
	if s.tls || s.user != "" {
		s.no("", "TLS is already active, or the session is authenticated")
		return true
	}
	s.ok("", "Begin TLS negotiation now")
	if err := s.w.Flush(); err != nil {
		return false
	}
	if n := s.r.Buffered(); n > 0 {
		// Plaintext pipelined after STARTTLS could be injected by a man in
		// the middle (CVE-2011-0411): it is dropped.
		s.log.Info("managesieve discarding plaintext pipelined after STARTTLS", "size", n)
	}
	tc := tls.Server(s.watch, s.cfg.TLS)
	_ = s.raw.SetDeadline(time.Now().Add(s.cfg.AuthTimeout))
	if err := tc.Handshake(); err != nil {
		s.log.Debug("managesieve TLS handshake failed", "err", err)
		s.hard.Store(true)
		return false
	}
	_ = s.raw.SetDeadline(time.Time{})
	s.setConn(tc)
	s.tls = true
	s.capabilities()
	s.ok("", "TLS negotiation successful")
	return true
}

// ok, no and bye write a final response: status, an optional response
// code in parentheses (RFC 5804 §1.3) and a human-readable string.
func (s *session) ok(code, text string)  { s.final("OK", code, text) }
func (s *session) no(code, text string)  { s.final("NO", code, text) }
func (s *session) bye(code, text string) { s.final("BYE", code, text) }

func (s *session) final(status, code, text string) {
	s.out = append(s.out[:0], status...)
	if code != "" {
		s.out = append(s.out, " ("...)
		s.out = append(s.out, code...)
		s.out = append(s.out, ')')
	}
	if text != "" {
		s.out = append(s.out, ' ')
		s.out = appendString(s.out, []byte(text))
	}
	s.out = append(s.out, "\r\n"...)
	s.w.Write(s.out)
}

// IP is the client's address (frontend.Session).
func (s *session) IP() string { return s.ip }

// Drain ends the session at Shutdown if it waits for a command; a command
// in flight finishes first (frontend.Session).
func (s *session) Drain() { s.closeIfIdle() }

// closeIfIdle closes the connection if the session waits for a command.
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

// finish flushes and closes the connection gracefully.
func (s *session) finish() {
	defer s.cancel()
	_ = s.w.Flush()
	s.closeOnce.Do(func() {
		if !s.hard.Load() {
			frontend.Linger(s.raw, s.tcp.Conn)
		}
		s.raw.Close()
	})
	s.log.Debug("managesieve session end")
}

// watchClient ends the session's context if the client goes away before
// the returned stop is called (a login or a commit waits meanwhile).
func (s *session) watchClient() (stop func()) { return s.watch.Watch(s.cancel) }
