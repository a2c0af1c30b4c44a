package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"
	"golang.org/x/net/idna"
)

// Client is a Resolver that sends every query to one DNS server, and
// caches the answers (see the package doc).
type Client struct {
	server string
	opts   Options
	cache  *cache // nil: no cache

	mu       sync.Mutex
	inflight map[cacheKey]*call

	metrics *metrics // nil until Register
}

// call is one question being asked of the server, shared by every caller
// that asks it meanwhile.
type call struct {
	done chan struct{}
	ans  Answer
	err  error
}

// New returns a Client for server (HOST:PORT) with default Options.
func New(server string) (*Client, error) {
	return NewWithOptions(server, Options{})
}

// NewWithOptions returns a Client that queries only server (HOST:PORT). It
// does no I/O.
func NewWithOptions(server string, o Options) (*Client, error) {
	if err := checkHostPort(server); err != nil {
		return nil, fmt.Errorf("dns: server %q: %w", server, err)
	}
	o = o.withDefaults()
	c := &Client{server: server, opts: o, inflight: make(map[cacheKey]*call)}
	if o.CacheEntries > 0 {
		c.cache = newCache(o.CacheEntries)
	}
	return c, nil
}

// Server is the HOST:PORT this client queries.
func (c *Client) Server() string { return c.server }

// TrustsAD reports whether answers can be Secure (Options.TrustAD).
func (c *Client) TrustsAD() bool { return c.opts.TrustAD }

type freshKey struct{}

// Fresh returns a context whose look-ups skip the cache (their answers
// still refresh it): for checking records an operator just changed.
func Fresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, freshKey{}, true)
}

func isFresh(ctx context.Context) bool {
	v, _ := ctx.Value(freshKey{}).(bool)
	return v
}

// queryName turns a caller's name into the absolute ASCII form sent on the
// wire, or "" if it cannot be a domain name. A U-label is sent as its
// A-label (RFC 5890 §2.3.2.1). Absolute, so that no search list ever turns
// "example.test" into "example.test.corp.internal".
func queryName(name string) string {
	name = strings.TrimSuffix(name, ".")
	if name == "" || strings.HasSuffix(name, ".") {
		return ""
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			a, err := idna.Punycode.ToASCII(name)
			if err != nil {
				return ""
			}
			name = a
			break
		}
	}
	for i := 0; i < len(name); i++ {
		// Only what host names, underscore labels (RFC 8552) and
		// RFC 2317 reverse names use; anything else would be read as
		// presentation-form escapes by miekg/dns.
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '*' || c == '/') {
			return ""
		}
	}
	name = miekg.CanonicalName(name)
	if _, ok := miekg.IsDomainName(name); !ok {
		return ""
	}
	return name
}

// Lookup returns the records of type qtype at name, CNAMEs followed, from
// the cache or from the server.
func (c *Client) Lookup(ctx context.Context, name string, qtype uint16) (Answer, error) {
	qname := queryName(name)
	if qname == "" {
		return Answer{}, notFound(name)
	}
	ans, err := c.lookup(ctx, cacheKey{name: qname, qtype: qtype})
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) {
			return ans, withName(de, name)
		}
		return ans, err
	}
	return ans, nil
}

func (c *Client) lookup(ctx context.Context, key cacheKey) (Answer, error) {
	if !isFresh(ctx) {
		if ans, err, ok := c.cache.get(key, c.opts.Now()); ok {
			c.metrics.cacheHit(key.qtype)
			return ans, err
		}
	}
	c.metrics.cacheMiss(key.qtype)
	c.mu.Lock()
	cl, shared := c.inflight[key]
	if !shared {
		cl = &call{done: make(chan struct{})}
		c.inflight[key] = cl
		// The query runs on its own, bounded by the attempts' timeouts,
		// so that a caller giving up does not fail the others waiting
		// for the same answer.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.budget())
		go func() {
			defer cancel()
			cl.ans, cl.err = c.resolve(qctx, key)
			c.mu.Lock()
			delete(c.inflight, key)
			c.mu.Unlock()
			close(cl.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.ans, cl.err
	case <-ctx.Done():
		return Answer{}, dnsError(ctx.Err(), key.name, c.server)
	}
}

// budget is the longest one question can take: every UDP attempt, a TCP
// retry, and as many again for each CNAME hop asked separately (rare).
func (c *Client) budget() time.Duration {
	return time.Duration(c.opts.Attempts+1) * c.opts.Timeout * 2
}

// maxCNAMEs bounds a CNAME chain; a longer one is treated as a loop
// (RFC 1034 §3.6.2 asks resolvers to detect them).
const maxCNAMEs = 8

// resolve asks the server, follows the CNAME chain (asking again for its
// end when the server did not follow it, RFC 1034 §4.3.2 step 3a), and
// caches the result.
func (c *Client) resolve(ctx context.Context, key cacheKey) (Answer, error) {
	target := key.name
	secure := true
	ttl := c.opts.MaxTTL
	links := 0
	for {
		resp, err := c.exchange(ctx, target, key.qtype)
		if err != nil {
			return Answer{}, err
		}
		secure = secure && resp.AuthenticatedData
		switch resp.Rcode {
		case miekg.RcodeSuccess, miekg.RcodeNameError:
		case miekg.RcodeServerFailure:
			return Answer{}, dnsError(ErrServFail, key.name, c.server)
		case miekg.RcodeRefused:
			return Answer{}, dnsError(ErrRefused, key.name, c.server)
		default:
			return Answer{}, dnsError(fmt.Errorf("%w: RCODE %s", ErrMisbehaving, miekg.RcodeToString[resp.Rcode]), key.name, c.server)
		}
		owner := target
		for {
			var found []miekg.RR
			var cname *miekg.CNAME
			for _, rr := range resp.Answer {
				h := rr.Header()
				if h.Class != miekg.ClassINET || !strings.EqualFold(h.Name, owner) {
					continue
				}
				if h.Rrtype == key.qtype {
					found = append(found, rr)
				} else if cn, ok := rr.(*miekg.CNAME); ok && cname == nil {
					cname = cn
				}
			}
			if len(found) > 0 {
				for _, rr := range found {
					ttl = min(ttl, time.Duration(rr.Header().Ttl)*time.Second)
				}
				ans := Answer{Name: owner, Records: found, Secure: secure && c.opts.TrustAD}
				c.store(key, ans, nil, ttl)
				return ans, nil
			}
			if cname == nil {
				break
			}
			if links++; links > maxCNAMEs {
				return Answer{}, dnsError(fmt.Errorf("%w: more than %d CNAMEs", ErrMisbehaving, maxCNAMEs), key.name, c.server)
			}
			ttl = min(ttl, time.Duration(cname.Hdr.Ttl)*time.Second)
			owner = miekg.CanonicalName(cname.Target)
		}
		if owner != target && resp.Rcode == miekg.RcodeSuccess {
			// The chain ends at a name this answer says nothing about:
			// ask for it.
			target = owner
			continue
		}
		// RFC 6604 §2: the RCODE speaks of the end of the chain.
		cause := ErrNoData
		if resp.Rcode == miekg.RcodeNameError {
			cause = ErrNXDomain
		}
		ans := Answer{Name: owner, Secure: secure && c.opts.TrustAD}
		err = dnsError(cause, key.name, c.server)
		c.store(key, ans, err, min(ttl, c.negativeTTL(resp)))
		return ans, err
	}
}

// negativeTTL is how long a negative answer may be cached: the SOA's TTL
// and MINIMUM, whichever is less (RFC 2308 §5, §3), at most MaxNegativeTTL.
func (c *Client) negativeTTL(resp *miekg.Msg) time.Duration {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*miekg.SOA); ok {
			return min(time.Duration(min(soa.Hdr.Ttl, soa.Minttl))*time.Second, c.opts.MaxNegativeTTL)
		}
	}
	return min(DefaultNegativeTTL, c.opts.MaxNegativeTTL)
}

func (c *Client) store(key cacheKey, ans Answer, err error, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	c.cache.put(key, ans, err, c.opts.Now().Add(ttl))
}

// records is Lookup for the typed methods: the records, or the error.
func (c *Client) records(ctx context.Context, name string, qtype uint16) ([]miekg.RR, error) {
	ans, err := c.Lookup(ctx, name, qtype)
	return ans.Records, err
}

// LookupMX returns the MX records of domain in preference order; hosts are
// absolute ("mx.example.test."), the null MX's host is "." (RFC 7505).
func (c *Client) LookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	rrs, err := c.records(ctx, domain, miekg.TypeMX)
	if err != nil {
		return nil, err
	}
	out := make([]*net.MX, 0, len(rrs))
	for _, rr := range rrs {
		mx := rr.(*miekg.MX)
		out = append(out, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	slices.SortStableFunc(out, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return out, nil
}

// LookupTXT returns one string per TXT record, its character-strings joined
// with nothing between them (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
func (c *Client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	rrs, err := c.records(ctx, name, miekg.TypeTXT)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		var b strings.Builder
		for _, s := range rr.(*miekg.TXT).Txt {
			b.WriteString(unescapeTXT(s))
		}
		out = append(out, b.String())
	}
	return out, nil
}

// LookupIPAddr returns the IPv4 then IPv6 addresses of host. A temporary
// failure of either look-up is an error even if the other found addresses:
// an SPF "a" or "mx" mechanism must not fail on half the addresses
// (RFC 7208 §5, temperror). Only if both say not-found is it not-found.
func (c *Client) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IPAddr{{IP: ip}}, nil
	}
	v4, v6, err4, err6 := c.both(ctx, host)
	if err := firstTemporary(err4, err6); err != nil {
		return nil, err
	}
	if err4 != nil && err6 != nil {
		return nil, err4
	}
	return append(v4, v6...), nil
}

// LookupHost returns the IPv4 then IPv6 addresses of host, as strings; an
// IP address is returned as it is. Unlike LookupIPAddr, addresses found
// are returned even if the other family failed, as the Go resolver does:
// mail can be delivered to the addresses known (RFC 5321 §5.1).
func (c *Client) LookupHost(ctx context.Context, host string) ([]string, error) {
	if net.ParseIP(host) != nil {
		return []string{host}, nil
	}
	v4, v6, err4, err6 := c.both(ctx, host)
	if len(v4)+len(v6) == 0 {
		if err := firstTemporary(err4, err6); err != nil {
			return nil, err
		}
		return nil, err4
	}
	out := make([]string, 0, len(v4)+len(v6))
	for _, a := range append(v4, v6...) {
		out = append(out, a.IP.String())
	}
	return out, nil
}

// both asks A and AAAA at once.
func (c *Client) both(ctx context.Context, host string) (v4, v6 []net.IPAddr, err4, err6 error) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var rrs []miekg.RR
		rrs, err6 = c.records(ctx, host, miekg.TypeAAAA)
		for _, rr := range rrs {
			v6 = append(v6, net.IPAddr{IP: slices.Clone(rr.(*miekg.AAAA).AAAA)})
		}
	}()
	rrs, err4 := c.records(ctx, host, miekg.TypeA)
	for _, rr := range rrs {
		v4 = append(v4, net.IPAddr{IP: slices.Clone(rr.(*miekg.A).A)})
	}
	wg.Wait()
	return v4, v6, err4, err6
}

func firstTemporary(errs ...error) error {
	for _, err := range errs {
		var de *net.DNSError
		if err != nil && (!errors.As(err, &de) || !de.IsNotFound) {
			return err
		}
	}
	return nil
}

// LookupAddr returns the PTR names of addr (an IPv4 or IPv6 address),
// absolute ("mx.example.test.").
func (c *Client) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	rev, err := miekg.ReverseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	rrs, err := c.records(ctx, rev, miekg.TypePTR)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) {
			return nil, withName(de, addr)
		}
		return nil, err
	}
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.(*miekg.PTR).Ptr)
	}
	return out, nil
}

// LookupTLSA returns the TLSA records at name and whether the answer (or
// the denial) is DNSSEC-authenticated and trusted (Options.TrustAD).
func (c *Client) LookupTLSA(ctx context.Context, name string) ([]TLSA, bool, error) {
	ans, err := c.Lookup(ctx, name, miekg.TypeTLSA)
	if err != nil {
		return nil, ans.Secure, err
	}
	out := make([]TLSA, 0, len(ans.Records))
	for _, rr := range ans.Records {
		t := rr.(*miekg.TLSA)
		data, err := decodeHex(t.Certificate)
		if err != nil {
			return nil, false, dnsError(fmt.Errorf("%w: TLSA data: %v", ErrMisbehaving, err), name, c.server)
		}
		out = append(out, TLSA{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: data})
	}
	return out, ans.Secure, nil
}
