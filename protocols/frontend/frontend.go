// Package frontend is the accept side of a protocol server that runs its
// own sessions (POP3, ManageSieve): it tracks the listeners given to
// Serve, accepts with a back-off on temporary errors, admits each
// connection within the server's session limits (protocols/connlimit),
// refuses the rest with the protocol's own line without holding up the
// accept loop, and drains or cuts the sessions at Shutdown and Close.
// Accept, the loop of Serve, also serves IMAP, which keeps its own
// sessions; Refuser and RemoteIP serve the listeners of IMAP and SMTP.
// For the sessions of the line protocols it has the pieces they share:
// ReadLine and LineBuffered, WriteTimeoutConn and Linger.
//
// It knows no protocol: the wire text, the session's commands, its
// timeouts and what "idle" means belong to the protocol package, which
// hands them over as a Session and a refusal line.
package frontend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surat-mail/surat/protocols/connlimit"
)

// Session is what the frontend needs of one connection's session. Drain
// and Cut may be called from any goroutine, at any time after NewSession
// returned the session, before Run starts as well.
type Session interface {
	comparable
	// IP is the client's address, counted by the per-IP limit.
	IP() string
	// Run serves the connection until the session ends, and closes it.
	Run()
	// Drain is called once Shutdown begins: a session waiting for a
	// command ends now, a busy one after its command.
	Drain()
	// Cut closes the connection at once (Close, or Shutdown past its
	// deadline).
	Cut()
	// Discard releases what NewSession made (its context) for a session
	// that will not run: it was refused over the limits. The connection
	// is left alone; the refusal is written to it.
	Discard()
}

// Config configures a Server.
type Config[S Session] struct {
	// Name prefixes errors and log lines ("pop3").
	Name string
	// Log gets one line per refused connection; nil: discarded.
	Log *slog.Logger
	// MaxSessions and MaxSessionsPerIP bound the open sessions.
	MaxSessions, MaxSessionsPerIP int
	// NewSession makes the session of an accepted connection; it must not
	// do I/O (the accept loop waits for it). A session over the limits is
	// dropped without Run.
	NewSession func(net.Conn) S
	// Refusal is the line (without CRLF) a client over the limits gets,
	// in the protocol's words; RefusalTLS, when set, is the configuration
	// of the TLS handshake an implicit-TLS listener runs before it.
	Refusal    string
	RefusalTLS *tls.Config
}

// Server accepts on the listeners given to Serve until Shutdown or Close.
type Server[S Session] struct {
	cfg     Config[S]
	limits  *connlimit.Limiter[S]
	refuser *Refuser

	mu        sync.Mutex // guards listeners, and closing with wg.Add
	listeners map[net.Listener]struct{}
	closing   atomic.Bool
	wg        sync.WaitGroup // sessions

	// ctx is the parent of every session's context; Close, or a Shutdown
	// past its deadline or done, cancels it.
	ctx    context.Context
	cancel context.CancelFunc
}

// New builds a Server.
func New[S Session](cfg Config[S]) *Server[S] {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server[S]{
		cfg:       cfg,
		limits:    connlimit.New[S](cfg.MaxSessions, cfg.MaxSessionsPerIP),
		refuser:   &Refuser{Line: cfg.Refusal, TLS: cfg.RefusalTLS},
		listeners: map[net.Listener]struct{}{},
		ctx:       ctx, cancel: cancel,
	}
}

// Context is the parent of the sessions' contexts: it ends with Close, or
// when Shutdown is done or past its deadline.
func (f *Server[S]) Context() context.Context { return f.ctx }

// Closing reports whether Shutdown or Close has begun: a session checks it
// before waiting for its next command.
func (f *Server[S]) Closing() bool { return f.closing.Load() }

// Open is the number of open sessions.
func (f *Server[S]) Open() int { return f.limits.Open() }

// Sessions lists the open sessions (a copy).
func (f *Server[S]) Sessions() []S { return f.limits.Conns() }

// Serve accepts connections on ln until Shutdown or Close, which make it
// return nil (as does ln's closing).
func (f *Server[S]) Serve(ln net.Listener) error {
	f.mu.Lock()
	if f.closing.Load() {
		f.mu.Unlock()
		ln.Close()
		return nil
	}
	f.listeners[ln] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.listeners, ln)
		f.mu.Unlock()
	}()
	return Accept(ln, f.cfg.Name, f.closing.Load, func(conn net.Conn) {
		sess := f.cfg.NewSession(conn)
		if !f.admit(sess) {
			sess.Discard()
			f.cfg.Log.Info(f.cfg.Name+" session refused: too many", "remote", RemoteIP(conn.RemoteAddr()))
			f.refuser.Refuse(conn)
			return
		}
		go func() {
			defer f.release(sess)
			sess.Run()
		}()
	})
}

// Accept is the accept loop of Server.Serve, for a server that keeps its
// own sessions (IMAP): it hands each connection of ln to handle, in the
// accepting goroutine (handle must not block on the client), and backs
// off on temporary errors. It returns nil once stopped reports true or ln
// is closed, and any other error of Accept prefixed with name.
func Accept(ln net.Listener, name string, stopped func() bool, handle func(net.Conn)) error {
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if stopped() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: back off as
				// net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("%s: accept: %w", name, err)
		}
		delay = 0
		handle(conn)
	}
}

// admit registers a session within the connection limits.
func (f *Server[S]) admit(sess S) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing.Load() || !f.limits.Acquire(sess, sess.IP()) {
		return false
	}
	f.wg.Add(1)
	return true
}

// release frees the slot of an admitted session once its Run returned.
func (f *Server[S]) release(sess S) {
	f.limits.Release(sess)
	f.wg.Done()
}

// stopAccepting makes Serve return and admit nothing more.
func (f *Server[S]) stopAccepting() {
	f.mu.Lock()
	f.closing.Store(true)
	for ln := range f.listeners {
		ln.Close()
	}
	f.mu.Unlock()
}

// Shutdown stops accepting, drains every session (Session.Drain), waits
// for them until ctx ends, then cuts the rest off and waits for their Run
// to return. It cancels Context either way.
func (f *Server[S]) Shutdown(ctx context.Context) error {
	f.stopAccepting()
	for _, sess := range f.limits.Conns() {
		sess.Drain()
	}
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		f.cancel()
	case <-ctx.Done():
		f.cancel()
		f.cutAll()
		<-done
	}
	return nil
}

// Close stops at once: it cancels Context, cuts every session and waits
// for their Run to return.
func (f *Server[S]) Close() error {
	f.stopAccepting()
	f.cancel()
	f.cutAll()
	f.wg.Wait()
	return nil
}

func (f *Server[S]) cutAll() {
	for _, sess := range f.limits.Conns() {
		sess.Cut()
	}
}

// RemoteIP is the host part of addr (the whole string when it has none).
func RemoteIP(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
