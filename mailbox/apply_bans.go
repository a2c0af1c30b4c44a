package mailbox

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	evlog "github.com/surat-mail/surat/log"
)

// Bounds of a ban's free-text fields.
const (
	maxBanReasonLen = 512
	maxBanSourceLen = 64
)

// parseBan validates the prefix of a ban event: it must already be in the
// canonical form evlog.BanPrefix gives, so that every node keys it the same.
func parseBan(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" || p.Addr().Is4In6() || p != p.Masked() || p.String() != s ||
		(p.Addr().Is6() && p.Bits() > evlog.MaxBanBitsIPv6) {
		return netip.Prefix{}, refuse(errInvalid, "ban prefix %q is not a canonical IPv4 prefix or IPv6 prefix of at most /%d", s, evlog.MaxBanBitsIPv6)
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
