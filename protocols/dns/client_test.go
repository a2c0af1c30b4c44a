package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	miekg "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

// spfResolver is blitiri.com.ar/go/spf v1.6.0's DNSResolver, copied from
// its source (spf.go), so that every Resolver is known to fit it.
type spfResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) (names []string, err error)
}

var (
	_ spfResolver = (*Client)(nil)
	_ spfResolver = None{}
	_ spfResolver = System{}
	_ Resolver    = (*Client)(nil)
	_ Resolver    = None{}
	_ Resolver    = System{}
)

// clock is a settable clock for cache expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClient(t *testing.T, srv *dnstest.Server, o Options) (*Client, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	if o.Now == nil {
		o.Now = clk.Now
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	c, err := NewWithOptions(srv.Addr(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLookups(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("example.test", "MX", "20 b.example.test.")
	srv.Add("example.test", "MX", "10 a.example.test.")
	srv.Add("null.test", "MX", "0 .")
	srv.Add("example.test", "TXT", "v=spf1 -all")
	long := "v=DKIM1; k=rsa; p=" + strings.Repeat("A", 400)
	srv.Add("sel._domainkey.example.test", "TXT", long)
	srv.AddTXT("odd.example.test", `quote " backslash \ `, "bytes \x00\xff end")
	srv.Add("a.example.test", "A", "192.0.2.1")
	srv.Add("a.example.test", "A", "192.0.2.2")
	srv.Add("a.example.test", "AAAA", "2001:db8::1")
	srv.Add("v6.example.test", "AAAA", "2001:db8::2")
	srv.Add("192.0.2.1", "PTR", "a.example.test.")
	srv.Add("2001:db8::1", "PTR", "a.example.test.")
	srv.Add("_25._tcp.a.example.test", "TLSA", "3 1 1 0011ff")
	srv.Add("xn--bcher-kva.test", "A", "192.0.2.9")
	c, _ := newClient(t, srv, Options{})
	ctx := testCtx(t)

	tests := []struct {
		name string
		do   func() (any, error)
		want string
	}{
		{"MX in preference order", func() (any, error) { return c.LookupMX(ctx, "example.test") }, "[10 a.example.test. 20 b.example.test.]"},
		{"MX absolute name", func() (any, error) { return c.LookupMX(ctx, "Example.Test.") }, "[10 a.example.test. 20 b.example.test.]"},
		{"null MX", func() (any, error) { return c.LookupMX(ctx, "null.test") }, "[0 .]"},
		{"TXT", func() (any, error) { return c.LookupTXT(ctx, "example.test") }, "[v=spf1 -all]"},
		{"TXT strings joined", func() (any, error) { return c.LookupTXT(ctx, "sel._domainkey.example.test") }, "[" + long + "]"},
		{"TXT raw bytes", func() (any, error) { return c.LookupTXT(ctx, "odd.example.test") }, "[quote \" backslash \\ bytes \x00\xff end]"},
		{"LookupHost", func() (any, error) { return c.LookupHost(ctx, "a.example.test") }, "[192.0.2.1 192.0.2.2 2001:db8::1]"},
		{"LookupHost IPv6 only", func() (any, error) { return c.LookupHost(ctx, "v6.example.test") }, "[2001:db8::2]"},
		{"LookupHost IP", func() (any, error) { return c.LookupHost(ctx, "192.0.2.7") }, "[192.0.2.7]"},
		{"LookupIPAddr", func() (any, error) { return c.LookupIPAddr(ctx, "a.example.test") }, "[192.0.2.1 192.0.2.2 2001:db8::1]"},
		{"LookupIPAddr IP", func() (any, error) { return c.LookupIPAddr(ctx, "2001:db8::5") }, "[2001:db8::5]"},
		{"U-label sent as A-label", func() (any, error) { return c.LookupHost(ctx, "bücher.test") }, "[192.0.2.9]"},
		{"PTR v4", func() (any, error) { return c.LookupAddr(ctx, "192.0.2.1") }, "[a.example.test.]"},
		{"PTR v6", func() (any, error) { return c.LookupAddr(ctx, "2001:db8::1") }, "[a.example.test.]"},
		{"TLSA", func() (any, error) {
			r, secure, err := c.LookupTLSA(ctx, "_25._tcp.a.example.test")
			return fmt.Sprint(r, secure), err
		}, "[3 1 1 0011ff] false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.do()
			if err != nil {
				t.Fatal(err)
			}
			s := fmt.Sprint(got)
			if mx, ok := got.([]*net.MX); ok {
				var parts []string
				for _, m := range mx {
					parts = append(parts, fmt.Sprint(m.Pref, " ", m.Host))
				}
				s = "[" + strings.Join(parts, " ") + "]"
			}
			if ips, ok := got.([]net.IPAddr); ok {
				var parts []string
				for _, ip := range ips {
					parts = append(parts, ip.String())
				}
				s = "[" + strings.Join(parts, " ") + "]"
			}
			if s != tc.want {
				t.Errorf("got %q, want %q", s, tc.want)
			}
		})
	}
}

// The classification blitiri.com.ar/go/spf and go-msgauth rely on: a bare
// *net.DNSError (they use a type assertion), IsNotFound for NXDOMAIN and
// NODATA, Temporary() for everything else.
func TestErrorClassification(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("example.test", "A", "192.0.2.1")
	srv.Add("fail.test", "TXT", "x")
	srv.ServFail("fail.test")
	srv.Refuse("refused.test")
	srv.Drop("silent.test")
	c, _ := newClient(t, srv, Options{Timeout: 100 * time.Millisecond, Attempts: 2})
	ctx := testCtx(t)

	tests := []struct {
		name, qname string
		lookup      func(string) error
		cause       error
		notFound    bool
		timeout     bool
	}{
		{"NXDOMAIN", "missing.test", func(n string) error { _, err := c.LookupTXT(ctx, n); return err }, ErrNXDomain, true, false},
		{"NODATA", "example.test", func(n string) error { _, err := c.LookupTXT(ctx, n); return err }, ErrNoData, true, false},
		{"NODATA MX", "example.test", func(n string) error { _, err := c.LookupMX(ctx, n); return err }, ErrNoData, true, false},
		{"SERVFAIL", "fail.test", func(n string) error { _, err := c.LookupTXT(ctx, n); return err }, ErrServFail, false, false},
		{"REFUSED", "refused.test", func(n string) error { _, err := c.LookupMX(ctx, n); return err }, ErrRefused, false, false},
		{"timeout", "silent.test", func(n string) error { _, err := c.LookupTXT(ctx, n); return err }, ErrTimeout, false, true},
		{"SERVFAIL address", "fail.test", func(n string) error { _, err := c.LookupIPAddr(ctx, n); return err }, ErrServFail, false, false},
		{"bad name", "a b.test", func(n string) error { _, err := c.LookupTXT(ctx, n); return err }, ErrNXDomain, true, false},
		{"empty name", "", func(n string) error { _, err := c.LookupTXT(ctx, n); return err }, ErrNXDomain, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.lookup(tc.qname)
			de, ok := err.(*net.DNSError)
			if !ok {
				t.Fatalf("error %T %v, want a bare *net.DNSError", err, err)
			}
			if !errors.Is(err, tc.cause) {
				t.Errorf("error %v does not unwrap to %v", err, tc.cause)
			}
			if de.IsNotFound != tc.notFound || de.Temporary() == tc.notFound || de.IsTimeout != tc.timeout {
				t.Errorf("%v: IsNotFound=%v Temporary()=%v IsTimeout=%v", err, de.IsNotFound, de.Temporary(), de.IsTimeout)
			}
			if de.Name != tc.qname {
				t.Errorf("Name = %q, want %q", de.Name, tc.qname)
			}
		})
	}
	if n := srv.Count("silent.test", "TXT"); n != 2 {
		t.Errorf("the silent server was asked %d times, want Attempts=2", n)
	}
}

// One family failing: LookupIPAddr (SPF) reports the failure, LookupHost
// (delivery) returns the addresses it found.
func TestHalfFailedAddresses(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("mx.test", "A", "192.0.2.3")
	srv.Add("mx.test", "AAAA", "2001:db8::3")
	srv.Add("v4only.test", "A", "192.0.2.4")
	srv.ServFail("mx.test", "AAAA")
	c, _ := newClient(t, srv, Options{})
	ctx := testCtx(t)
	if got, err := c.LookupHost(ctx, "mx.test"); err != nil || fmt.Sprint(got) != "[192.0.2.3]" {
		t.Errorf("LookupHost = %v, %v; want the IPv4 address", got, err)
	}
	if got, err := c.LookupIPAddr(ctx, "mx.test"); err == nil || !err.(*net.DNSError).Temporary() {
		t.Errorf("LookupIPAddr = %v, %v; want a temporary error", got, err)
	}
	// NODATA for one family is no failure.
	if got, err := c.LookupIPAddr(ctx, "v4only.test"); err != nil || len(got) != 1 {
		t.Errorf("LookupIPAddr(v4only) = %v, %v", got, err)
	}
	srv.ServFail("mx.test")
	if _, err := c.LookupHost(Fresh(ctx), "mx.test"); err == nil || !err.(*net.DNSError).Temporary() {
		t.Errorf("LookupHost with both failing: %v", err)
	}
	if _, err := c.LookupHost(ctx, "nothing.test"); !errors.Is(err, ErrNXDomain) {
		t.Errorf("LookupHost(nothing.test): %v", err)
	}
}

func TestCache(t *testing.T) {
	srv := dnstest.Start(t)
	srv.SetTTL(60)
	srv.SetNegativeTTL(10)
	srv.Add("example.test", "TXT", "one")
	srv.Add("example.test", "A", "192.0.2.1")
	srv.Add("www.example.test", "CNAME", "example.test.")
	srv.Add("fail.test", "TXT", "x")
	srv.ServFail("fail.test")
	ctx := testCtx(t)

	type step struct {
		advance   time.Duration
		name, typ string
		asked     int // queries the server saw for name/typ so far
	}
	tests := []struct {
		name  string
		opts  Options
		steps []step
	}{
		{"hit within TTL, asked again after", Options{}, []step{
			{0, "example.test", "TXT", 1},
			{59 * time.Second, "example.test", "TXT", 1},
			{time.Second, "example.test", "TXT", 2},
			{30 * time.Second, "example.test", "TXT", 2},
		}},
		{"MaxTTL caps the record TTL", Options{MaxTTL: 5 * time.Second}, []step{
			{0, "example.test", "TXT", 1},
			{4 * time.Second, "example.test", "TXT", 1},
			{time.Second, "example.test", "TXT", 2},
		}},
		{"NXDOMAIN cached by SOA minimum", Options{}, []step{
			{0, "missing.test", "TXT", 1},
			{9 * time.Second, "missing.test", "TXT", 1},
			{time.Second, "missing.test", "TXT", 2},
		}},
		{"NODATA cached by SOA minimum", Options{}, []step{
			{0, "example.test", "MX", 1},
			{9 * time.Second, "example.test", "MX", 1},
			{time.Second, "example.test", "MX", 2},
		}},
		{"MaxNegativeTTL caps it", Options{MaxNegativeTTL: 2 * time.Second}, []step{
			{0, "missing.test", "TXT", 1},
			{time.Second, "missing.test", "TXT", 1},
			{time.Second, "missing.test", "TXT", 2},
		}},
		{"SERVFAIL never cached", Options{}, []step{
			{0, "fail.test", "TXT", 1},
			{0, "fail.test", "TXT", 2},
		}},
		{"CNAME answer cached under the asked name", Options{}, []step{
			{0, "www.example.test", "A", 1},
			{30 * time.Second, "www.example.test", "A", 1},
			{30 * time.Second, "www.example.test", "A", 2},
		}},
		{"no cache", Options{CacheEntries: -1}, []step{
			{0, "example.test", "TXT", 1},
			{0, "example.test", "TXT", 2},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetAsked()
			c, clk := newClient(t, srv, tc.opts)
			for i, s := range tc.steps {
				clk.Advance(s.advance)
				_, _ = c.Lookup(ctx, s.name, miekg.StringToType[s.typ])
				if got := srv.Count(s.name, s.typ); got != s.asked {
					t.Fatalf("step %d (%s %s at +%v): server asked %d times, want %d", i, s.typ, s.name, s.advance, got, s.asked)
				}
			}
		})
	}
}

func TestCacheAnswersStayRight(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("example.test", "TXT", "one")
	c, clk := newClient(t, srv, Options{CacheEntries: 2})
	ctx := testCtx(t)
	get := func(name string) string {
		t.Helper()
		txt, err := c.LookupTXT(ctx, name)
		if err != nil {
			var de *net.DNSError
			if errors.As(err, &de) && de.IsNotFound {
				return "notfound"
			}
			t.Fatal(err)
		}
		return strings.Join(txt, ",")
	}
	if got := get("example.test"); got != "one" {
		t.Fatal(got)
	}
	srv.Remove("example.test", "TXT")
	srv.Add("example.test", "TXT", "two")
	if got := get("example.test"); got != "one" {
		t.Errorf("within TTL: %q, want the cached one", got)
	}
	if got, _ := c.LookupTXT(Fresh(ctx), "example.test"); fmt.Sprint(got) != "[two]" {
		t.Errorf("Fresh: %q", got)
	}
	if got := get("example.test"); got != "two" {
		t.Errorf("after Fresh: %q, want the refreshed answer", got)
	}
	// A cached not-found answer stays not-found, with its cause.
	if get("gone.test") != "notfound" {
		t.Fatal("gone.test found")
	}
	srv.Add("gone.test", "TXT", "here now")
	if _, err := c.LookupTXT(ctx, "gone.test"); !errors.Is(err, ErrNXDomain) || err.(*net.DNSError).Name != "gone.test" {
		t.Errorf("cached NXDOMAIN: %v", err)
	}
	clk.Advance(DefaultMaxNegativeTTL)
	if got := get("gone.test"); got != "here now" {
		t.Errorf("after the negative TTL: %q", got)
	}
	// The bound: three names in a cache of two.
	srv.Add("a.test", "TXT", "a")
	srv.Add("b.test", "TXT", "b")
	srv.ResetAsked()
	get("a.test")
	get("b.test")
	get("example.test") // least recently used of the three: evicted last
	if n := c.cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, bound 2", n)
	}
	get("a.test")
	if n := srv.Count("a.test", "TXT"); n != 2 {
		t.Errorf("a.test asked %d times, want 2 (evicted)", n)
	}
}

func TestZeroTTLNotCached(t *testing.T) {
	srv := dnstest.Start(t)
	srv.SetTTL(0)
	srv.Add("example.test", "TXT", "x")
	c, _ := newClient(t, srv, Options{})
	ctx := testCtx(t)
	for range 2 {
		if _, err := c.LookupTXT(ctx, "example.test"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Count("example.test", "TXT"); n != 2 {
		t.Errorf("TTL 0 answer asked %d times, want 2", n)
	}
}

func TestCNAME(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("www.example.test", "CNAME", "web.example.test.")
	srv.Add("web.example.test", "CNAME", "host.example.test.")
	srv.Add("host.example.test", "A", "192.0.2.10")
	srv.Add("host.example.test", "TXT", "hello")
	srv.Add("dangling.test", "CNAME", "nowhere.test.")
	srv.Add("loop1.test", "CNAME", "loop2.test.")
	srv.Add("loop2.test", "CNAME", "loop1.test.")
	ctx := testCtx(t)

	for _, chase := range []bool{true, false} {
		t.Run(fmt.Sprint("server chases ", chase), func(t *testing.T) {
			srv.SetChaseCNAME(chase)
			srv.ResetAsked()
			c, _ := newClient(t, srv, Options{})
			ans, err := c.Lookup(ctx, "WWW.example.test", miekg.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Name != "host.example.test." || len(ans.Records) != 1 || !ans.Records[0].(*miekg.A).A.Equal(net.ParseIP("192.0.2.10")) {
				t.Errorf("answer %+v", ans)
			}
			wantAsked := 1
			if !chase {
				wantAsked = 3 // www, web, host
			}
			if n := len(srv.Asked()); n != wantAsked {
				t.Errorf("%d queries, want %d: %v", n, wantAsked, srv.Asked())
			}
			if txt, err := c.LookupTXT(ctx, "www.example.test"); err != nil || fmt.Sprint(txt) != "[hello]" {
				t.Errorf("TXT through CNAMEs: %v %v", txt, err)
			}
			if _, err := c.LookupTXT(ctx, "dangling.test"); !errors.Is(err, ErrNXDomain) {
				t.Errorf("dangling CNAME: %v, want NXDOMAIN", err)
			}
			if _, err := c.LookupMX(ctx, "www.example.test"); !errors.Is(err, ErrNoData) {
				t.Errorf("CNAME to a name without MX: %v, want NODATA", err)
			}
			_, err = c.LookupTXT(ctx, "loop1.test")
			if de, ok := err.(*net.DNSError); !ok || !de.Temporary() || !errors.Is(err, ErrMisbehaving) {
				t.Errorf("CNAME loop: %v", err)
			}
		})
	}
}

// An answer too large for UDP comes back truncated, and the client gets all
// of it over TCP.
func TestTCPFallback(t *testing.T) {
	srv := dnstest.Start(t)
	var want []string
	for i := range 40 {
		v := fmt.Sprintf("record %02d %s", i, strings.Repeat("x", 60))
		srv.Add("big.test", "TXT", v)
		want = append(want, v)
	}
	c, _ := newClient(t, srv, Options{})
	got, err := c.LookupTXT(testCtx(t), "big.test")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %d records, want 40", len(got))
	}
	asked := srv.Asked()
	if len(asked) != 2 || asked[0].TCP || !asked[1].TCP {
		t.Errorf("queries %v, want one over UDP then one over TCP", asked)
	}
	if !asked[0].AD || asked[0].DO {
		t.Errorf("query flags %+v: want AD set, DO only when trusting AD", asked[0])
	}
}

func TestTLSASecure(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("_25._tcp.mx.example.test", "TLSA", "3 1 1 abcdef")
	srv.Add("_25._tcp.mx.unsigned.test", "TLSA", "3 1 1 abcdef")
	srv.Add("mx.example.test", "A", "192.0.2.1")
	srv.SetADFor("_25._tcp.mx.unsigned.test", false)
	ctx := testCtx(t)
	tests := []struct {
		name     string
		serverAD bool
		trust    bool
		qname    string
		secure   bool
		notFound bool
	}{
		{"AD from the server, not trusted", true, false, "_25._tcp.mx.example.test", false, false},
		{"AD from the server, trusted", true, true, "_25._tcp.mx.example.test", true, false},
		{"no AD, trusted", false, true, "_25._tcp.mx.example.test", false, false},
		{"AD for another zone only", true, true, "_25._tcp.mx.unsigned.test", false, false},
		{"authenticated denial", true, true, "_25._tcp.other.example.test", true, true},
		{"denial, not trusted", true, false, "_25._tcp.other.example.test", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetAD(tc.serverAD)
			srv.ResetAsked()
			c, _ := newClient(t, srv, Options{TrustAD: tc.trust})
			recs, secure, err := c.LookupTLSA(ctx, tc.qname)
			if tc.notFound {
				if de, ok := err.(*net.DNSError); !ok || !de.IsNotFound {
					t.Fatalf("err %v, want not found", err)
				}
			} else if err != nil || len(recs) != 1 || recs[0].String() != "3 1 1 abcdef" {
				t.Fatalf("records %v, err %v", recs, err)
			}
			if secure != tc.secure {
				t.Errorf("secure = %v, want %v", secure, tc.secure)
			}
			if q := srv.Asked()[0]; q.DO != tc.trust || !q.AD {
				t.Errorf("query flags %+v: DO must follow TrustAD, AD always set", q)
			}
		})
	}
	// Lookup reports the same for any type (DANE's MX and address sets).
	srv.SetAD(true)
	c, _ := newClient(t, srv, Options{TrustAD: true})
	if ans, err := c.Lookup(ctx, "mx.example.test", miekg.TypeA); err != nil || !ans.Secure {
		t.Errorf("Lookup A: %+v %v", ans, err)
	}
}

func TestContextCancel(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Drop("silent.test")
	c, _ := newClient(t, srv, Options{Timeout: 5 * time.Second, Attempts: 3})

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.LookupTXT(ctx, "silent.test")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("cancelled look-up took %v", took)
	}
	de, ok := err.(*net.DNSError)
	if !ok || !errors.Is(err, context.Canceled) || !de.Temporary() || de.IsNotFound {
		t.Errorf("cancelled: %#v", err)
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer dcancel()
	start = time.Now()
	_, err = c.LookupMX(dctx, "silent.test")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("look-up past its deadline took %v", took)
	}
	if de, ok := err.(*net.DNSError); !ok || !de.IsTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %#v", err)
	}
}

// Concurrent look-ups of one name share one query (and then the cache).
func TestConcurrentLookupsAskOnce(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("example.test", "TXT", "x")
	c, _ := newClient(t, srv, Options{})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if txt, err := c.LookupTXT(ctx, "example.test"); err != nil || len(txt) != 1 {
				t.Errorf("%v %v", txt, err)
			}
		}()
	}
	wg.Wait()
	if n := srv.Count("example.test", "TXT"); n != 1 {
		t.Errorf("server asked %d times, want 1", n)
	}
}

func TestMetrics(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Add("example.test", "TXT", "x")
	c, _ := newClient(t, srv, Options{})
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	for range 3 {
		_, _ = c.LookupTXT(ctx, "example.test")
	}
	_, _ = c.LookupTXT(ctx, "missing.test")
	if got := testutil.ToFloat64(c.metrics.cache.WithLabelValues("TXT", "hit")); got != 2 {
		t.Errorf("cache hits %v, want 2", got)
	}
	if got := testutil.ToFloat64(c.metrics.queries.WithLabelValues("TXT", "NXDOMAIN")); got != 1 {
		t.Errorf("NXDOMAIN queries %v, want 1", got)
	}
	if err := c.Register(reg); err == nil {
		t.Error("registering twice succeeded")
	}
}

func TestParseWithOptions(t *testing.T) {
	for _, v := range []string{"", "none", "system"} {
		if _, err := ParseWithOptions(v, Options{TrustAD: true}); err == nil {
			t.Errorf("ParseWithOptions(%q, TrustAD) succeeded", v)
		}
	}
	r, err := ParseWithOptions("127.0.0.1:53", Options{TrustAD: true})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := r.(*Client); !ok || !c.TrustsAD() {
		t.Errorf("ParseWithOptions = %#v", r)
	}
}

func TestQueryName(t *testing.T) {
	tests := map[string]string{
		"example.test":                 "example.test.",
		"Example.TEST.":                "example.test.",
		"_dmarc.example.test":          "_dmarc.example.test.",
		"bücher.test":                  "xn--bcher-kva.test.",
		"0/25.2.0.192.in-addr.arpa":    "0/25.2.0.192.in-addr.arpa.",
		"":                             "",
		".":                            "",
		"a..b":                         "",
		"a b.test":                     "",
		`a\.b.test`:                    "",
		"a\"b.test":                    "",
		strings.Repeat("a", 64) + ".t": "",
	}
	for in, want := range tests {
		if got := queryName(in); got != want {
			t.Errorf("queryName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzQueryName: no input panics, and what comes out is a name miekg/dns
// packs into a question.
func FuzzQueryName(f *testing.F) {
	for _, s := range []string{"example.test", "bücher.test", "_25._tcp.mx.test.", "a..b", "\xff", "*.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		q := queryName(name)
		if q == "" {
			return
		}
		m := new(miekg.Msg)
		m.SetQuestion(q, miekg.TypeTXT)
		b, err := m.Pack()
		if err != nil {
			t.Fatalf("queryName(%q) = %q, which does not pack: %v", name, q, err)
		}
		var back miekg.Msg
		if err := back.Unpack(b); err != nil || !strings.EqualFold(back.Question[0].Name, q) {
			t.Fatalf("queryName(%q) = %q came back as %v (%v)", name, q, back.Question, err)
		}
	})
}

// serveFunc runs a miekg/dns server over UDP with handler, for servers
// dnstest does not imitate.
func serveFunc(t *testing.T, handler miekg.HandlerFunc) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &miekg.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestOddServers(t *testing.T) {
	ctx := testCtx(t)
	txt := func(req *miekg.Msg) *miekg.Msg {
		m := new(miekg.Msg)
		m.SetReply(req)
		m.Answer = []miekg.RR{&miekg.TXT{Hdr: miekg.RR_Header{Name: req.Question[0].Name, Rrtype: miekg.TypeTXT, Class: miekg.ClassINET, Ttl: 60}, Txt: []string{"ok"}}}
		return m
	}
	t.Run("no EDNS: FORMERR, then asked without it", func(t *testing.T) {
		var mu sync.Mutex
		var withEDNS, without int
		addr := serveFunc(t, func(w miekg.ResponseWriter, req *miekg.Msg) {
			mu.Lock()
			defer mu.Unlock()
			if req.IsEdns0() != nil {
				withEDNS++
				m := new(miekg.Msg)
				m.SetRcode(req, miekg.RcodeFormatError)
				_ = w.WriteMsg(m)
				return
			}
			without++
			_ = w.WriteMsg(txt(req))
		})
		c, err := New(addr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.LookupTXT(ctx, "example.test")
		if err != nil || fmt.Sprint(got) != "[ok]" {
			t.Fatalf("%v %v", got, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if withEDNS != 1 || without != 1 {
			t.Errorf("asked %d times with EDNS, %d without; want 1 and 1", withEDNS, without)
		}
	})
	t.Run("answer to another question", func(t *testing.T) {
		addr := serveFunc(t, func(w miekg.ResponseWriter, req *miekg.Msg) {
			m := txt(req)
			m.Question[0].Name = "other.test."
			m.Answer[0].Header().Name = "other.test."
			_ = w.WriteMsg(m)
		})
		c, err := NewWithOptions(addr, Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.LookupTXT(ctx, "example.test")
		if de, ok := err.(*net.DNSError); !ok || !de.Temporary() || !errors.Is(err, ErrMisbehaving) {
			t.Errorf("err %v, want a temporary misbehaving-server error", err)
		}
	})
	t.Run("answer records at another name are ignored", func(t *testing.T) {
		addr := serveFunc(t, func(w miekg.ResponseWriter, req *miekg.Msg) {
			m := txt(req)
			m.Answer[0].Header().Name = "injected.test."
			_ = w.WriteMsg(m)
		})
		c, err := New(addr)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.LookupTXT(ctx, "example.test"); !errors.Is(err, ErrNoData) {
			t.Errorf("got %v, %v; want NODATA", got, err)
		}
	})
}
