package reports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/dns"
)

// destination is one mailto: rua a report may go to.
type destination struct {
	addr    address.Address
	maxSize uint64 // 0: no limit
}

// parseRUA parses one rua URI (RFC 7489 §6.2: dmarc-uri = URI [ "!"
// 1*DIGIT [ "k" / "m" / "g" / "t" ] ]; RFC 8460 §3 has the same mailto:
// form without the size). Only mailto: URIs are sent to; an https: one
// (RFC 8460 §3) is reported as not supported.
func parseRUA(uri string) (destination, error) {
	uri = strings.TrimSpace(uri)
	var d destination
	if i := strings.LastIndexByte(uri, '!'); i >= 0 {
		if n, ok := parseSize(uri[i+1:]); ok {
			d.maxSize, uri = n, uri[:i]
		}
	}
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !strings.EqualFold(scheme, "mailto") {
		return destination{}, fmt.Errorf("%q is not a mailto: URI", uri)
	}
	rest, _, _ = strings.Cut(rest, "?") // RFC 6068 §2: header fields are not ours to add
	raw, err := url.PathUnescape(rest)
	if err != nil {
		return destination{}, fmt.Errorf("%q: %w", uri, err)
	}
	a, err := address.Path(raw)
	if err != nil {
		return destination{}, fmt.Errorf("%q: %w", uri, err)
	}
	d.addr = a
	return d, nil
}

// parseSize reads the size suffix of a DMARC URI (RFC 7489 §6.2: units
// of 2^10, 2^20, 2^30, 2^40 octets).
func parseSize(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	shift := 0
	switch s[len(s)-1] {
	case 'k', 'K':
		shift = 10
	case 'm', 'M':
		shift = 20
	case 'g', 'G':
		shift = 30
	case 't', 'T':
		shift = 40
	}
	if shift > 0 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > (1<<63)>>shift {
		return 0, false
	}
	return n << shift, true
}

// orgDomain is the organizational domain (RFC 7489 §3.2): the public
// suffix and one label more, or the domain itself when it has none.
func orgDomain(d string) string {
	od, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return od
}

// errUnverified marks a destination that could not be checked now (a
// temporary DNS failure): the report waits for the next pass.
var errUnverified = errors.New("reports: external destination not verified yet")

// authorized reports whether rua may receive policyDomain's reports (RFC
// 7489 §7.1): always when their organizational domains are the same,
// else only when policyDomain._report._dmarc.ruaDomain holds a TXT
// record starting with "v=DMARC1". A temporary failure is errUnverified.
func authorized(ctx context.Context, r Resolver, policyDomain, ruaDomain string) (bool, error) {
	if orgDomain(policyDomain) == orgDomain(ruaDomain) {
		return true, nil
	}
	txts, err := r.LookupTXT(ctx, policyDomain+"._report._dmarc."+ruaDomain)
	var de *net.DNSError
	switch {
	case errors.As(err, &de) && de.IsNotFound, errors.Is(err, dns.ErrDisabled):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: %s._report._dmarc.%s: %v", errUnverified, policyDomain, ruaDomain, err)
	}
	for _, t := range txts {
		// §7.1: a record starting with "v=DMARC1" (other tags are not
		// ours to honour here).
		if strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			return true, nil
		}
	}
	return false, nil
}
