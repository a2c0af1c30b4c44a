// Package dns owns every DNS look-up Surat makes (MX and addresses for
// outbound mail, TXT for SPF/DKIM/DMARC/MTA-STS/TLS-RPT, PTR for logging,
// TLSA for DANE), behind the Resolver interface.
//
// On our machines a real look-up must never happen by accident, so the
// default is None (no DNS at all: outbound mail goes only to --smarthost).
// Parse maps the --resolver flag: "none" (or empty), "system" (the operating
// system's resolver, only when asked for by name), or HOST:PORT (queries go
// to that server only, never to /etc/resolv.conf's).
//
// Client, the HOST:PORT resolver, is a stub resolver on github.com/miekg/dns:
// UDP with EDNS0, TCP when an answer comes back truncated, a bounded number
// of attempts within the caller's context, CNAME chains followed. It caches
// answers on this node, each no longer than its records' TTL (and
// Options.MaxTTL), and not-found answers as long as the zone's SOA says
// (RFC 2308 §5) but never longer than Options.MaxNegativeTTL; temporary
// failures are never cached. Caches are per node and never replicated: two
// nodes may see a record change at different times, as two resolvers do.
// A look-up with a Fresh context skips the cache (for checking records an
// operator has just published).
//
// Errors are bare *net.DNSError values, as the Go resolver returns them:
// IsNotFound for a name that does not exist or has no record of the asked
// type, Temporary() (IsTemporary, IsTimeout) for everything else. Mail
// policy code (SPF's void look-ups against temperror, DMARC, DANE) depends
// on that distinction; errors.Is tells the causes apart (ErrNXDomain,
// ErrNoData, ErrServFail, ...).
//
// The AD bit (RFC 4035 §3.2.3) is reported as Answer.Secure only when the
// operator said the server validates DNSSEC (Options.TrustAD,
// --resolver-dnssec): Surat does not validate signatures itself, it trusts
// that one resolver on a trusted path (RFC 6698 §4.1, RFC 7672 §2.1).
//
// This package does not interpret answers for mail policy: callers do.
package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	miekg "github.com/miekg/dns"
)

// Resolver is the DNS a mail server needs. blitiri.com.ar/go/spf's
// DNSResolver (LookupTXT, LookupMX, LookupIPAddr, LookupAddr) is a subset.
type Resolver interface {
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	// LookupHost returns the addresses of host, IPv4 then IPv6; an IP
	// address is returned as it is.
	LookupHost(ctx context.Context, host string) ([]string, error)
	// LookupIPAddr returns the addresses of host, IPv4 then IPv6.
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	// LookupTXT returns one string per TXT record, its character-strings
	// joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
	LookupTXT(ctx context.Context, name string) ([]string, error)
	// LookupAddr returns the PTR names of an IP address.
	LookupAddr(ctx context.Context, addr string) ([]string, error)
	// LookupTLSA returns the TLSA records at name ("_25._tcp.mx.example.")
	// and whether they are DNSSEC-authenticated (RFC 6698 §2, RFC 7672
	// §2.2). secure is also meaningful with a not-found error: true then
	// means an authenticated denial of existence.
	LookupTLSA(ctx context.Context, name string) (records []TLSA, secure bool, err error)
	// Lookup returns the records of any type at name after following
	// CNAMEs, with the name they were found at and whether they are
	// DNSSEC-authenticated; DANE needs this for MX and address records
	// (RFC 7672 §2.2).
	Lookup(ctx context.Context, name string, qtype uint16) (Answer, error)
}

// Answer is the result of Lookup.
type Answer struct {
	// Name is where Records were found: the asked name in canonical form
	// (lower case, absolute), or the end of its CNAME chain.
	Name string
	// Records are the records of the asked type (miekg/dns types: *dns.MX,
	// *dns.A, ...); empty with a not-found error. They are shared with the
	// cache and other callers: read them, never modify them.
	Records []miekg.RR
	// Secure: the server set the AD bit on every answer of the chain and
	// the Client trusts it (Options.TrustAD).
	Secure bool
}

// TLSA is one TLSA record (RFC 6698 §2.1).
type TLSA struct {
	Usage        uint8 // 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218)
	Selector     uint8 // 0 full certificate, 1 SubjectPublicKeyInfo
	MatchingType uint8 // 0 exact, 1 SHA-256, 2 SHA-512
	Data         []byte
}

// String is the record's data in zone-file form: "3 1 1 abcd...".
func (t TLSA) String() string {
	return fmt.Sprintf("%d %d %d %x", t.Usage, t.Selector, t.MatchingType, t.Data)
}

// ErrDisabled is returned by None for every look-up.
var ErrDisabled = errors.New("dns: look-ups are disabled (--resolver none)")

// None is the Resolver that never looks anything up and never touches the
// network: every call returns ErrDisabled.
type None struct{}

func (None) LookupMX(context.Context, string) ([]*net.MX, error)        { return nil, ErrDisabled }
func (None) LookupHost(context.Context, string) ([]string, error)       { return nil, ErrDisabled }
func (None) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) { return nil, ErrDisabled }
func (None) LookupTXT(context.Context, string) ([]string, error)        { return nil, ErrDisabled }
func (None) LookupAddr(context.Context, string) ([]string, error)       { return nil, ErrDisabled }
func (None) LookupTLSA(context.Context, string) ([]TLSA, bool, error)   { return nil, false, ErrDisabled }
func (None) Lookup(context.Context, string, uint16) (Answer, error)     { return Answer{}, ErrDisabled }

// System is the operating system's resolver (net.DefaultResolver); used only
// with an explicit --resolver system. It cannot see the AD bit, so nothing
// it answers is secure, and it cannot look up TLSA (ErrUnsupported).
type System struct{}

func (System) LookupMX(ctx context.Context, d string) ([]*net.MX, error) {
	return net.DefaultResolver.LookupMX(ctx, d)
}
func (System) LookupHost(ctx context.Context, h string) ([]string, error) {
	return net.DefaultResolver.LookupHost(ctx, h)
}
func (System) LookupIPAddr(ctx context.Context, h string) ([]net.IPAddr, error) {
	return net.DefaultResolver.LookupIPAddr(ctx, h)
}
func (System) LookupTXT(ctx context.Context, n string) ([]string, error) {
	return net.DefaultResolver.LookupTXT(ctx, n)
}
func (System) LookupAddr(ctx context.Context, a string) ([]string, error) {
	return net.DefaultResolver.LookupAddr(ctx, a)
}
func (System) LookupTLSA(context.Context, string) ([]TLSA, bool, error) {
	return nil, false, ErrUnsupported
}
func (System) Lookup(context.Context, string, uint16) (Answer, error) {
	return Answer{}, ErrUnsupported
}

// Options tune a Client; the zero value is a sensible default.
type Options struct {
	// TrustAD: the server validates DNSSEC and the path to it is trusted
	// (--resolver-dnssec), so its AD bit makes an answer Secure (DANE).
	// Queries then set DO (RFC 3225) as a validating stub's do.
	TrustAD bool
	// Timeout bounds one attempt (one UDP or TCP exchange); default 2s.
	Timeout time.Duration
	// Attempts is how many times a query is sent over UDP before giving
	// up; default 2. A truncated answer adds one TCP exchange.
	Attempts int
	// CacheEntries bounds the cache; default 10000; negative: no cache.
	CacheEntries int
	// MaxTTL caps how long a positive answer is cached; default 1h.
	MaxTTL time.Duration
	// MaxNegativeTTL caps how long a not-found answer is cached; default
	// 5 minutes, so that a record an operator just published (and
	// checks with `surat domain records --check`) is seen soon.
	MaxNegativeTTL time.Duration
	// Now is the clock for cache expiry; default time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultTimeout        = 2 * time.Second
	DefaultAttempts       = 2
	DefaultCacheEntries   = 10000
	DefaultMaxTTL         = time.Hour
	DefaultMaxNegativeTTL = 5 * time.Minute
	// DefaultNegativeTTL is how long a not-found answer without an SOA
	// is cached (RFC 2308 §5 asks not to cache those at all, against
	// loops between servers; a stub that answers no one cannot loop, and
	// a short time spares the server repeated questions).
	DefaultNegativeTTL = 30 * time.Second
	// udpSize is the EDNS0 buffer advertised (RFC 6891 §6.2.5): 1232
	// bytes fits an IPv6 minimum MTU without fragmentation (DNS flag day
	// 2020).
	udpSize = 1232
)

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.CacheEntries == 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	if o.MaxTTL <= 0 {
		o.MaxTTL = DefaultMaxTTL
	}
	if o.MaxNegativeTTL <= 0 {
		o.MaxNegativeTTL = DefaultMaxNegativeTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Parse turns a --resolver value into a Resolver: "" or "none" → None,
// "system" → System, HOST:PORT → New(HOST:PORT). It does no I/O.
func Parse(value string) (Resolver, error) {
	return ParseWithOptions(value, Options{})
}

// ParseWithOptions is Parse with Options for a HOST:PORT Client. TrustAD
// needs a HOST:PORT server: neither None nor System can report the AD bit.
func ParseWithOptions(value string, o Options) (Resolver, error) {
	switch v := strings.TrimSpace(value); strings.ToLower(v) {
	case "", "none", "system":
		if o.TrustAD {
			return nil, fmt.Errorf("trusting the AD bit (DNSSEC) needs a validating server as HOST:PORT, not %q", value)
		}
		if strings.EqualFold(v, "system") {
			return System{}, nil
		}
		return None{}, nil
	default:
		c, err := NewWithOptions(v, o)
		if err != nil {
			return nil, fmt.Errorf("want none, system or HOST:PORT: %w", err)
		}
		return c, nil
	}
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("missing host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
