package bans

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Checker says whether a ban in force at now covers ip (*mailbox.Store has
// it; so may a login module's ban check).
type Checker interface {
	Banned(ip netip.Addr, now time.Time) bool
}

// Refusals a banned client is sent at connect, one per protocol.
const (
	// RFC 5321 §3.1: a server may refuse a connection by answering its
	// opening with 554 instead of 220; 5.7.1 (RFC 3463) says by policy.
	// The RFC would have the server then wait for QUIT; a banned client
	// gets no session, only the reply and a short linger before the close.
	RefusalSMTP = "554 5.7.1 Client address is banned by this server"
	// RFC 9051 §7.1.5: BYE as the greeting, the server is closing.
	RefusalIMAP = "* BYE Client address is banned by this server"
	// RFC 1939 §4: the greeting may be negative; POP3 has no BYE.
	RefusalPOP3 = "-ERR Client address is banned by this server"
)

// GateConfig configures Gate.
type GateConfig struct {
	Bans Checker // required
	// Refusal is the line (without CRLF) a banned client is sent before
	// the connection closes; empty closes at once. An implicit-TLS
	// listener passes empty: a reply would need a TLS handshake first,
	// and a banned client is not worth one.
	Refusal string
	// Listener names the listener in logs ("smtp", "imaps", ...).
	Listener string
	// Refused, if set, counts the clients refused.
	Refused prometheus.Counter
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger
}

// maxRefusing bounds the goroutines that send refusals: past it, banned
// clients are closed without a reply, so a flood from banned addresses
// costs one look-up and one close each.
const maxRefusing = 64

// refusalLinger is how long a refused connection is read after its reply,
// so that unread client input does not make the kernel reset the
// connection and destroy the reply.
const refusalLinger = 2 * time.Second

// Gate returns ln with banned clients filtered out: Accept returns only
// clients no ban covers, and refuses the others itself. Accept's errors,
// Close and Addr are ln's, so a server's shutdown works unchanged.
func Gate(ln net.Listener, cfg GateConfig) net.Listener {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &gate{Listener: ln, cfg: cfg}
}

type gate struct {
	net.Listener
	cfg      GateConfig
	refusing atomic.Int32
}

func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteAddr(c)
		if !ip.IsValid() || !g.cfg.Bans.Banned(ip, g.cfg.Now()) {
			return c, nil
		}
		if g.cfg.Refused != nil {
			g.cfg.Refused.Inc()
		}
		g.cfg.Logger.Debug("banned client refused", "listener", g.cfg.Listener, "remote", ip.String())
		if g.cfg.Refusal == "" || g.refusing.Add(1) > maxRefusing {
			if g.cfg.Refusal != "" {
				g.refusing.Add(-1)
			}
			c.Close()
			continue
		}
		go func() {
			defer g.refusing.Add(-1)
			g.refuse(c)
		}()
	}
}

// refuse sends the refusal, half-closes, and reads what the client still
// sends for a moment before closing.
func (g *gate) refuse(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refusalLinger))
	if _, err := io.WriteString(c, g.cfg.Refusal+"\r\n"); err != nil {
		return
	}
	if tc, ok := c.(interface{ CloseWrite() error }); ok && tc.CloseWrite() == nil {
		_, _ = io.CopyN(io.Discard, c, 64<<10)
	}
}

// remoteAddr is the client's IP address, IPv4-mapped addresses unmapped;
// invalid when the connection has no IP address (a Unix socket).
func remoteAddr(c net.Conn) netip.Addr {
	ra := c.RemoteAddr()
	if a, ok := ra.(*net.TCPAddr); ok && a != nil {
		return a.AddrPort().Addr().Unmap()
	}
	if ra == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(ra.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
