// Package dnsbl refuses SMTP clients that a DNS blocklist lists (RFC 5782):
// Check is a pipeline.ConnCheck that the SMTP server asks when a client
// greets on the MX port (--dnsbl ZONE,...). Every zone is asked at once,
// each for the client's reversed address (RFC 5782 §2.1 for IPv4, §2.4's
// nibbles for IPv6); an A record in 127.0.0.0/8 lists the client, and the
// first listing zone, in the order configured, is named in the reply with
// its TXT reason when that is short:
//
//	554 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.example; listed
//
// Answers in 127.255.255.0/24 are a list's error codes (Spamhaus returns
// them for queries through public resolvers or over the free limit), and
// answers outside 127.0.0.0/8 are not the list's to give (a resolver that
// rewrites NXDOMAIN): neither lists anyone, both are logged. A look-up that
// fails (SERVFAIL, time-out) lists no one either: a blocklist is advice,
// and a broken one must not close the MX; it is logged too.
//
// The package keeps no cache: protocols/dns caches answers for their TTL,
// so a de-listing is seen as soon as the list's TTL allows. It does no I/O
// but through its Resolver, and decides nothing but the refusal.
package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	miekg "github.com/miekg/dns"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// DefaultTimeout bounds the look-ups of one client when Config.Timeout is
// zero: a list that does not answer in time lists no one.
const DefaultTimeout = 5 * time.Second

// maxReasonLen is the longest TXT reason put into a reply; a longer one is
// left out (the zone is named anyway). RFC 5321 §4.5.3.1.5 allows 512
// octets a reply line.
const maxReasonLen = 160

// Config configures a Check.
type Config struct {
	// Resolver answers the look-ups (required). A dns.Client caches them.
	Resolver dns.Resolver
	// Zones are the lists' zones, asked in this order of precedence
	// (ParseZones gives them).
	Zones []string
	// Timeout bounds one client's look-ups; default DefaultTimeout.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Check is the DNSBL connection check.
type Check struct {
	cfg Config
}

var _ pipeline.ConnCheck = (*Check)(nil)

// New returns a Check; it does no I/O.
func New(cfg Config) (*Check, error) {
	if cfg.Resolver == nil {
		return nil, errors.New("dnsbl: no resolver")
	}
	if _, none := cfg.Resolver.(dns.None); none {
		return nil, errors.New("dnsbl: blocklists need DNS (--resolver HOST:PORT or system)")
	}
	if len(cfg.Zones) == 0 {
		return nil, errors.New("dnsbl: no zone")
	}
	for _, z := range cfg.Zones {
		if _, err := ParseZones(z); err != nil {
			return nil, err
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Check{cfg: cfg}, nil
}

// Name names the check in logs.
func (c *Check) Name() string { return "dnsbl" }

// Listing is one zone's verdict on a client.
type Listing struct {
	Zone   string
	Codes  []netip.Addr // the 127.0.0.x answers (RFC 5782 §2.1)
	Reason string       // the TXT record, sanitized; may be empty
}

// CheckConn refuses a listed client with 554 5.7.1 naming the zone (RFC
// 5782 §2.1; RFC 3463 §3.8: 5.7.1 "delivery not authorized"). A client
// whose address cannot be parsed is let through: there is nothing to ask.
func (c *Check) CheckConn(ctx context.Context, cl pipeline.Client) error {
	ip, err := netip.ParseAddr(cl.RemoteIP)
	if err != nil {
		return nil
	}
	ip = ip.Unmap().WithZone("")
	l, ok := c.Lookup(ctx, ip)
	if !ok {
		return nil
	}
	c.cfg.Logger.Info("dnsbl: client listed", "remote", ip.String(), "domain", l.Zone, "result", joinAddrs(l.Codes), "reason", l.Reason)
	return &pipeline.Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: ReplyText(ip, l)}
}

// ReplyText is the text of the refusal: the client, the zone and, when it
// is short and printable, the list's reason.
func ReplyText(ip netip.Addr, l Listing) string {
	text := fmt.Sprintf("Service unavailable; client [%s] blocked using %s", ip, l.Zone)
	if r := sanitize(l.Reason); r != "" {
		text += "; " + r
	}
	return text
}

// sanitize keeps a TXT reason only when it fits a reply line: printable
// ASCII, at most maxReasonLen octets after trimming.
func sanitize(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxReasonLen {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return ""
		}
	}
	return s
}

// Lookup asks every zone about ip at once and returns the listing of the
// first zone, in configured order, that lists it.
func (c *Check) Lookup(ctx context.Context, ip netip.Addr) (Listing, bool) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	found := make([]*Listing, len(c.cfg.Zones))
	var wg sync.WaitGroup
	for i, zone := range c.cfg.Zones {
		wg.Go(func() { found[i] = c.ask(ctx, ip, zone) })
	}
	wg.Wait()
	for _, l := range found {
		if l != nil {
			return *l, true
		}
	}
	return Listing{}, false
}

// ask looks ip up in one zone; nil when it is not listed there.
func (c *Check) ask(ctx context.Context, ip netip.Addr, zone string) *Listing {
	name := ReverseName(ip, zone)
	start := time.Now()
	addrs, err := c.lookupA(ctx, name)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil
		}
		c.cfg.Logger.Warn("dnsbl: look-up failed; client not listed", "remote", ip.String(), "domain", zone,
			"duration", time.Since(start).Round(time.Millisecond).String(), "err", err)
		return nil
	}
	l := &Listing{Zone: zone}
	for _, a := range addrs {
		switch Classify(a) {
		case Listed:
			l.Codes = append(l.Codes, a)
		case ListError:
			c.cfg.Logger.Warn("dnsbl: the list answered with an error code, not a listing (RFC 5782 §2.1); check its terms of use and the resolver",
				"remote", ip.String(), "domain", zone, "result", a.String())
		default:
			c.cfg.Logger.Warn("dnsbl: answer outside 127.0.0.0/8 ignored (a rewriting resolver?)",
				"remote", ip.String(), "domain", zone, "result", a.String())
		}
	}
	if len(l.Codes) == 0 {
		return nil
	}
	// RFC 5782 §2.1: the TXT record at the same name says why.
	if txt, err := c.cfg.Resolver.LookupTXT(ctx, name); err == nil {
		l.Reason = sanitize(strings.Join(txt, " "))
	}
	return l
}

// lookupA returns the IPv4 addresses at name. The A records alone are
// asked through Lookup; a resolver that cannot (the system's) is asked for
// every address and the IPv6 ones are dropped.
func (c *Check) lookupA(ctx context.Context, name string) ([]netip.Addr, error) {
	ans, err := c.cfg.Resolver.Lookup(ctx, name, miekg.TypeA)
	if errors.Is(err, dns.ErrUnsupported) {
		ips, err := c.cfg.Resolver.LookupIPAddr(ctx, name)
		if err != nil {
			return nil, err
		}
		var out []netip.Addr
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip.IP); ok && a.Unmap().Is4() {
				out = append(out, a.Unmap())
			}
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, rr := range ans.Records {
		if a, ok := rr.(*miekg.A); ok {
			if ip, ok := netip.AddrFromSlice(a.A); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}

// Verdict is what one A record answer means.
type Verdict int

const (
	// NotListed: an address outside 127.0.0.0/8, which no list gives.
	NotListed Verdict = iota
	// Listed: 127.0.0.0/8 outside the error range (RFC 5782 §2.1).
	Listed
	// ListError: 127.255.255.0/24, a list's error code (Spamhaus:
	// .252 typing error, .254 public resolver, .255 excessive queries).
	ListError
)

var (
	loopback  = netip.MustParsePrefix("127.0.0.0/8")
	errorCode = netip.MustParsePrefix("127.255.255.0/24")
)

// Classify says what an A record answer means.
func Classify(a netip.Addr) Verdict {
	a = a.Unmap()
	switch {
	case errorCode.Contains(a):
		return ListError
	case loopback.Contains(a):
		return Listed
	}
	return NotListed
}

// ReverseName is the name asked for ip under zone: the IPv4 address's
// octets reversed (RFC 5782 §2.1: 192.0.2.99 → 99.2.0.192.zone), or the
// IPv6 address's 32 nibbles reversed (§2.4).
func ReverseName(ip netip.Addr, zone string) string {
	ip = ip.Unmap()
	var b strings.Builder
	if ip.Is4() {
		a := ip.As4()
		fmt.Fprintf(&b, "%d.%d.%d.%d.", a[3], a[2], a[1], a[0])
	} else {
		const hex = "0123456789abcdef"
		a := ip.As16()
		for i := len(a) - 1; i >= 0; i-- {
			b.WriteByte(hex[a[i]&0xf])
			b.WriteByte('.')
			b.WriteByte(hex[a[i]>>4])
			b.WriteByte('.')
		}
	}
	b.WriteString(zone)
	return b.String()
}

// ParseZones reads the --dnsbl value: zones separated by commas, each a
// domain name (lower-cased, without the trailing dot). An empty value is
// no zone.
func ParseZones(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		z := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(f), "."))
		if z == "" {
			if strings.TrimSpace(f) != "" {
				return nil, fmt.Errorf("dnsbl: zone %q is not a domain name", f)
			}
			continue
		}
		if !validZone(z) {
			return nil, fmt.Errorf("dnsbl: zone %q is not a domain name", f)
		}
		dup := false
		for _, o := range out {
			dup = dup || o == z
		}
		if !dup {
			out = append(out, z)
		}
	}
	return out, nil
}

// validZone: LDH labels (underscores allowed, as some lists use them) of
// 1-63 octets, at least two labels, the reversed IPv6 name (64 octets more)
// still under 254 octets (RFC 1035 §2.3.4).
func validZone(z string) bool {
	if len(z) > 253-64 {
		return false
	}
	labels := strings.Split(z, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
