package dnsbl

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/log/logtest"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/pipeline"
)

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

// setup returns a DNS server, a check over it for zones and the clock of
// the resolver's cache.
func setup(t *testing.T, timeout time.Duration, zones ...string) (*dnstest.Server, *Check, *clock, *logtest.Sink) {
	t.Helper()
	srv := dnstest.Start(t)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := dns.NewWithOptions(srv.Addr(), dns.Options{Now: clk.Now, Timeout: time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	sink := &logtest.Sink{}
	c, err := New(Config{Resolver: r, Zones: zones, Timeout: timeout, Logger: sink.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, clk, sink
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func reply(t *testing.T, err error) *pipeline.Reply {
	t.Helper()
	if err == nil {
		return nil
	}
	var r *pipeline.Reply
	if !errors.As(err, &r) {
		t.Fatalf("CheckConn: %v is not a *pipeline.Reply", err)
	}
	return r
}

func TestListedIPv4(t *testing.T) {
	srv, c, _, sink := setup(t, 0, "bl.test")
	srv.Add("2.0.0.127.bl.test", "A", "127.0.0.2") // RFC 5782 §5 test entry
	srv.Add("2.0.0.127.bl.test", "TXT", "test entry")
	r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: "127.0.0.2", Helo: "x.test"}))
	if r == nil {
		t.Fatal("127.0.0.2 not refused")
	}
	if r.Code != 554 || r.Enhanced != [3]int{5, 7, 1} {
		t.Errorf("reply %v, want 554 5.7.1", r)
	}
	want := "Service unavailable; client [127.0.0.2] blocked using bl.test; test entry"
	if r.Text != want {
		t.Errorf("text %q, want %q", r.Text, want)
	}
	lines, err := sink.Lines("dnsbl: client listed")
	if err != nil || len(lines) != 1 || lines[0]["domain"] != "bl.test" || lines[0]["remote"] != "127.0.0.2" {
		t.Errorf("log lines %v (%v)", lines, err)
	}
	// RFC 5782 §5: 127.0.0.1 must not be listed.
	if r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: "127.0.0.1"})); r != nil {
		t.Errorf("127.0.0.1 refused: %v", r)
	}
}

func TestIPv6Nibbles(t *testing.T) {
	// RFC 5782 §2.4's example address.
	ip := netip.MustParseAddr("2001:db8:1:2:3:4:567:89ab")
	want := "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.test"
	if got := ReverseName(ip, "bl.test"); got != want {
		t.Fatalf("ReverseName = %q, want %q", got, want)
	}
	if got := ReverseName(netip.MustParseAddr("::ffff:192.0.2.99"), "bl.test"); got != "99.2.0.192.bl.test" {
		t.Errorf("IPv4-mapped: %q", got)
	}
	srv, c, _, _ := setup(t, 0, "bl.test")
	srv.Add(want, "A", "127.0.0.4")
	if r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: ip.String()})); r == nil || !strings.Contains(r.Text, "["+ip.String()+"]") {
		t.Errorf("IPv6 client: %v", r)
	}
	// No TXT: the reply still names the zone, with no reason.
	if r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: ip.String()})); r == nil || !strings.HasSuffix(r.Text, "blocked using bl.test") {
		t.Errorf("reply without TXT: %v", r)
	}
}

func TestZoneOrderAndConcurrency(t *testing.T) {
	srv, c, _, _ := setup(t, 0, "one.test", "two.test", "three.test")
	srv.Add("7.2.0.192.two.test", "A", "127.0.0.2")
	srv.Add("7.2.0.192.three.test", "A", "127.0.0.3")
	r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: "192.0.2.7"}))
	if r == nil || !strings.HasSuffix(r.Text, "blocked using two.test") {
		t.Fatalf("want two.test (the first listing zone in order), got %v", r)
	}
	for _, z := range []string{"one.test", "two.test", "three.test"} {
		if n := srv.Count("7.2.0.192."+z, "A"); n != 1 {
			t.Errorf("%s asked %d times", z, n)
		}
	}
	srv.Add("7.2.0.192.one.test", "A", "127.0.0.9")
	l, ok := c.Lookup(dns.Fresh(ctxT(t)), netip.MustParseAddr("192.0.2.7"))
	if !ok || l.Zone != "one.test" || len(l.Codes) != 1 || l.Codes[0] != netip.MustParseAddr("127.0.0.9") {
		t.Errorf("Lookup = %+v, %v", l, ok)
	}
}

func TestNotListings(t *testing.T) {
	srv, c, _, sink := setup(t, 500*time.Millisecond, "bl.test")
	srv.Add("1.2.0.192.bl.test", "A", "127.255.255.254") // Spamhaus: public resolver
	srv.Add("2.2.0.192.bl.test", "A", "198.51.100.1")    // a rewriting resolver
	srv.ServFail("3.2.0.192.bl.test")
	srv.Drop("4.2.0.192.bl.test")
	for ip, msg := range map[string]string{
		"192.0.2.1": "dnsbl: the list answered with an error code, not a listing (RFC 5782 §2.1); check its terms of use and the resolver",
		"192.0.2.2": "dnsbl: answer outside 127.0.0.0/8 ignored (a rewriting resolver?)",
		"192.0.2.3": "dnsbl: look-up failed; client not listed",
		"192.0.2.4": "dnsbl: look-up failed; client not listed",
		"192.0.2.5": "", // NXDOMAIN: silently not listed
	} {
		if r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: ip})); r != nil {
			t.Errorf("%s refused: %v", ip, r)
		}
		if msg == "" {
			continue
		}
		lines, err := sink.Lines(msg)
		found := false
		for _, l := range lines {
			found = found || l["remote"] == ip
		}
		if err != nil || !found {
			t.Errorf("%s: no %q line (%v)", ip, msg, err)
		}
	}
	if r := reply(t, c.CheckConn(ctxT(t), pipeline.Client{RemoteIP: "not an address"})); r != nil {
		t.Errorf("unparsable address refused: %v", r)
	}
}

// TestDelisting: a listing lasts as long as its TTL in the resolver's
// cache, then the client is let in (the acceptance suite lists with TTL 1).
func TestDelisting(t *testing.T) {
	srv, c, clk, _ := setup(t, 0, "bl.test")
	srv.SetTTL(1)
	srv.SetNegativeTTL(1)
	cl := pipeline.Client{RemoteIP: "192.0.2.8"}
	if r := reply(t, c.CheckConn(ctxT(t), cl)); r != nil {
		t.Fatalf("refused before listing: %v", r)
	}
	srv.Add("8.2.0.192.bl.test", "A", "127.0.0.2")
	clk.Advance(2 * time.Second)
	if r := reply(t, c.CheckConn(ctxT(t), cl)); r == nil {
		t.Fatal("listed client let in after the negative TTL")
	}
	srv.Remove("8.2.0.192.bl.test", "A")
	if r := reply(t, c.CheckConn(ctxT(t), cl)); r == nil {
		t.Fatal("the cached listing was not used within its TTL")
	}
	clk.Advance(2 * time.Second)
	if r := reply(t, c.CheckConn(ctxT(t), cl)); r != nil {
		t.Fatalf("de-listed client refused after the TTL: %v", r)
	}
}

func TestReplyText(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.1")
	long := strings.Repeat("x", maxReasonLen+1)
	for reason, want := range map[string]string{
		"":                  "Service unavailable; client [192.0.2.1] blocked using bl.test",
		"  see http://x/  ": "Service unavailable; client [192.0.2.1] blocked using bl.test; see http://x/",
		long:                "Service unavailable; client [192.0.2.1] blocked using bl.test",
		"bad\r\nline":       "Service unavailable; client [192.0.2.1] blocked using bl.test",
		"caf\u00e9":         "Service unavailable; client [192.0.2.1] blocked using bl.test",
	} {
		if got := ReplyText(ip, Listing{Zone: "bl.test", Reason: reason}); got != want {
			t.Errorf("reason %q: %q, want %q", reason, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	for a, want := range map[string]Verdict{
		"127.0.0.2": Listed, "127.0.0.11": Listed, "127.0.1.2": Listed, "127.255.255.252": ListError,
		"127.255.255.255": ListError, "10.0.0.1": NotListed, "::ffff:127.0.0.2": Listed,
	} {
		if got := Classify(netip.MustParseAddr(a)); got != want {
			t.Errorf("Classify(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestParseZones(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"zen.spamhaus.org":              "zen.spamhaus.org",
		" Zen.Spamhaus.ORG. , bl.test ": "zen.spamhaus.org bl.test",
		"bl.test,bl.test":               "bl.test",
		"a_b.example,x-y.example":       "a_b.example x-y.example",
	} {
		got, err := ParseZones(in)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("ParseZones(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"localhost", "bl..test", "bl.test,,x", "-bl.test", "bl test.x", "bl.test/24", ".", strings.Repeat("a.", 100) + "test"} {
		if got, err := ParseZones(bad); err == nil {
			t.Errorf("ParseZones(%q) = %q, want an error", bad, got)
		}
	}
}

func TestNewNeedsDNS(t *testing.T) {
	if _, err := New(Config{Resolver: dns.None{}, Zones: []string{"bl.test"}}); err == nil {
		t.Error("New with --resolver none succeeded")
	}
	if _, err := New(Config{Resolver: dns.System{}}); err == nil {
		t.Error("New without zones succeeded")
	}
	if _, err := New(Config{Resolver: dns.System{}, Zones: []string{"bad"}}); err == nil {
		t.Error("New with a bad zone succeeded")
	}
}
