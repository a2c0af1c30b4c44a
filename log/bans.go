package log

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaxBanBitsIPv6 is the longest IPv6 prefix a ban (BanAdded) may name:
// one IPv6 client holds a whole /64, so a longer prefix would ban nothing
// real.
const MaxBanBitsIPv6 = 64

// BanPrefix turns an operator's ADDR or CIDR into the prefix a ban names:
// an IPv4 address becomes its /32, an IPv6 address or a prefix longer
// than /64 its /64, host bits are cleared and an IPv4-mapped IPv6 address
// is taken as IPv4. It refuses what is not an IP address or prefix.
func BanPrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("%q: a ban cannot name a zone", s)
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP prefix: %w", s, err)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address: %w", s, err)
		}
		a = a.Unmap()
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is6() && p.Bits() > MaxBanBitsIPv6 {
		p = netip.PrefixFrom(p.Addr(), MaxBanBitsIPv6)
	}
	return p.Masked(), nil
}
