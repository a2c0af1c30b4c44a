package imap

import (
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/surat-mail/surat/protocols/clientwatch"
	"github.com/surat-mail/surat/protocols/connlimit"
	"github.com/surat-mail/surat/protocols/frontend"
)

// limitedListener admits connections within the limits. A refused client
// gets "* BYE [UNAVAILABLE]" (RFC 9051 §7.1.5, RFC 5530 §3), over TLS on
// the implicit-TLS listener (as POP3 and SMTP do), from the frontend's
// bounded refusers, so a flood costs at most frontend.MaxRefusing
// handshakes at once and never holds up the accept loop.
type limitedListener struct {
	net.Listener
	srv     *Server
	refuser frontend.Refuser
}

// refusal is what a client over the limits gets.
const refusal = "* BYE [UNAVAILABLE] Too many connections, try again later"

func (ln *limitedListener) Accept() (net.Conn, error) {
	for {
		raw, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		w := clientwatch.New(raw)
		c := &limitedConn{Conn: w, watch: w, ip: frontend.RemoteIP(raw.RemoteAddr()), limits: ln.srv.limits, idle: ln.srv.cfg.IdleTimeout}
		if ln.srv.limits.Acquire(c, c.ip) {
			return c, nil
		}
		ln.srv.log.Info("imap connection refused: too many", "remote", c.ip)
		ln.refuser.Refuse(raw)
	}
}

// Stall detection, a safety net: when the client has sent a little (a
// command line, not an upload) since the server last wrote, and then
// nothing for stallTimeout while the server waits to read, the connection
// is closed: client and server would otherwise wait on each other (a
// client waiting for a continuation request the server will not send)
// until the command timeout. Large transfers and silent idle clients are
// never affected: the rule needs client bytes after the server's last
// write, fewer than stallBytes of them.
const (
	stallTimeout = 5 * time.Second
	stallBytes   = 16 << 10
)

// limitedConn releases its slot once, on Close, caps every read deadline
// the session sets at the configured idle timeout, and applies the stall
// rule.
type limitedConn struct {
	net.Conn
	ip        string
	limits    *connlimit.Limiter[*limitedConn]
	idle      time.Duration
	closeOnce sync.Once
	closeErr  error

	// held collects writes while a FETCH runs (see holdWrites); guarded
	// by wmu, which also orders the flush against later writes.
	wmu     sync.Mutex
	holding bool
	held    []byte

	// watch reads ahead while a command waits (protocols/clientwatch);
	// it is the Conn under everything else.
	watch *clientwatch.Conn

	mu        sync.Mutex
	deadline  time.Time // the read deadline the session asked for (capped)
	owedSince time.Time // first client bytes since the server last wrote
	owedBytes int
	lastData  time.Time
}

func (c *limitedConn) Read(p []byte) (int, error) {
	// The deadline is set under mu, as SetReadDeadline sets it, so that a
	// deadline set meanwhile from another goroutine (requestBye's, in the
	// past) is never overwritten by the one read here before it.
	c.mu.Lock()
	d := c.deadline
	if !c.owedSince.IsZero() && c.owedBytes < stallBytes {
		if stall := c.lastData.Add(stallTimeout); d.IsZero() || stall.Before(d) {
			d = stall
		}
	}
	_ = c.Conn.SetReadDeadline(d)
	c.mu.Unlock()
	n, err := c.Conn.Read(p) // what a watch read ahead first
	if n > 0 {
		now := time.Now()
		c.mu.Lock()
		if c.owedSince.IsZero() {
			c.owedSince = now
		}
		c.owedBytes += n
		c.lastData = now
		c.mu.Unlock()
	}
	return n, err
}

func (c *limitedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.owedSince = time.Time{}
	c.owedBytes = 0
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.holding {
		return c.Conn.Write(p)
	}
	c.held = append(c.held, p...)
	if len(c.held) >= heldWriteSize {
		if err := c.flushHeldLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// watchClose ends nothing itself: gone is called if the client goes away
// while a command waits on the cluster (protocols/clientwatch).
func (c *limitedConn) watchClose(gone func()) (stop func()) { return c.watch.Watch(gone) }

// Write coalescing. The session's buffer is small (4 KiB, kept by every
// idle connection), so a FETCH of 10,000 messages would cost a write
// system call (and a TCP segment) every few messages. While a FETCH runs,
// the session holds the connection's writes and sends them heldWriteSize
// at a time; it releases them before the tagged completion is written, so
// nothing a client waits for stays behind.
const heldWriteSize = 64 << 10

// holdWrites starts collecting writes until releaseWrites.
func (c *limitedConn) holdWrites() {
	c.wmu.Lock()
	c.holding = true
	c.wmu.Unlock()
}

// releaseWrites sends what was collected and stops collecting. The buffer
// goes too: an idle connection must not keep 64 KiB (10,000 of them are
// meant to fit in well under 64 KiB each).
func (c *limitedConn) releaseWrites() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.holding = false
	err := c.flushHeldLocked()
	c.held = nil
	return err
}

func (c *limitedConn) flushHeldLocked() error {
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	if err != nil {
		return fmt.Errorf("imap: write: %w", err)
	}
	return nil
}

// connOf is the connection limitedListener made under c, which may be
// wrapped in TLS (implicit TLS, or after STARTTLS); nil when c did not
// come from a limitedListener.
func connOf(c net.Conn) *limitedConn {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if p, ok := c.(*prefixConn); ok {
		c = p.Conn
	}
	l, _ := c.(*limitedConn)
	return l
}

func (c *limitedConn) SetReadDeadline(t time.Time) error {
	t = c.capDeadline(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return c.Conn.SetReadDeadline(t) // under mu: see Read
}

func (c *limitedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *limitedConn) capDeadline(t time.Time) time.Time {
	if c.idle <= 0 {
		return t
	}
	limit := time.Now().Add(c.idle)
	if t.IsZero() || t.After(limit) {
		return limit
	}
	return t
}

func (c *limitedConn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		c.limits.Release(c)
	})
	return c.closeErr
}
