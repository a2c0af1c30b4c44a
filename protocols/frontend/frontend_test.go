package frontend

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echoSession answers "ready", then echoes lines; it counts as idle while
// it waits for one.
type echoSession struct {
	conn      net.Conn
	idle      atomic.Bool
	busy      chan struct{} // closed: a line "busy" holds the session until release
	release   chan struct{}
	cut       chan struct{} // closed by Cut: a busy session gives up too
	drained   atomic.Bool
	discarded atomic.Bool
	once      sync.Once
}

func (s *echoSession) IP() string { return RemoteIP(s.conn.RemoteAddr()) }

func (s *echoSession) Run() {
	defer s.Cut()
	r := bufio.NewReader(s.conn)
	_, _ = s.conn.Write([]byte("ready\r\n"))
	for {
		s.idle.Store(true)
		line, err := r.ReadString('\n')
		s.idle.Store(false)
		if err != nil {
			return
		}
		if strings.TrimSpace(line) == "busy" {
			close(s.busy)
			select {
			case <-s.release:
			case <-s.cut:
				return
			}
		}
		_, _ = s.conn.Write([]byte(line))
	}
}

func (s *echoSession) Drain() {
	s.drained.Store(true)
	if s.idle.Load() {
		s.Cut()
	}
}

func (s *echoSession) Discard() { s.discarded.Store(true) }

func (s *echoSession) Cut() {
	s.once.Do(func() {
		close(s.cut)
		s.conn.Close()
	})
}

type harness struct {
	srv      *Server[*echoSession]
	addr     string
	served   chan error
	mu       sync.Mutex
	sessions []*echoSession
}

func start(t *testing.T, max, perIP int) *harness {
	t.Helper()
	h := &harness{served: make(chan error, 1)}
	h.srv = New(Config[*echoSession]{
		Name: "echo", MaxSessions: max, MaxSessionsPerIP: perIP,
		NewSession: func(c net.Conn) *echoSession {
			s := &echoSession{conn: c, busy: make(chan struct{}), release: make(chan struct{}), cut: make(chan struct{})}
			h.mu.Lock()
			h.sessions = append(h.sessions, s)
			h.mu.Unlock()
			return s
		},
		Refusal: "NO too many",
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	go func() { h.served <- h.srv.Serve(ln) }()
	t.Cleanup(func() { h.srv.Close() })
	return h
}

func (h *harness) session(i int) *echoSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[i]
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c, bufio.NewReader(c)
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, l)
	}
	return l
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A client over the limit gets the protocol's refusal line and is closed;
// the admitted one is served, and its slot is free again when it leaves.
func TestRefusesOverTheLimit(t *testing.T) {
	h := start(t, 1, 1)
	c1, r1 := dial(t, h.addr)
	if l := readLine(t, r1); l != "ready\r\n" {
		t.Fatalf("first client got %q", l)
	}
	_, r2 := dial(t, h.addr)
	if l := readLine(t, r2); l != "NO too many\r\n" {
		t.Fatalf("second client got %q, want the refusal", l)
	}
	if _, err := r2.ReadString('\n'); err == nil {
		t.Fatal("refused client not closed")
	}
	if n := h.srv.Open(); n != 1 {
		t.Fatalf("Open = %d, want 1", n)
	}
	h.mu.Lock()
	first, refused := h.sessions[0], h.sessions[1]
	h.mu.Unlock()
	if first.discarded.Load() || !refused.discarded.Load() {
		t.Fatalf("discarded: admitted %v, refused %v; want only the refused one", first.discarded.Load(), refused.discarded.Load())
	}
	c1.Close()
	waitFor(t, "the slot's release", func() bool { return h.srv.Open() == 0 })
	_, r3 := dial(t, h.addr)
	if l := readLine(t, r3); l != "ready\r\n" {
		t.Fatalf("client after the first left got %q", l)
	}
}

// Shutdown closes idle sessions at once, lets a busy one finish its
// command, and makes Serve return nil; the sessions' context ends.
func TestShutdownDrains(t *testing.T) {
	h := start(t, 10, 10)
	_, idleR := dial(t, h.addr)
	readLine(t, idleR)
	busyC, busyR := dial(t, h.addr)
	readLine(t, busyR)
	if _, err := busyC.Write([]byte("busy\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two sessions", func() bool { return h.srv.Open() == 2 })
	busy, idle := h.session(0), h.session(1)
	if busy.conn.RemoteAddr().String() != busyC.LocalAddr().String() {
		busy, idle = idle, busy
	}
	<-busy.busy
	waitFor(t, "the idle session's wait for a command", idle.idle.Load)

	shut := make(chan error, 1)
	go func() { shut <- h.srv.Shutdown(context.Background()) }()
	if _, err := idleR.ReadString('\n'); err == nil {
		t.Fatal("idle session not closed by Shutdown")
	}
	if err := <-h.served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if !h.srv.Closing() {
		t.Fatal("Shutdown did not mark the server closing")
	}
	waitFor(t, "the busy session's Drain", busy.drained.Load)
	select {
	case <-shut:
		t.Fatal("Shutdown returned while a command was in flight")
	default:
	}
	close(busy.release)
	if l := readLine(t, busyR); l != "busy\r\n" {
		t.Fatalf("busy session's answer = %q", l)
	}
	busyC.Close()
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if h.srv.Context().Err() == nil {
		t.Fatal("the sessions' context still open after Shutdown")
	}
	if err := h.srv.Serve(&closedListener{}); err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

// A Shutdown past its deadline cuts the busy sessions off.
func TestShutdownDeadlineCuts(t *testing.T) {
	h := start(t, 10, 10)
	c, r := dial(t, h.addr)
	readLine(t, r)
	if _, err := c.Write([]byte("busy\r\n")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one session", func() bool { return h.srv.Open() == 1 })
	s := h.session(0)
	<-s.busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	shut := make(chan error, 1)
	go func() { shut <- h.srv.Shutdown(ctx) }()
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("busy session not cut at the deadline")
	}
	close(s.release) // its Run returns: Shutdown waits for that
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if n := h.srv.Open(); n != 0 {
		t.Fatalf("Open = %d after Shutdown", n)
	}
}

// closedListener is a listener Serve must close and leave at once.
type closedListener struct{ closed atomic.Bool }

func (l *closedListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l *closedListener) Close() error              { l.closed.Store(true); return nil }
func (l *closedListener) Addr() net.Addr            { return &net.TCPAddr{} }

// temporaryErr is an accept error Serve retries after a pause.
type temporaryErr struct{}

func (temporaryErr) Error() string   { return "too many open files" }
func (temporaryErr) Timeout() bool   { return true }
func (temporaryErr) Temporary() bool { return true }

// flakyListener fails Accept with a temporary error, then a permanent one.
type flakyListener struct {
	closedListener
	calls atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.calls.Add(1) <= 3 {
		return nil, temporaryErr{}
	}
	return nil, errors.New("broken")
}

// Temporary accept errors are retried; another one ends Serve with it,
// named after the protocol.
func TestServeAcceptErrors(t *testing.T) {
	f := New(Config[*echoSession]{Name: "echo", MaxSessions: 1, MaxSessionsPerIP: 1})
	defer f.Close()
	ln := &flakyListener{}
	err := f.Serve(ln)
	if err == nil || !strings.HasPrefix(err.Error(), "echo: accept: ") || ln.calls.Load() != 4 {
		t.Fatalf("Serve = %v after %d accepts, want echo: accept: broken after 4", err, ln.calls.Load())
	}
}

func TestRemoteIP(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{nil, ""},
		{&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 25}, "192.0.2.1"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 25}, "2001:db8::1"},
		{&net.UnixAddr{Name: "/run/sock", Net: "unix"}, "/run/sock"},
	} {
		if got := RemoteIP(tc.addr); got != tc.want {
			t.Errorf("RemoteIP(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}
