package mailauth

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"

	"blitiri.com.ar/go/spf"

	"github.com/surat-mail/surat/protocols/dns"
)

// resolver adapts dns.Resolver to what blitiri.com.ar/go/spf and go-msgauth
// expect. Errors pass through unwrapped (both libraries type-assert
// *net.DNSError), except dns.ErrDisabled, which becomes "not found".
type resolver struct{ r dns.Resolver }

func disabled(name string, err error) error {
	if errors.Is(err, dns.ErrDisabled) {
		return &net.DNSError{Err: "look-ups disabled", Name: name, IsNotFound: true}
	}
	return err
}

func (r resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txt, err := r.r.LookupTXT(ctx, name)
	return txt, disabled(name, err)
}

func (r resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	mx, err := r.r.LookupMX(ctx, name)
	return mx, disabled(name, err)
}

func (r resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	names, err := r.r.LookupAddr(ctx, addr)
	return names, disabled(addr, err)
}

func (r resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	addrs, err := r.r.LookupHost(ctx, host)
	return addrs, disabled(host, err)
}

func (r resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	addrs, err := r.r.LookupIPAddr(ctx, host)
	return addrs, disabled(host, err)
}

// SPFScope is the identity an SPF result is for (RFC 7208 §2.3, §2.4).
type SPFScope string

const (
	ScopeMailFrom SPFScope = "mfrom"
	ScopeHELO     SPFScope = "helo"
)

// SPFResult is one SPF check_host() result.
type SPFResult struct {
	Scope  SPFScope
	Domain string     // the domain checked
	Sender string     // the <sender> argument: MAIL FROM, or postmaster@HELO
	Result spf.Result // none, neutral, pass, fail, softfail, temperror, permerror
	Reason string     // why, for logs and the A-R reason (never DNS internals)
}

// checkSPF runs check_host() for one identity (RFC 7208 §4). The lookup
// and void-lookup limits (§4.6.4: 10 and 2) are the library's.
func (c *Checker) checkSPF(ctx context.Context, ip net.IP, helo, sender string, scope SPFScope) SPFResult {
	_, domain, _ := strings.Cut(sender, "@")
	r := SPFResult{Scope: scope, Domain: domain, Sender: sender}
	if domain == "" {
		r.Result = spf.None
		r.Reason = "no domain to check"
		return r
	}
	res, err := spf.CheckHostWithSender(ip, helo, sender,
		spf.WithContext(ctx), spf.WithResolver(c.res))
	r.Result = res
	switch {
	case errors.Is(err, spf.ErrLookupLimitReached):
		r.Reason = "more than 10 DNS look-ups (RFC 7208 §4.6.4)"
	case errors.Is(err, spf.ErrVoidLookupLimitReached):
		r.Reason = "more than 2 void look-ups (RFC 7208 §4.6.4)"
	case errors.Is(err, spf.ErrMultipleRecords):
		r.Reason = "more than one SPF record"
	case res == spf.TempError:
		r.Reason = "DNS temporarily failed"
	case res == spf.PermError && err != nil:
		r.Reason = "invalid SPF record: " + err.Error()
	}
	return r
}

// heloDomain is the HELO/EHLO name when it is a domain SPF can check
// (RFC 7208 §2.3: not an address literal), else "".
func heloDomain(helo string) string {
	h := strings.TrimSuffix(strings.TrimSpace(helo), ".")
	if h == "" || strings.HasPrefix(h, "[") || !strings.Contains(h, ".") {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	return strings.ToLower(h)
}
