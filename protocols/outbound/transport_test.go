package outbound

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// fakeResolver answers from maps and counts look-ups; it never touches
// the network.
type fakeResolver struct {
	mu    sync.Mutex
	mx    map[string][]*net.MX
	mxErr map[string]error
	hosts map[string][]string
	asked []string
}

func (f *fakeResolver) LookupMX(_ context.Context, d string) ([]*net.MX, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "MX "+d)
	if err := f.mxErr[d]; err != nil {
		return nil, err
	}
	if mx, ok := f.mx[d]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: d, IsNotFound: true}
}

func (f *fakeResolver) LookupHost(_ context.Context, h string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, "A "+h)
	if a, ok := f.hosts[h]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: h, IsNotFound: true}
}

func (f *fakeResolver) LookupTXT(context.Context, string) ([]string, error) {
	return nil, dns.ErrDisabled
}
func (f *fakeResolver) LookupAddr(context.Context, string) ([]string, error) {
	return nil, dns.ErrDisabled
}
func (f *fakeResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	return nil, dns.ErrDisabled
}
func (f *fakeResolver) LookupTLSA(context.Context, string) ([]dns.TLSA, bool, error) {
	return nil, false, dns.ErrDisabled
}
func (f *fakeResolver) Lookup(context.Context, string, uint16) (dns.Answer, error) {
	return dns.Answer{}, dns.ErrDisabled
}

// sinksOnOnePort starts sinks on 127.0.0.1, 127.0.0.2, ... sharing one
// port (MX hosts share the SMTP port; Linux routes all of 127/8 to lo).
func sinksOnOnePort(t *testing.T, n int) ([]*sink, int) {
	t.Helper()
	for try := 0; try < 20; try++ {
		first := newSink(t, "127.0.0.1:0", nil, false)
		_, p, _ := net.SplitHostPort(first.addr)
		port, _ := strconv.Atoi(p)
		out := []*sink{first}
		ok := true
		for i := 2; i <= n; i++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0."+strconv.Itoa(i), p))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
			out = append(out, newSink(t, net.JoinHostPort("127.0.0."+strconv.Itoa(i), p), nil, false))
		}
		if ok {
			return out, port
		}
	}
	t.Skip("cannot bind 127.0.0.x on one port here")
	return nil, 0
}

func env1(rcpts ...string) Envelope {
	e := Envelope{From: "alice@example.test", Body: []byte("Subject: t\r\n\r\nhello\r\n")}
	for _, r := range rcpts {
		e.Recipients = append(e.Recipients, Recipient{Address: r})
	}
	return e
}

func TestMXPreferenceAndFallback(t *testing.T) {
	sinks, port := sinksOnOnePort(t, 2)
	r := &fakeResolver{
		mx: map[string][]*net.MX{
			"pref.test": {{Host: "mx-b.pref.test.", Pref: 20}, {Host: "mx-a.pref.test.", Pref: 10}},
			// The preferred host has no listener: the next one is tried.
			"down.test": {{Host: "mx-down.test.", Pref: 5}, {Host: "mx-b.pref.test.", Pref: 50}},
		},
		hosts: map[string][]string{
			"mx-a.pref.test": {"127.0.0.2"},
			"mx-b.pref.test": {"127.0.0.1"},
			"mx-down.test":   {"127.0.0.9"},
			"amx.test":       {"127.0.0.1"}, // no MX: implicit MX
		},
	}
	tr := &Transport{Resolver: r, Port: port, AllowPrivate: true, Hostname: "mx.example.test", DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second}
	ctx := context.Background()

	a := tr.Deliver(ctx, "pref.test", env1("u@pref.test"))
	if got := a.Results["u@pref.test"]; got.Class != Delivered {
		t.Fatalf("pref.test: %+v", got)
	}
	if sinks[1].count() != 1 || sinks[0].count() != 0 {
		t.Fatalf("preference 10 (127.0.0.2) should get it: %d at .1, %d at .2", sinks[0].count(), sinks[1].count())
	}
	if a.RemoteMTA != "127.0.0.2" {
		t.Errorf("RemoteMTA %q", a.RemoteMTA)
	}

	a = tr.Deliver(ctx, "down.test", env1("u@down.test"))
	if got := a.Results["u@down.test"]; got.Class != Delivered || sinks[0].count() != 1 {
		t.Fatalf("down.test: %+v, %d at the fallback", got, sinks[0].count())
	}

	a = tr.Deliver(ctx, "amx.test", env1("u@amx.test"))
	if got := a.Results["u@amx.test"]; got.Class != Delivered || sinks[0].count() != 2 {
		t.Fatalf("implicit MX: %+v", got)
	}
}

func TestMXNoRoute(t *testing.T) {
	r := &fakeResolver{
		mx: map[string][]*net.MX{
			"null.test":   {{Host: ".", Pref: 0}},
			"noaddr.test": {{Host: "mx.noaddr.test.", Pref: 10}},
		},
		mxErr: map[string]error{"flaky.test": &net.DNSError{Err: "server misbehaving", Name: "flaky.test", IsTemporary: true}},
	}
	tr := &Transport{Resolver: r, Port: 1, AllowPrivate: true, DialTimeout: time.Second}
	cases := []struct {
		domain string
		class  Class
		status string
	}{
		{"null.test", Permanent, "5.1.10"}, // RFC 7505
		{"flaky.test", Temporary, "4.4.3"},
		{"nxdomain.test", Permanent, "5.1.2"},
		{"noaddr.test", Temporary, "4.4.3"},
	}
	for _, c := range cases {
		a := tr.Deliver(context.Background(), c.domain, env1("u@"+c.domain))
		got := a.Results["u@"+c.domain]
		if got.Class != c.class || got.Status != c.status {
			t.Errorf("%s: %+v, want %v %s", c.domain, got, c.class, c.status)
		}
	}
	// DNS disabled and no smarthost: temporary, with a clear reason.
	none := &Transport{Resolver: dns.None{}}
	got := none.Deliver(context.Background(), "remote.test", env1("u@remote.test")).Results["u@remote.test"]
	if got.Class != Temporary || !strings.Contains(got.Reply, "--resolver none") {
		t.Fatalf("resolver none: %+v", got)
	}
}

func TestSmarthostPerRecipient(t *testing.T) {
	s := newSink(t, "", nil, true)
	tr := &Transport{Smarthost: s.addr, SmarthostTLS: TLSNone, Resolver: dns.None{}, DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second}
	e := env1("ok@remote.test", "reject-me@remote.test")
	e.Recipients[0].Notify = notifySuccess | notifyFailure
	e.Recipients[0].ORCPT = "rfc822;ok@remote.test"
	a := tr.Deliver(context.Background(), "remote.test", e)
	if r := a.Results["ok@remote.test"]; r.Class != Delivered {
		t.Errorf("ok: %+v", r)
	}
	if r := a.Results["reject-me@remote.test"]; r.Class != Permanent || r.Status != "5.1.1" || !strings.HasPrefix(r.Reply, "550") {
		t.Errorf("reject: %+v", r)
	}
	if !a.DSN {
		t.Error("sink advertises DSN; attempt says not")
	}
	msgs := s.all()
	if len(msgs) != 1 || len(msgs[0].Rcpts) != 1 {
		t.Fatalf("sink got %+v", msgs)
	}
	if n := msgs[0].Notify["ok@remote.test"]; len(n) != 2 {
		t.Errorf("NOTIFY passed on as %v", n)
	}

	// Every recipient refused: no DATA at all.
	a = tr.Deliver(context.Background(), "remote.test", env1("reject-a@remote.test"))
	if a.Results["reject-a@remote.test"].Class != Permanent || s.count() != 1 {
		t.Fatalf("all refused: %+v, %d messages", a.Results, s.count())
	}
	// 4xx after DATA: temporary for the accepted recipients.
	s.mu.Lock()
	s.dataHook = func(int) error { return errTempFail }
	s.mu.Unlock()
	a = tr.Deliver(context.Background(), "remote.test", env1("x@remote.test"))
	if r := a.Results["x@remote.test"]; r.Class != Temporary || !strings.HasPrefix(r.Reply, "451") {
		t.Fatalf("4xx at DATA: %+v", r)
	}
	// Nobody listening: temporary.
	down := &Transport{Smarthost: "127.0.0.1:1", SmarthostTLS: TLSNone, DialTimeout: time.Second}
	if r := down.Deliver(context.Background(), "x", env1("x@remote.test")).Results["x@remote.test"]; r.Class != Temporary {
		t.Fatalf("no listener: %+v", r)
	}
}

// STARTTLS is used when offered (opportunistically: a self-signed
// certificate is fine for MX).
func TestOpportunisticSTARTTLS(t *testing.T) {
	cfg, err := tlsconf.Server(tlsconf.Options{DataDir: t.TempDir(), Hostnames: []string{"sink.test"}})
	if err != nil {
		t.Fatal(err)
	}
	s := newSink(t, "", cfg, false)
	_, p, _ := net.SplitHostPort(s.addr)
	port, _ := strconv.Atoi(p)
	r := &fakeResolver{hosts: map[string][]string{"tls.test": {"127.0.0.1"}}}
	tr := &Transport{Resolver: r, Port: port, AllowPrivate: true, DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second}
	a := tr.Deliver(context.Background(), "tls.test", env1("u@tls.test"))
	if r := a.Results["u@tls.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if m := s.all(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("not delivered over TLS: %+v", m)
	}
}

// Cancelling the attempt (lost leadership) cuts the connection at once.
func TestAttemptCancelled(t *testing.T) {
	s := newSink(t, "", nil, false)
	s.dataGate = make(chan struct{})
	s.dataStarted = make(chan struct{}, 1)
	defer close(s.dataGate)
	tr := &Transport{Smarthost: s.addr, SmarthostTLS: TLSNone, DialTimeout: time.Second, CommandTimeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-s.dataStarted
		cancel()
	}()
	start := time.Now()
	a := tr.Deliver(ctx, "x", env1("x@remote.test"))
	if r := a.Results["x@remote.test"]; r.Class != Temporary {
		t.Fatalf("%+v", r)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v to give up", d)
	}
}

// MX results on loopback, private or link-local addresses are not
// connected to unless allowed; a domain with nothing else bounces 5.4.4.
func TestMXPrivateAddressesRefused(t *testing.T) {
	s := newSink(t, "", nil, false)
	_, p, _ := net.SplitHostPort(s.addr)
	port, _ := strconv.Atoi(p)
	r := &fakeResolver{
		mx: map[string][]*net.MX{"inside.test": {{Host: "mx.inside.test.", Pref: 10}}, "mixed.test": {{Host: "mx.mixed.test.", Pref: 10}}},
		hosts: map[string][]string{
			"mx.inside.test": {"127.0.0.1", "10.1.2.3", "fe80::1", "::ffff:192.168.1.1"},
			"mx.mixed.test":  {"169.254.0.1", "192.0.2.7", "100.64.0.1"},
		},
	}
	tr := &Transport{Resolver: r, Port: port, DialTimeout: time.Second, CommandTimeout: 5 * time.Second}
	got := tr.Deliver(context.Background(), "inside.test", env1("u@inside.test")).Results["u@inside.test"]
	if got.Class != Permanent || got.Status != "5.4.4" || !strings.Contains(got.Reply, "--allow-private-mx") {
		t.Fatalf("private-only MX: %+v", got)
	}
	if s.count() != 0 {
		t.Fatal("delivered to a loopback MX")
	}
	hosts, res := tr.route(context.Background(), "mixed.test")
	if res != nil || len(hosts) != 1 || hosts[0] != net.JoinHostPort("192.0.2.7", p) {
		t.Fatalf("mixed: hosts %v, result %+v", hosts, res)
	}
	tr.AllowPrivate = true
	if got := tr.Deliver(context.Background(), "inside.test", env1("u@inside.test")).Results["u@inside.test"]; got.Class != Delivered {
		t.Fatalf("allowed: %+v", got)
	}
}
