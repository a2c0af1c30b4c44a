package outbound

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// sinkMessage is one message a sink accepted.
type sinkMessage struct {
	From   string
	Rcpts  []string
	Data   []byte
	TLS    bool
	Notify map[string][]gosmtp.DSNNotify
	User   string // the AUTH identity, if the client logged in
	// RequireTLS: MAIL carried REQUIRETLS (RFC 8689).
	RequireTLS bool
}

// sink is an SMTP server on loopback that records what it accepts. Its
// hooks decide the replies; by default it accepts everything and refuses
// recipients starting with "reject-" with 550 5.1.1, as the acceptance
// suite's sink does.
type sink struct {
	t    testing.TB
	addr string
	srv  *gosmtp.Server

	mu       sync.Mutex
	messages []sinkMessage
	rcptHook func(to string) error
	dataHook func(n int) error // n: messages accepted so far
	// dataStarted, if set, receives a value when DATA begins (before the
	// hook), and dataGate, if set, holds the reply until it is closed.
	dataStarted chan struct{}
	dataGate    chan struct{}
	sessions    int
	closed      chan struct{} // releases every gate at cleanup
	// logins, if set, makes the sink offer AUTH PLAIN for these
	// user/password pairs and refuse MAIL before it.
	logins map[string]string
}

func newSink(t testing.TB, addr string, tlsCfg *tls.Config, dsn bool) *sink {
	t.Helper()
	return newSinkWith(t, addr, tlsCfg, dsn, nil)
}

// newSinkWith is newSink whose server configure adjusts before it serves.
func newSinkWith(t testing.TB, addr string, tlsCfg *tls.Config, dsn bool, configure func(*gosmtp.Server)) *sink {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("sink listen %s: %v", addr, err)
	}
	s := &sink{t: t, addr: ln.Addr().String(), closed: make(chan struct{})}
	srv := gosmtp.NewServer(sinkBackend{s})
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.EnableDSN = dsn
	srv.TLSConfig = tlsCfg
	if configure != nil {
		configure(srv)
	}
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		close(s.closed)
		_ = srv.Close()
	})
	return s
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

func (s *sink) all() []sinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMessage(nil), s.messages...)
}

// countWith counts accepted messages containing needle.
func (s *sink) countWith(needle string) int {
	n := 0
	for _, m := range s.all() {
		if strings.Contains(string(m.Data), needle) {
			n++
		}
	}
	return n
}

type sinkBackend struct{ s *sink }

func (b sinkBackend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	b.s.mu.Lock()
	b.s.sessions++
	b.s.mu.Unlock()
	_, isTLS := c.TLSConnectionState()
	return &sinkSession{s: b.s, tls: isTLS, notify: map[string][]gosmtp.DSNNotify{}}, nil
}

type sinkSession struct {
	s      *sink
	tls    bool
	user   string
	from   string
	rcpts  []string
	notify map[string][]gosmtp.DSNNotify
	reqTLS bool
}

func (ss *sinkSession) AuthMechanisms() []string {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.logins == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ss.s.mu.Lock()
		defer ss.s.mu.Unlock()
		if want, ok := ss.s.logins[user]; !ok || want != pass {
			return &gosmtp.SMTPError{Code: 535, EnhancedCode: gosmtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, opts *gosmtp.MailOptions) error {
	ss.s.mu.Lock()
	needAuth := ss.s.logins != nil
	ss.s.mu.Unlock()
	if needAuth && ss.user == "" {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	ss.from, ss.rcpts = from, nil
	ss.reqTLS = opts != nil && opts.RequireTLS
	return nil
}

func (ss *sinkSession) Rcpt(to string, opts *gosmtp.RcptOptions) error {
	ss.s.mu.Lock()
	hook := ss.s.rcptHook
	ss.s.mu.Unlock()
	if hook != nil {
		if err := hook(to); err != nil {
			return err
		}
	} else if strings.HasPrefix(strings.ToLower(to), "reject-") {
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	ss.rcpts = append(ss.rcpts, to)
	if opts != nil {
		ss.notify[to] = opts.Notify
	}
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	started, gate, hook, n := ss.s.dataStarted, ss.s.dataGate, ss.s.dataHook, len(ss.s.messages)
	ss.s.mu.Unlock()
	if started != nil {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ss.s.closed:
			return errTempFail
		}
	}
	if hook != nil {
		if err := hook(n); err != nil {
			return err
		}
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, sinkMessage{From: ss.from, Rcpts: ss.rcpts, Data: data, TLS: ss.tls, Notify: ss.notify, User: ss.user, RequireTLS: ss.reqTLS})
	ss.s.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.rcpts = "", nil }
func (ss *sinkSession) Logout() error { return nil }

var errTempFail = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}

func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	protocoltest.WaitFor(t, d, what, cond)
}

var errSentinel = errors.New("sentinel")
