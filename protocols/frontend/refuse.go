package frontend

import (
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// MaxRefusing bounds the goroutines of one Refuser that tell refused
// clients why: past it, excess connections are closed without a word.
const MaxRefusing = 64

// refuseTimeout bounds the whole of one refusal (handshake and line).
const refuseTimeout = 5 * time.Second

// Refuser tells clients over a server's limits why they are refused,
// each in a goroutine of its own, so that a slow client does not hold up
// the accept loop. Set its fields before the first Refuse; it must not be
// copied after.
type Refuser struct {
	// Line is the refusal, in the protocol's words, without CRLF.
	Line string
	// TLS, when set, is the configuration of the handshake an
	// implicit-TLS listener runs before the line (RFC 8314 §3.3: a client
	// there speaks TLS first).
	TLS *tls.Config

	refusing atomic.Int32
}

// Refuse writes the refusal line to conn and closes it, without waiting;
// past MaxRefusing refusals in progress it only closes conn.
func (r *Refuser) Refuse(conn net.Conn) {
	if r.refusing.Add(1) > MaxRefusing {
		r.refusing.Add(-1)
		conn.Close()
		return
	}
	go func() {
		defer r.refusing.Add(-1)
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(refuseTimeout))
		c := conn
		if r.TLS != nil {
			tc := tls.Server(conn, r.TLS)
			if tc.Handshake() != nil {
				return
			}
			c = tc
		}
		_, _ = io.WriteString(c, r.Line+"\r\n")
	}()
}
