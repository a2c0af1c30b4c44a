package mtasts

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
)

// policyServer is https://mta-sts.DOMAIN on loopback, its certificate from
// a test CA, with DNS answered by an in-process server.
type policyServer struct {
	dns     *dnstest.Server
	ca      *pkitest.CA
	port    int
	fetches atomic.Int32

	mu     sync.Mutex
	body   string
	status int
	ctype  string
}

func startPolicyServer(t *testing.T, domain string) *policyServer {
	t.Helper()
	ps := &policyServer{dns: dnstest.Start(t), ca: pkitest.NewCA(t, "Policy CA"), status: 200, ctype: "text/plain"}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.fetches.Add(1)
		ps.mu.Lock()
		body, status, ctype := ps.body, ps.status, ps.ctype
		ps.mu.Unlock()
		if r.URL.Path != PolicyPath || r.Host != "mta-sts."+domain+":"+strconv.Itoa(ps.port) {
			http.NotFound(w, r)
			return
		}
		if status == http.StatusFound {
			http.Redirect(w, r, "https://elsewhere.test/", status)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	srv.TLS = pkitest.ServerTLS(ps.ca.Issue(t, pkitest.Options{Names: []string{"mta-sts." + domain}}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ps.port, _ = strconv.Atoi(p)
	ps.dns.Add("mta-sts."+domain, "A", "127.0.0.1")
	return ps
}

func (ps *policyServer) set(status int, body string) {
	ps.mu.Lock()
	ps.status, ps.body = status, body
	ps.mu.Unlock()
}

func (ps *policyServer) cache(t *testing.T, now func() time.Time) *Cache {
	t.Helper()
	r, err := dns.NewWithOptions(ps.dns.Addr(), dns.Options{CacheEntries: -1}) // the test changes records
	if err != nil {
		t.Fatal(err)
	}
	return &Cache{Resolver: r, Now: now,
		Fetcher: &Fetcher{Resolver: r, RootCAs: ps.ca.Pool, Port: ps.port, Timeout: 5 * time.Second}}
}

const enforcePolicy = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 3600\r\n"

func TestFetch(t *testing.T) {
	ps := startPolicyServer(t, "example.test")
	f := ps.cache(t, nil).Fetcher
	ctx := context.Background()

	ps.set(200, enforcePolicy)
	p, err := f.Fetch(ctx, "example.test")
	if err != nil || p.Mode != Enforce || !p.Matches("mx.example.test") {
		t.Fatalf("policy %+v, err %v", p, err)
	}

	// RFC 8461 §3.3: a redirect is not followed; only 200 is a policy.
	ps.set(http.StatusFound, "")
	if _, err := f.Fetch(ctx, "example.test"); !errors.Is(err, ErrRedirect) {
		t.Errorf("redirect: %v", err)
	}
	ps.set(404, enforcePolicy)
	if _, err := f.Fetch(ctx, "example.test"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	// Served, but not a policy.
	var invalid *InvalidPolicyError
	ps.set(200, "version: STSv1\r\nmode: enforce\r\n")
	if _, err := f.Fetch(ctx, "example.test"); !errors.As(err, &invalid) {
		t.Errorf("invalid policy: %v", err)
	}
	ps.set(200, enforcePolicy+strings.Repeat("x: y\r\n", MaxPolicySize/6+1))
	if _, err := f.Fetch(ctx, "example.test"); !errors.As(err, &invalid) {
		t.Errorf("oversized policy: %v", err)
	}
	ps.set(200, enforcePolicy)
	ps.mu.Lock()
	ps.ctype = "text/html"
	ps.mu.Unlock()
	if _, err := f.Fetch(ctx, "example.test"); !errors.As(err, &invalid) {
		t.Errorf("text/html: %v", err)
	}
	ps.mu.Lock()
	ps.ctype = "text/plain; charset=utf-8"
	ps.mu.Unlock()

	// The certificate is checked: another CA's pool refuses it.
	other := *f
	other.RootCAs = pkitest.NewCA(t, "Someone else").Pool
	if _, err := other.Fetch(ctx, "example.test"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
	// Non-public addresses can be refused (the transport does so unless
	// --allow-private-mx).
	other = *f
	other.AllowAddr = func(string) bool { return false }
	if _, err := other.Fetch(ctx, "example.test"); err == nil || !strings.Contains(err.Error(), "non-public") {
		t.Errorf("refused address: %v", err)
	}
	// The name is resolved by our resolver: a name it does not know does
	// not resolve, whatever the system's resolver would say.
	if _, err := f.Fetch(ctx, "unknown.test"); err == nil {
		t.Error("fetched a policy for a domain our resolver does not know")
	}
	if n := ps.dns.Count("mta-sts.example.test.", "A"); n == 0 {
		t.Error("the fetch did not ask our resolver")
	}
}

// A slow server is given up on at Fetcher.Timeout.
func TestFetchTimeout(t *testing.T) {
	ca := pkitest.NewCA(t, "Policy CA")
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	srv.TLS = pkitest.ServerTLS(ca.Issue(t, pkitest.Options{Names: []string{"mta-sts.slow.test"}}))
	srv.StartTLS()
	defer srv.Close()
	defer close(release)
	d := dnstest.Start(t)
	d.Add("mta-sts.slow.test", "A", "127.0.0.1")
	r, _ := dns.New(d.Addr())
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(p)
	f := &Fetcher{Resolver: r, RootCAs: ca.Pool, Port: port, Timeout: 300 * time.Millisecond}
	start := time.Now()
	if _, err := f.Fetch(context.Background(), "slow.test"); err == nil {
		t.Fatal("a fetch that never got an answer succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("fetch took %v", d)
	}
}

// RFC 8461 §5.1: the policy is fetched once and used until max_age; a new
// TXT id fetches it again; without a TXT record the cached policy stays.
func TestCacheAndIDChange(t *testing.T) {
	ps := startPolicyServer(t, "example.test")
	var clock atomic.Int64
	clock.Store(time.Now().Unix())
	c := ps.cache(t, func() time.Time { return time.Unix(clock.Load(), 0) })
	ctx := context.Background()

	// No TXT record: no policy, no fetch.
	if r := c.Lookup(ctx, "example.test"); r.Policy != nil || r.FetchErr != nil || ps.fetches.Load() != 0 {
		t.Fatalf("without a record: %+v, %d fetches", r, ps.fetches.Load())
	}

	ps.set(200, enforcePolicy)
	ps.dns.AddTXT("_mta-sts.example.test", "v=STSv1; id=one")
	r := c.Lookup(ctx, "example.test")
	if r.Policy == nil || r.Policy.Mode != Enforce || r.ID != "one" || r.Cached {
		t.Fatalf("first look-up: %+v", r)
	}
	r = c.Lookup(ctx, "Example.Test.")
	if r.Policy == nil || !r.Cached || ps.fetches.Load() != 1 {
		t.Fatalf("second look-up: %+v after %d fetches", r, ps.fetches.Load())
	}

	// The id changes: fetched again, the new policy replaces the old.
	ps.set(200, strings.Replace(enforcePolicy, "enforce", "testing", 1))
	ps.dns.Remove("_mta-sts.example.test", "TXT")
	ps.dns.AddTXT("_mta-sts.example.test", "v=STSv1; id=two")
	r = c.Lookup(ctx, "example.test")
	if r.Policy == nil || r.Policy.Mode != Testing || r.ID != "two" || ps.fetches.Load() != 2 {
		t.Fatalf("after the id changed: %+v after %d fetches", r, ps.fetches.Load())
	}

	// The record disappears (or an attacker drops it): the cached policy
	// holds until its max_age.
	ps.dns.Remove("_mta-sts.example.test", "TXT")
	if r = c.Lookup(ctx, "example.test"); r.Policy == nil || !r.Cached {
		t.Fatalf("record gone: %+v", r)
	}
	// A new id whose fetch fails: the cached policy holds too.
	ps.dns.AddTXT("_mta-sts.example.test", "v=STSv1; id=three")
	ps.set(500, "")
	if r = c.Lookup(ctx, "example.test"); r.Policy == nil || r.Policy.Mode != Testing || r.FetchErr != nil {
		t.Fatalf("failed refresh: %+v", r)
	}
	// Past max_age nothing is cached: the failure shows.
	clock.Add(3601)
	if r = c.Lookup(ctx, "example.test"); r.Policy != nil || r.FetchErr == nil {
		t.Fatalf("expired, fetch failing: %+v", r)
	}
	if c.Len() != 0 {
		t.Fatalf("%d entries after expiry", c.Len())
	}
	// Mode none withdraws the policy.
	ps.set(200, "version: STSv1\r\nmode: none\r\nmax_age: 60\r\n")
	if r = c.Lookup(ctx, "example.test"); r.Policy != nil || r.FetchErr != nil || r.ID != "three" {
		t.Fatalf("mode none: %+v", r)
	}
	// Two v=STSv1 records: none is used (§3.1).
	ps.dns.AddTXT("_mta-sts.example.test", "v=STSv1; id=four")
	before := ps.fetches.Load()
	clock.Add(61)
	if r = c.Lookup(ctx, "example.test"); r.Policy != nil || ps.fetches.Load() != before {
		t.Fatalf("two records: %+v", r)
	}
}

// The cache holds at most MaxEntries policies.
func TestCacheBounded(t *testing.T) {
	c := &Cache{MaxEntries: 2}
	now := time.Now()
	p := &Policy{Mode: Enforce, MaxAge: time.Hour}
	c.put("a.test", &entry{id: "1", policy: p, expires: now.Add(3 * time.Hour)}, now)
	c.put("b.test", &entry{id: "1", policy: p, expires: now.Add(time.Hour)}, now)
	c.put("c.test", &entry{id: "1", policy: p, expires: now.Add(2 * time.Hour)}, now)
	if c.Len() != 2 || c.get("b.test", now) != nil || c.get("a.test", now) == nil || c.get("c.test", now) == nil {
		t.Fatalf("kept %v", c.entries)
	}
}
