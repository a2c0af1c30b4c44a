// Package clientwatch notices a client leaving while its command waits.
//
// While a command waits on the cluster (a login's catch-up, a proposal)
// nobody reads the connection, so a client that went away would be noticed
// only once the wait ended, up to a proposal timeout later. Conn reads
// ahead meanwhile, as net/http's server does for a request's context: the
// connection's end calls the watcher's gone; a byte the client sent (its
// next command, pipelined) is kept for the next Read. It may sit below
// TLS, since nothing else reads the connection until the command ends;
// there a client that leaves politely sends a close_notify alert before
// its FIN, so the watch reads on after the first bytes, up to maxAhead,
// to see the end behind them. A client that pipelines a command and then
// closes its side is taken as gone, as net/http takes one; a command whose
// outcome must not depend on the client staying (POP3's UPDATE) is not
// watched. SMTP, IMAP and POP3 sessions all use it; it knows no protocol.
package clientwatch

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// maxAhead bounds what one watch reads ahead: more than a TLS alert
// record (close_notify is under 64 octets), little per connection.
const maxAhead = 512

// Conn is a connection whose departure can be watched for. Read returns
// what a watch read ahead before reading the connection again.
type Conn struct {
	net.Conn

	mu       sync.Mutex
	ahead    []byte // read by Watch, not yet returned by Read
	aheadErr error  // the connection's end, seen by Watch
}

// New wraps c.
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

// Read returns the bytes a watch read ahead first, then the connection's
// end it saw, then reads the connection.
func (c *Conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	switch {
	case len(c.ahead) > 0:
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		c.mu.Unlock()
		return n, nil
	case c.aheadErr != nil:
		err := c.aheadErr
		c.mu.Unlock()
		return 0, err
	}
	c.mu.Unlock()
	return c.Conn.Read(p)
}

// CloseWrite half-closes the connection when the one underneath can.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Watch calls gone if the client goes away before the returned stop is
// called. Only for waits after a command was read in full: nothing else
// may read the connection until stop returns. stop leaves the read
// deadline in the past; the next reader sets its own. When a watch already
// saw a byte or the end, Watch does nothing (the next Read returns it).
func (c *Conn) Watch(gone func()) (stop func()) {
	c.mu.Lock()
	busy := len(c.ahead) > 0 || c.aheadErr != nil
	c.mu.Unlock()
	if busy {
		return func() {}
	}
	_ = c.Conn.SetReadDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [maxAhead]byte
		for total := 0; total < maxAhead; {
			n, err := c.Conn.Read(b[:maxAhead-total])
			total += n
			ended := err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
			c.mu.Lock()
			c.ahead = append(c.ahead, b[:n]...)
			if ended {
				c.aheadErr = err
			}
			c.mu.Unlock()
			if ended {
				gone()
			}
			if err != nil {
				return
			}
		}
	}()
	return func() {
		// A deadline in the past ends the Read at once.
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
		<-done
	}
}
