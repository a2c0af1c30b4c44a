package smtp

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surat-mail/surat/protocols/clientwatch"
	"github.com/surat-mail/surat/protocols/connlimit"
	"github.com/surat-mail/surat/protocols/frontend"
)

// A closing session first sends FIN and reads what the client is still
// sending for a moment: closing a socket with unread input makes the kernel
// send RST, which can destroy the last reply (go-smtp answers a too-long
// line with 500 and closes while the line is still arriving; acceptance
// B6). net/http does the same (closeWriteAndWait).
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 1 << 20
)

// closeAll cuts every open connection (go-smtp's own Close does nothing
// after a Shutdown that timed out).
func closeAll(l *connlimit.Limiter[*limitedConn]) {
	for _, c := range l.Conns() {
		c.hard.Store(true)
		c.Close()
	}
}

// limitedListener admits connections within the session limits and wraps
// them with idle timeouts. A refused client gets 421 4.7.0 (RFC 5321 §3.8:
// a server may refuse a connection with 421), over TLS first when the
// listener is implicit TLS (RFC 8314 §3.3), and is closed.
type limitedListener struct {
	net.Listener
	limits       *connlimit.Limiter[*limitedConn]
	readTimeout  time.Duration
	writeTimeout time.Duration
	onRefuse     func(remote string)
	base         context.Context // the server's; each connection's context derives from it
	// refuser sends the 421, over TLS first on an implicit-TLS listener
	// (its TLS set).
	refuser     frontend.Refuser
	maxDuration time.Duration // a session's whole length; 0: unbounded
}

func (ln *limitedListener) Accept() (net.Conn, error) {
	for {
		raw, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		c := &limitedConn{Conn: raw, watch: clientwatch.New(raw), ip: frontend.RemoteIP(raw.RemoteAddr()), limits: ln.limits,
			readTimeout: ln.readTimeout, writeTimeout: ln.writeTimeout}
		if ln.maxDuration > 0 {
			c.ends = time.Now().Add(ln.maxDuration)
		}
		if ln.limits.Acquire(c, c.ip) {
			c.ctx, c.cancel = context.WithCancel(ln.base)
			return c, nil
		}
		if ln.onRefuse != nil {
			ln.onRefuse(c.ip)
		}
		ln.refuser.Refuse(raw)
	}
}

// refusal is the line of errTooManySessions.
func refusal() string {
	e := errTooManySessions
	return fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.EnhancedCode[0], e.EnhancedCode[1], e.EnhancedCode[2], e.Message)
}

// limitedConn releases its session slot once, on Close, and pushes the
// read and write deadlines forward on every call: go-smtp sets a read
// deadline per command line only, which would bound a whole DATA transfer;
// an idle timeout per read bounds silence instead (RFC 5321 §4.5.3.2 gives
// per-block timeouts for DATA, not one for the whole message).
type limitedConn struct {
	net.Conn
	ip                        string
	limits                    *connlimit.Limiter[*limitedConn]
	readTimeout, writeTimeout time.Duration
	closeOnce                 sync.Once
	closeErr                  error
	hard                      atomic.Bool // close without lingering (shutdown)
	// ends is when the session's time is up (zero: never): no read waits
	// past it, so a client trickling bytes just inside the idle timeout
	// cannot hold its slot for ever (sessionlimits.go).
	ends time.Time
	// transactions counts MAIL commands (sessionlimits.go); closeAfterWrite
	// makes the next reply the last.
	transactions    atomic.Int64
	closeAfterWrite atomic.Bool
	// clientPassed: the connection checks passed this client
	// (connchecks.go); they are not asked again after STARTTLS.
	clientPassed atomic.Bool
	// ctx is the sessions' context, cancelled by Close (the session
	// ended, or the server cut it off) and when the server stops.
	ctx    context.Context
	cancel context.CancelFunc
	// watch reads ahead while the session waits before a reply
	// (protocols/clientwatch): the delivery's commit after DATA.
	watch *clientwatch.Conn
}

// watchClose notices a client that hangs up while its session waits
// before a reply: nothing reads the connection then, so the end of the
// stream would go unseen until the wait was over. What arrives meanwhile
// (a pipelined command, RFC 2920, or a TLS close_notify) is kept for the
// next Read. stop must be called before the session reads again.
func (c *limitedConn) watchClose(gone func()) (stop func()) { return c.watch.Watch(gone) }

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.readTimeout > 0 || !c.ends.IsZero() {
		_ = c.Conn.SetReadDeadline(readDeadline(time.Now(), c.readTimeout, c.ends))
	}
	return c.watch.Read(p)
}

func (c *limitedConn) Write(p []byte) (int, error) {
	if c.writeTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	n, err := c.Conn.Write(p)
	if c.closeAfterWrite.Load() {
		c.Close()
	}
	return n, err
}

func (c *limitedConn) Close() error {
	c.closeOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		if tc, ok := c.Conn.(*net.TCPConn); ok && !c.hard.Load() {
			if tc.CloseWrite() == nil {
				_ = tc.SetReadDeadline(time.Now().Add(lingerTime))
				_, _ = io.CopyN(io.Discard, tc, lingerBytes)
			}
		}
		c.closeErr = c.Conn.Close()
		c.limits.Release(c)
	})
	return c.closeErr
}
