package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
)

// testCA is a private certificate authority for a smarthost on loopback.
type testCA struct {
	*pkitest.CA
	pool *x509.CertPool
}

func newTestCA(t *testing.T, name string) *testCA {
	ca := pkitest.NewCA(t, name)
	return &testCA{CA: ca, pool: ca.Pool}
}

// serverTLS is a server configuration whose certificate the CA issued for
// 127.0.0.1 and relay.test.
func (ca *testCA) serverTLS(t *testing.T) *tls.Config {
	return pkitest.ServerTLS(ca.issue(t))
}

func (ca *testCA) issue(t *testing.T) tls.Certificate {
	return ca.Issue(t, pkitest.Options{Names: []string{"relay.test"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})
}

func smarthostTransport(addr string, mode TLSMode, ca *x509.CertPool) *Transport {
	return &Transport{Smarthost: addr, SmarthostTLS: mode, SmarthostCA: ca, Resolver: dns.None{},
		DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second}
}

// The default, verify: STARTTLS with a certificate from the trusted CA
// delivers; a certificate from another CA, or no STARTTLS at all, is a
// temporary failure and nothing reaches the smarthost in plaintext.
func TestSmarthostTLSVerify(t *testing.T) {
	ca := newTestCA(t, "Relay CA")
	s := newSink(t, "", ca.serverTLS(t), false)
	const rcpt = "dave@remote.test"

	a := smarthostTransport(s.addr, TLSVerify, ca.pool).Deliver(context.Background(), "remote.test", env1(rcpt))
	if r := a.Results[rcpt]; r.Class != Delivered {
		t.Fatalf("trusted CA: %+v", r)
	}
	if a.TLS.State != TLSVerified || !strings.HasPrefix(a.TLS.Version, "TLS 1.") || a.TLS.Cipher == "" {
		t.Errorf("trusted CA: TLS outcome %+v", a.TLS)
	}
	if m := s.all(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("trusted CA: sink got %+v", m)
	}

	other := newTestCA(t, "Someone else's CA")
	for name, tr := range map[string]*Transport{
		"wrong CA":     smarthostTransport(s.addr, TLSVerify, other.pool),
		"system roots": smarthostTransport(s.addr, TLSVerify, nil),
	} {
		a := tr.Deliver(context.Background(), "remote.test", env1(rcpt))
		r := a.Results[rcpt]
		if r.Class != Temporary || r.Status != "4.7.5" || !strings.Contains(r.Reply, "certificate") {
			t.Errorf("%s: %+v, want a temporary 4.7.5 certificate failure", name, r)
		}
		if a.TLS.State != TLSFailed {
			t.Errorf("%s: TLS outcome %+v", name, a.TLS)
		}
	}
	if n := s.count(); n != 1 {
		t.Fatalf("after failed verifications the sink holds %d messages, want 1", n)
	}
}

// verify and starttls both require STARTTLS: a smarthost that does not
// offer it gets nothing (no silent downgrade).
func TestSmarthostTLSRequired(t *testing.T) {
	plain := newSink(t, "", nil, false)
	for _, mode := range []TLSMode{TLSVerify, TLSStartTLS} {
		const rcpt = "dave@remote.test"
		a := smarthostTransport(plain.addr, mode, nil).Deliver(context.Background(), "remote.test", env1(rcpt))
		if r := a.Results[rcpt]; r.Class != Temporary || r.Status != "4.7.4" || !strings.Contains(r.Reply, "does not offer STARTTLS") {
			t.Errorf("%v: %+v", mode, r)
		}
		if a.TLS.State != TLSFailed {
			t.Errorf("%v: TLS outcome %+v", mode, a.TLS)
		}
	}
	if n := plain.count(); n != 0 {
		t.Fatalf("a plaintext smarthost received %d messages", n)
	}
	// none is the explicit choice of plaintext.
	a := smarthostTransport(plain.addr, TLSNone, nil).Deliver(context.Background(), "remote.test", env1("x@remote.test"))
	if a.Results["x@remote.test"].Class != Delivered || a.TLS.State != TLSPlaintext {
		t.Fatalf("none: %+v, TLS %+v", a.Results, a.TLS)
	}
}

// starttls encrypts without checking the certificate; none never starts
// TLS even when offered.
func TestSmarthostTLSUnverifiedAndNone(t *testing.T) {
	ca := newTestCA(t, "Unknown CA")
	s := newSink(t, "", ca.serverTLS(t), false)
	a := smarthostTransport(s.addr, TLSStartTLS, nil).Deliver(context.Background(), "remote.test", env1("a@remote.test"))
	if a.Results["a@remote.test"].Class != Delivered || a.TLS.State != TLSUnverified || a.TLS.Version == "" {
		t.Fatalf("starttls: %+v, TLS %+v", a.Results, a.TLS)
	}
	a = smarthostTransport(s.addr, TLSNone, nil).Deliver(context.Background(), "remote.test", env1("b@remote.test"))
	if a.Results["b@remote.test"].Class != Delivered || a.TLS.State != TLSPlaintext {
		t.Fatalf("none: %+v, TLS %+v", a.Results, a.TLS)
	}
	if m := s.all(); len(m) != 2 || !m[0].TLS || m[1].TLS {
		t.Fatalf("sink got %+v", m)
	}
}

// AUTH PLAIN after TLS; refused credentials and a smarthost without AUTH
// are temporary (the mail is not bounced for the operator's mistake).
func TestSmarthostAuth(t *testing.T) {
	ca := newTestCA(t, "Relay CA")
	s := newSink(t, "", ca.serverTLS(t), false)
	s.mu.Lock()
	s.logins = map[string]string{"relay-user": "relay secret"}
	s.mu.Unlock()
	tr := smarthostTransport(s.addr, TLSVerify, ca.pool)

	a := tr.Deliver(context.Background(), "remote.test", env1("a@remote.test"))
	if r := a.Results["a@remote.test"]; !strings.HasPrefix(r.Reply, "530") {
		t.Fatalf("without credentials: %+v", r)
	}
	tr.SmarthostAuth = &Credentials{Username: "relay-user", Password: "wrong"}
	a = tr.Deliver(context.Background(), "remote.test", env1("b@remote.test"))
	if r := a.Results["b@remote.test"]; r.Class != Temporary || r.Status != "4.7.8" || !strings.Contains(r.Reply, "535") {
		t.Fatalf("wrong password: %+v", r)
	}
	tr.SmarthostAuth.Password = "relay secret"
	a = tr.Deliver(context.Background(), "remote.test", env1("c@remote.test"))
	if r := a.Results["c@remote.test"]; r.Class != Delivered {
		t.Fatalf("right password: %+v", r)
	}
	if m := s.all(); len(m) != 1 || m[0].User != "relay-user" || !m[0].TLS {
		t.Fatalf("sink got %+v", m)
	}

	noAuth := newSink(t, "", ca.serverTLS(t), false)
	tr.Smarthost = noAuth.addr
	a = tr.Deliver(context.Background(), "remote.test", env1("d@remote.test"))
	if r := a.Results["d@remote.test"]; r.Class != Temporary || !strings.Contains(r.Reply, "does not offer AUTH") {
		t.Fatalf("smarthost without AUTH: %+v", r)
	}
	if noAuth.count() != 0 {
		t.Fatal("mail sent without the configured login")
	}
}

// Through the worker: a smarthost whose certificate does not verify keeps
// the message queued (AttemptFailed, 4.7.5), counts the failure, and the
// message goes out once the smarthost presents a trusted certificate.
func TestSmarthostTLSFailureStaysQueued(t *testing.T) {
	trusted := newTestCA(t, "Relay CA")
	wrong := newTestCA(t, "Someone else's CA")
	var cert atomic.Pointer[tls.Certificate]
	bad, good := wrong.issue(t), trusted.issue(t)
	cert.Store(&bad)
	s := newSink(t, "", &tls.Config{MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert.Load(), nil }}, false)
	c := startClusterWith(t, 1, time.Hour, s, func(addr string) *Transport {
		return smarthostTransport(addr, TLSVerify, trusted.pool)
	}, nil)
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"dave@remote.test"}, message("tls please"))
	waitUntil(t, 10*time.Second, "the failed attempt recorded", func() bool {
		q, err := l.Store.QueueEntry(id)
		return err == nil && q.GetAttempts() >= 1
	})
	q, err := l.Store.QueueEntry(id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(q.GetLastReply(), "4.7.5") || s.count() != 0 {
		t.Fatalf("queue entry %v; sink holds %d", q, s.count())
	}
	// The smarthost's certificate is fixed: the next attempt delivers.
	cert.Store(&good)
	c.waitGone(id, 15*time.Second)
	if s.countWith("tls-please@") != 1 {
		t.Fatalf("sink holds %d copies", s.countWith("tls-please@"))
	}
}

func TestTLSMetrics(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.observeTLS(TLSOutcome{State: TLSFailed})
	m.observeTLS(TLSOutcome{State: TLSVerified})
	m.observeTLS(TLSOutcome{State: TLSVerified})
	m.observeTLS(TLSOutcome{})
	if v := testutil.ToFloat64(m.tls.WithLabelValues(TLSVerified)); v != 2 {
		t.Errorf("verified %v", v)
	}
	if v := testutil.ToFloat64(m.tls.WithLabelValues(TLSFailed)); v != 1 {
		t.Errorf("failed %v", v)
	}
}

func TestParseTLSMode(t *testing.T) {
	for in, want := range map[string]TLSMode{"verify": TLSVerify, "STARTTLS": TLSStartTLS, "none": TLSNone} {
		if got, err := ParseTLSMode(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	if _, err := ParseTLSMode("may"); err == nil {
		t.Error("accepted may")
	}
}
