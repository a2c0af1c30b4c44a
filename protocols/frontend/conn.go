package frontend

import (
	"crypto/tls"
	"io"
	"net"
	"time"
)

// WriteTimeoutConn pushes the write deadline forward on every write, so
// that a long reply (a RETR of a large message) is bounded by silence, not
// by its total time.
type WriteTimeoutConn struct {
	net.Conn
	WriteTimeout time.Duration
}

func (c *WriteTimeoutConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.WriteTimeout))
	return c.Conn.Write(p)
}

// Closing: the last reply is followed by a FIN, and what the client still
// sends is read for a moment, so that the kernel does not answer unread
// input with a RST that could destroy that reply (net/http does the same).
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 64 << 10
)

// Linger ends a session's sending once its last reply was flushed, and
// reads what the client still sends for a moment; the caller closes raw
// next. raw is the accepted connection and top the one the session wrote
// to (raw, a wrapper of it, or TLS over it): TLS's close_notify goes out
// before the FIN.
func Linger(raw, top net.Conn) {
	if tc, ok := top.(*tls.Conn); ok {
		_ = tc.SetWriteDeadline(time.Now().Add(lingerTime))
		_ = tc.CloseWrite()
	} else if c, ok := raw.(interface{ CloseWrite() error }); ok {
		_ = c.CloseWrite()
	}
	_ = raw.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, raw, lingerBytes)
}
