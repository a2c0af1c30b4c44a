package mailbox

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	evlog "github.com/surat-mail/surat/log"
)

// The ban list: client IP prefixes refused at connect (see BanAdded in
// log/events.proto). An IPv6 client is banned by its /64 at least: one
// client holds a whole /64, so a longer prefix would ban nothing real.
const (
	maxBanReasonLen = 512
	maxBanSourceLen = 64
	// MaxBanBitsIPv6 is the longest IPv6 prefix a ban may name.
	MaxBanBitsIPv6 = 64
)

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

// parseBan validates the prefix of a ban event: it must already be in the
// canonical form BanPrefix gives, so that every node keys it the same.
func parseBan(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() || p != p.Masked() || p.String() != s ||
		(p.Addr().Is6() && p.Bits() > MaxBanBitsIPv6) {
		return netip.Prefix{}, refuse(errInvalid, "ban prefix %q is not a canonical IPv4 prefix or IPv6 prefix of at most /%d", s, MaxBanBitsIPv6)
	}
	return p, nil
}

func (t *txn) banAdded(e *evlog.BanAdded) (*evlog.EventResult, error) {
	p, err := parseBan(e.GetPrefix())
	if err != nil {
		return nil, err
	}
	switch {
	case len(e.GetReason()) > maxBanReasonLen || hasControl(e.GetReason()):
		return nil, refuse(errInvalid, "ban reason: over %d octets or control characters", maxBanReasonLen)
	case len(e.GetSource()) > maxBanSourceLen || hasControl(e.GetSource()):
		return nil, refuse(errInvalid, "ban source: over %d octets or control characters", maxBanSourceLen)
	case e.GetCreatedUnix() < 0 || e.GetExpiresUnix() < 0:
		return nil, refuse(errInvalid, "ban times before the epoch")
	case e.GetExpiresUnix() != 0 && e.GetExpiresUnix() <= e.GetCreatedUnix():
		return nil, refuse(errInvalid, "ban expires (%d) before it starts (%d)", e.GetExpiresUnix(), e.GetCreatedUnix())
	}
	if err := t.dropBan(p); err != nil {
		return nil, err
	}
	rec := &evlog.BanRecord{Prefix: e.GetPrefix(), Reason: e.GetReason(), CreatedUnix: e.GetCreatedUnix(),
		ExpiresUnix: e.GetExpiresUnix(), Source: e.GetSource()}
	if err := t.putRecord(banKey(p), rec); err != nil {
		return nil, err
	}
	if rec.ExpiresUnix != 0 {
		return nil, t.put(banExpiryKey(rec.ExpiresUnix, p), nil)
	}
	return nil, nil
}

func (t *txn) banRemoved(e *evlog.BanRemoved) (*evlog.EventResult, error) {
	p, err := parseBan(e.GetPrefix())
	if err != nil {
		return nil, err
	}
	ok, err := t.has(banKey(p))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BAN, "ban %q", e.GetPrefix())
	}
	return nil, t.dropBan(p)
}

// dropBan deletes the ban of p and its expiry index entry, if any.
func (t *txn) dropBan(p netip.Prefix) error {
	old := new(evlog.BanRecord)
	ok, err := t.getRecord(banKey(p), old)
	if err != nil || !ok {
		return err
	}
	if old.GetExpiresUnix() != 0 {
		if err := t.del(banExpiryKey(old.GetExpiresUnix(), p)); err != nil {
			return err
		}
	}
	return t.del(banKey(p))
}

// bansPruned removes the bans that expired at or before the proposer's
// now_unix, in expiry order through the bex/ index.
func (t *txn) bansPruned(e *evlog.BansPruned) (*evlog.EventResult, error) {
	if e.GetNowUnix() < 0 {
		return nil, refuse(errInvalid, "prune time before the epoch")
	}
	upper := binary.BigEndian.AppendUint64([]byte(prefixBanExpiry), uint64(e.GetNowUnix())+1)
	expired, err := t.scan([]byte(prefixBanExpiry), upper)
	if err != nil {
		return nil, err
	}
	for _, x := range expired {
		k, err := banKeyOfExpiry(x.key)
		if err != nil {
			return nil, err
		}
		if err := t.del(k); err != nil {
			return nil, err
		}
		if err := t.del(x.key); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// Ban keys (see the package doc): a prefix is keyed by its family (4 or 6),
// its length in bits and its address bytes with the host bits zero, so
// that a client's ban is found by one seek per possible length.
const (
	prefixBan       = "ban/"
	prefixBanExpiry = "bex/"
)

// banSuffix is family u8, bits u8, address (4 or 16 bytes).
func banSuffix(p netip.Prefix) []byte {
	fam := byte(4)
	if p.Addr().Is6() {
		fam = 6
	}
	return append([]byte{fam, byte(p.Bits())}, p.Addr().AsSlice()...)
}

func banKey(p netip.Prefix) []byte { return append([]byte(prefixBan), banSuffix(p)...) }

// banFamilyPrefix bounds the bans of one address family.
func banFamilyPrefix(a netip.Addr) []byte {
	if a.Is4() {
		return []byte(prefixBan + "\x04")
	}
	return []byte(prefixBan + "\x06")
}

func banExpiryKey(expires int64, p netip.Prefix) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixBanExpiry), uint64(max(expires, 0)))
	return append(k, banSuffix(p)...)
}

// banKeyOfExpiry returns the ban key a bex/ key points at.
func banKeyOfExpiry(k []byte) ([]byte, error) {
	if len(k) != prefixLen+8+2+4 && len(k) != prefixLen+8+2+16 {
		return nil, fmt.Errorf("ban expiry key of %d bytes", len(k))
	}
	return append([]byte(prefixBan), k[prefixLen+8:]...), nil
}
