package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// One TLS port carries three kinds of node-to-node stream. After the TLS
// handshake the dialer sends one byte naming the kind, as Consul and Nomad
// multiplex their RPC port.
const (
	streamRaft    byte = 'R'
	streamForward byte = 'F'
	streamStats   byte = 'S'
)

// handshakeTimeout bounds the TLS handshake and the kind byte, so that a
// silent connection cannot hold an accept slot.
const handshakeTimeout = 5 * time.Second

// mux accepts mutual-TLS connections on the Raft address and hands each to
// the handler of its kind.
type mux struct {
	ln       net.Listener
	tls      *tls.Config
	log      *slog.Logger
	handlers map[byte]func(net.Conn)
	raft     *raftStreams

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func newMux(addr string, conf *tls.Config, log *slog.Logger) (*mux, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for raft on %s: %w", addr, err)
	}
	m := &mux{
		ln:       ln,
		tls:      conf,
		log:      log,
		handlers: map[byte]func(net.Conn){},
		conns:    map[net.Conn]struct{}{},
	}
	m.raft = &raftStreams{mux: m, accept: make(chan net.Conn), done: make(chan struct{})}
	m.handlers[streamRaft] = m.raft.deliver
	return m, nil
}

// handle registers the handler for a stream kind; call before serve.
func (m *mux) handle(kind byte, h func(net.Conn)) { m.handlers[kind] = h }

func (m *mux) serve() {
	m.wg.Add(1)
	defer m.wg.Done()
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			m.log.Warn("cluster accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.dispatch(conn)
		}()
	}
}

func (m *mux) track(c net.Conn, add bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if add {
		if m.closed {
			return false
		}
		m.conns[c] = struct{}{}
		return true
	}
	delete(m.conns, c)
	return true
}

func (m *mux) dispatch(raw net.Conn) {
	conn := tls.Server(raw, m.tls)
	if !m.track(conn, true) {
		raw.Close()
		return
	}
	defer m.track(conn, false)
	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := conn.Handshake(); err != nil {
		m.mu.Lock()
		closing := m.closed
		m.mu.Unlock()
		if !closing {
			// A peer with another cluster key ends here.
			m.log.Warn("cluster peer refused: TLS handshake failed (different cluster key?)", "remote", raw.RemoteAddr().String(), "err", err)
		}
		conn.Close()
		return
	}
	var kind [1]byte
	if _, err := io.ReadFull(conn, kind[:]); err != nil {
		conn.Close()
		return
	}
	_ = conn.SetDeadline(time.Time{})
	h, ok := m.handlers[kind[0]]
	if !ok {
		m.log.Warn("cluster peer sent an unknown stream kind", "remote", raw.RemoteAddr().String(), "kind", kind[0])
		conn.Close()
		return
	}
	h(conn)
}

// dial opens a stream of the given kind to a peer's Raft address.
func (m *mux) dial(addr string, kind byte, timeout time.Duration) (net.Conn, error) {
	dialer := &net.Dialer{Timeout: timeout}
	conn, err := tls.DialWithDialer(dialer, "tcp", addr, m.tls)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	_ = conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte{kind}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	_ = conn.SetWriteDeadline(time.Time{})
	if !m.track(conn, true) {
		conn.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, net.ErrClosed)
	}
	// Tracked so that close() also ends connections this node opened
	// (Raft's pipelines among them), not only those it accepted.
	return &trackedConn{Conn: conn, mux: m}, nil
}

type trackedConn struct {
	net.Conn
	mux  *mux
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.mux.track(c.Conn, false) })
	return c.Conn.Close()
}

func (m *mux) close() {
	m.mu.Lock()
	m.closed = true
	conns := make([]net.Conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()
	m.ln.Close()
	m.raft.close()
	for _, c := range conns {
		c.Close()
	}
	m.wg.Wait()
}

// raftStreams is the raft.StreamLayer over the mux.
type raftStreams struct {
	mux    *mux
	accept chan net.Conn
	done   chan struct{}
	once   sync.Once
}

var _ raft.StreamLayer = (*raftStreams)(nil)

func (r *raftStreams) deliver(c net.Conn) {
	select {
	case r.accept <- c:
	case <-r.done:
		c.Close()
	}
}

func (r *raftStreams) Accept() (net.Conn, error) {
	select {
	case c := <-r.accept:
		return c, nil
	case <-r.done:
		return nil, net.ErrClosed
	}
}

// Close is called by raft's transport; the mux owns the real listener.
func (r *raftStreams) Close() error {
	r.close()
	return nil
}

func (r *raftStreams) close() { r.once.Do(func() { close(r.done) }) }

func (r *raftStreams) Addr() net.Addr { return r.mux.ln.Addr() }

func (r *raftStreams) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return r.mux.dial(string(addr), streamRaft, timeout)
}
