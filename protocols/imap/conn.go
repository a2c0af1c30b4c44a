package imap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/surat-mail/surat/protocols/frontend"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// Timeouts of a connection (RFC 9051 §5.4: an autologout timer of at least
// 30 minutes once logged in). Config.IdleTimeout lowers every read
// deadline (limitedConn caps them).
const (
	// preAuthIdle is how long a connection not logged in may stay silent.
	preAuthIdle = 30 * time.Second
	// authIdle is how long a logged-in connection may stay silent between
	// commands, and in IDLE.
	authIdle = 35 * time.Minute
	// commandRead bounds the reading of one command once its first byte
	// came, in-command literals included.
	commandRead = 30 * time.Second
	// literalRead bounds the reading of an APPEND message literal.
	literalRead = 5 * time.Minute
	// writeTimeout bounds every write: a client that stops reading is cut
	// off after it.
	writeTimeout = 5 * time.Minute
	// byeWrite bounds the BYE of a session ended by the server.
	byeWrite = time.Second
)

// Buffer sizes per connection. The writer is small (an idle connection
// keeps it); FETCH coalesces into bigger writes below it (limits.go).
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 4 << 10
)

// serve accepts connections on ln until the server closes (nil) or ln
// fails, each served by its own goroutine. It keeps its own sessions
// rather than run frontend.Server: the connection limits are taken on the
// raw connection below TLS (limitedListener), and Shutdown says BYE.
func (s *Server) serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	stopped := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.closed
	}
	return frontend.Accept(ln, "imap", stopped, func(conn net.Conn) {
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			s.serveConn(conn)
		}()
	})
}

// newSession makes the session of an accepted connection, registered with
// the server; nil when the server is closing.
func (s *Server) newSession(conn net.Conn) *session {
	sess := &session{srv: s, conn: conn, base: conn, remote: frontend.RemoteIP(conn.RemoteAddr()), state: stateNotAuthenticated}
	_, sess.tls = conn.(*tls.Conn)
	sess.ctx, sess.cancel = context.WithCancel(s.ctx)
	sess.log = s.log.With("remote", sess.remote)
	sess.br = bufio.NewReaderSize(conn, readBufferSize)
	sess.bw = bufio.NewWriterSize(deadlineWriter{sess}, writeBufferSize)
	sess.dec = wire.NewDecoder(sess.br, wire.Limits{})
	sess.dec.Continue = sess.continueLiteral
	sess.enc = wire.NewEncoder(sess.bw)
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.sessions[sess] = struct{}{}
	}
	s.mu.Unlock()
	if closed {
		sess.cancel()
		return nil
	}
	return sess
}

// serveConn serves one connection until it ends; a panic ends only this
// session (logged, BYE, closed).
func (s *Server) serveConn(conn net.Conn) {
	sess := s.newSession(conn)
	if sess == nil {
		_ = conn.SetWriteDeadline(time.Now().Add(byeWrite))
		_, _ = io.WriteString(conn, "* BYE Server shutting down\r\n")
		conn.Close()
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.panics.Add(1)
			sess.log.Error("imap session panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			sess.requestBye("Internal server error")
		}
		sess.close()
	}()
	if wait, refuse := s.cfg.Login.RefuseAtConnect(sess.remote); refuse {
		// RFC 9051 §7.1.5: BYE instead of a greeting.
		sess.log.Debug("imap connection refused: client locked out", "retry_after", wait)
		sess.requestBye("Too many failed logins from your address, try again later")
		return
	}
	sess.setReadDeadline(preAuthIdle)
	sess.writeGreeting()
	if err := sess.flush(); err != nil {
		return
	}
	for sess.state != stateLogout {
		if err := sess.serveCommand(); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
				sess.log.Debug("imap connection ended", "err", err)
			}
			return
		}
	}
}

// setReadDeadline sets the connection's read deadline d from now.
func (s *session) setReadDeadline(d time.Duration) {
	_ = s.conn.SetReadDeadline(time.Now().Add(d))
}

// flush sends what was written (compressed and sync-flushed under
// COMPRESS).
func (s *session) flush() error {
	if err := s.enc.Err(); err != nil {
		return err
	}
	if s.bw.Buffered() > 0 {
		if err := s.bw.Flush(); err != nil {
			return err
		}
	}
	if s.deflate != nil {
		return s.deflate.Flush()
	}
	return nil
}

// deadlineWriter writes to the session's connection, each write bounded
// by writeTimeout from its start (so a long FETCH is bounded by the
// client's silence, not its total time), or by byeWrite once a BYE is
// pending (a client that does not read cannot hold up its session's end).
type deadlineWriter struct{ s *session }

func (w deadlineWriter) Write(p []byte) (int, error) {
	d := writeTimeout
	if w.s.bye.Load() != nil {
		d = byeWrite
	}
	_ = w.s.conn.SetWriteDeadline(time.Now().Add(d))
	return w.s.conn.Write(p)
}

// continueLiteral is the decoder's Continue: the continuation request for
// a synchronising literal (RFC 9051 §7.5), sent at once.
func (s *session) continueLiteral(int64) error {
	s.enc.Continuation("Ready for literal data")
	return s.flush()
}

// requestBye ends the session with an untagged BYE (RFC 9051 §7.1.5): at
// once when it waits for a command or in IDLE, else once its command is
// answered. Safe from any goroutine (revocation, Shutdown).
func (s *session) requestBye(text string) {
	if !s.bye.CompareAndSwap(nil, &text) {
		return
	}
	// A read deadline in the past wakes the session's read, whether it
	// waits for a command, for IDLE's DONE or for a literal; writes are
	// bounded too, so a client that does not read cannot hold it.
	_ = s.base.SetReadDeadline(time.Unix(1, 0))
	_ = s.base.SetWriteDeadline(time.Now().Add(byeWrite))
}

// close ends the session: the pending BYE if any, the mailbox released,
// the connection closed (after the last reply was sent, frontend.Linger).
func (s *session) close() {
	defer func() {
		if v := recover(); v != nil {
			s.srv.panics.Add(1)
			s.log.Error("imap session panic while closing", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
		s.srv.forget(s)
		s.conn.Close()
	}()
	s.cancel()
	if text := s.bye.Load(); text != nil {
		s.enc.Status("*", "BYE", "", *text)
	}
	_ = s.flush()
	s.stopNotify()
	s.unselect()
	if s.state == stateLogout || s.bye.Load() != nil {
		frontend.Linger(s.raw(), s.conn)
	}
}

// raw is the connection under TLS, if any.
func (s *session) raw() net.Conn {
	if t, ok := s.conn.(*tls.Conn); ok {
		return t.NetConn()
	}
	return s.conn
}

// startTLS upgrades the connection after STARTTLS's OK was sent (RFC 9051
// §6.2.1). Bytes the client sent after the command (its ClientHello, if it
// did not wait) are the start of the TLS stream, never commands.
func (s *session) startTLS() error {
	var conn net.Conn = s.conn
	if n := s.br.Buffered(); n > 0 {
		ahead, _ := s.br.Peek(n)
		conn = &prefixConn{Conn: s.conn, r: io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), s.conn)}
	}
	tc := tls.Server(conn, s.srv.cfg.TLS)
	_ = tc.SetDeadline(time.Now().Add(commandRead))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return fmt.Errorf("imap: STARTTLS handshake: %w", err)
	}
	_ = tc.SetWriteDeadline(time.Time{})
	s.conn, s.tls = tc, true
	s.br.Reset(tc)
	return nil
}

// prefixConn reads r (bytes already read from Conn, then Conn) instead of
// Conn.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) { return c.r.Read(p) }
