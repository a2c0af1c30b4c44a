package mailbox

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"

	evlog "github.com/surat-mail/surat/log"
)

// Ban is one entry of the ban list.
type Ban struct {
	Prefix  netip.Prefix
	Reason  string
	Source  string    // who banned: "admin", "login", ...
	Created time.Time // the proposer's clock
	Expires time.Time // the proposer's clock; zero: never
}

// Active reports whether the ban still counts at now: an expired ban stops
// counting at once, before the leader's BansPruned removes it.
func (b Ban) Active(now time.Time) bool {
	return b.Expires.IsZero() || now.Before(b.Expires)
}

func banOf(rec *evlog.BanRecord) (Ban, error) {
	p, err := netip.ParsePrefix(rec.GetPrefix())
	if err != nil {
		return Ban{}, fmt.Errorf("mailbox: stored ban %q: %w", rec.GetPrefix(), err)
	}
	b := Ban{Prefix: p, Reason: rec.GetReason(), Source: rec.GetSource(), Created: time.Unix(rec.GetCreatedUnix(), 0).UTC()}
	if rec.GetExpiresUnix() != 0 {
		b.Expires = time.Unix(rec.GetExpiresUnix(), 0).UTC()
	}
	return b, nil
}

// BanFor returns the ban in force at now that covers addr (the longest
// such prefix), if any. An IPv4-mapped IPv6 address is looked up as IPv4.
func (s *Store) BanFor(addr netip.Addr, now time.Time) (ban Ban, ok bool, err error) {
	if !addr.IsValid() {
		return Ban{}, false, nil
	}
	addr = addr.Unmap().WithZone("")
	maxBits := 32
	if addr.Is6() {
		maxBits = evlog.MaxBanBitsIPv6
	}
	fam := banFamilyPrefix(addr)
	err = s.readDB(func(db *pebble.DB) error {
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: fam, UpperBound: prefixEnd(fam)})
		if err != nil {
			return fmt.Errorf("mailbox: ban look-up: %w", err)
		}
		defer it.Close()
		// Lengths from short to long; a seek that lands on a longer
		// length skips the lengths no ban has. The longest active match
		// wins.
		for bits := 0; bits <= maxBits; {
			k := banKey(netip.PrefixFrom(addr, bits).Masked())
			if !it.SeekGE(k) {
				break
			}
			if len(it.Key()) <= len(fam) {
				return fmt.Errorf("mailbox: ban key %x", it.Key())
			}
			if got := int(it.Key()[len(fam)]); got > bits {
				bits = got
				continue
			}
			if bytes.Equal(it.Key(), k) {
				b, err := banAt(it)
				if err != nil {
					return err
				}
				if b.Active(now) {
					ban, ok = b, true
				}
			}
			bits++
		}
		return it.Error()
	})
	return ban, ok, err
}

// banAt decodes the ban under the iterator.
func banAt(it *pebble.Iterator) (Ban, error) {
	v, err := it.ValueAndErr()
	if err != nil {
		return Ban{}, fmt.Errorf("mailbox: read ban %x: %w", it.Key(), err)
	}
	rec := new(evlog.BanRecord)
	if err := evlog.UnmarshalRecord(v, rec); err != nil {
		return Ban{}, fmt.Errorf("mailbox: decode ban %x: %w", it.Key(), err)
	}
	return banOf(rec)
}

// Banned reports whether a ban in force at now covers ip. A failed read
// counts as not banned (and is logged): the ban list must not take the
// node's service down with it.
func (s *Store) Banned(ip netip.Addr, now time.Time) bool {
	_, ok, err := s.BanFor(ip, now)
	if err != nil {
		s.logger.Error("ban look-up failed; letting the client in", "remote", ip.String(), "err", err)
		return false
	}
	return ok
}

// Bans lists the bans in force at now, in address order (IPv4 before
// IPv6; a shorter prefix before a longer one at the same address).
func (s *Store) Bans(now time.Time) (out []*evlog.BanRecord, err error) {
	defer func() {
		slices.SortFunc(out, func(a, b *evlog.BanRecord) int {
			pa, pb := netip.MustParsePrefix(a.GetPrefix()), netip.MustParsePrefix(b.GetPrefix())
			return cmp.Or(pa.Addr().Compare(pb.Addr()), cmp.Compare(pa.Bits(), pb.Bits()))
		})
	}()
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixBan), prefixEnd([]byte(prefixBan)), func(k, v []byte) (bool, error) {
			rec := new(evlog.BanRecord)
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, fmt.Errorf("mailbox: decode ban %x: %w", k, err)
			}
			if _, err := netip.ParsePrefix(rec.GetPrefix()); err != nil {
				return false, fmt.Errorf("mailbox: stored ban %x: %w", k, err)
			}
			if x := rec.GetExpiresUnix(); x == 0 || now.Unix() < x {
				out = append(out, rec)
			}
			return true, nil
		})
	})
	return out, err
}

// NextBanExpiry is the earliest expiry of any stored ban (expired ones
// included until pruned); ok is false when no ban expires.
func (s *Store) NextBanExpiry() (at time.Time, ok bool, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixBanExpiry), prefixEnd([]byte(prefixBanExpiry)), func(k, _ []byte) (bool, error) {
			if len(k) < prefixLen+8 {
				return false, fmt.Errorf("mailbox: ban expiry key %x", k)
			}
			at, ok = time.Unix(int64(binary.BigEndian.Uint64(k[prefixLen:])), 0).UTC(), true
			return false, nil
		})
	})
	return at, ok, err
}
