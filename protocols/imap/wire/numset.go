package wire

import (
	"math"
	"slices"

	"github.com/emersion/go-imap/v2"
)

// Sequence sets (RFC 9051 §9 sequence-set; "$" of RFC 5182 §2.1). A set is
// returned sorted and merged in go-imap's form: "*" is 0, "n:*" is
// {n, 0}, and "$" is imap.SearchRes(). A zero sequence number is a syntax
// error (RFC 9051 §9: nz-number), answered BAD.

// SeqSet reads a sequence set of message sequence numbers. "$" is refused:
// use NumSet where SEARCHRES applies.
func (d *Decoder) SeqSet() (imap.SeqSet, error) {
	ranges, res, err := d.numSet(false)
	if err != nil || res {
		return nil, err
	}
	return seqRanges(ranges), nil
}

// UIDSet reads a set of UIDs; "$" (the saved search result, RFC 5182) is
// returned as imap.SearchRes().
func (d *Decoder) UIDSet() (imap.UIDSet, error) {
	ranges, res, err := d.numSet(true)
	if err != nil {
		return nil, err
	}
	if res {
		return imap.SearchRes(), nil
	}
	out := make(imap.UIDSet, len(ranges))
	for i, r := range ranges {
		out[i] = imap.UIDRange{Start: imap.UID(r.Start), Stop: imap.UID(r.Stop)}
	}
	return out, nil
}

// NumSet reads a sequence set of UIDs (uid) or sequence numbers; "$" is
// imap.SearchRes() in both (RFC 5182 §2.1: it names the saved result in
// either kind of command).
func (d *Decoder) NumSet(uid bool) (imap.NumSet, error) {
	if uid {
		return d.UIDSet()
	}
	ranges, res, err := d.numSet(true)
	if err != nil {
		return nil, err
	}
	if res {
		return imap.SearchRes(), nil
	}
	return seqRanges(ranges), nil
}

type numRange struct{ Start, Stop uint32 }

func seqRanges(rs []numRange) imap.SeqSet {
	out := make(imap.SeqSet, len(rs))
	for i, r := range rs {
		out[i] = imap.SeqRange{Start: r.Start, Stop: r.Stop}
	}
	return out
}

func (d *Decoder) numSet(allowRes bool) (ranges []numRange, res bool, err error) {
	if ok, err := d.Maybe('$'); err != nil || ok {
		if ok && !allowRes {
			return nil, false, syntaxf("$ is not allowed here")
		}
		return nil, ok, err
	}
	for {
		start, err := d.seqNumber()
		if err != nil {
			return nil, false, err
		}
		stop := start
		if ok, err := d.Maybe(':'); err != nil {
			return nil, false, err
		} else if ok {
			if stop, err = d.seqNumber(); err != nil {
				return nil, false, err
			}
		}
		ranges = append(ranges, numRange{start, stop})
		if ok, err := d.Maybe(','); err != nil {
			return nil, false, err
		} else if !ok {
			break
		}
	}
	return normalizeRanges(ranges), false, nil
}

// seqNumber reads nz-number or "*" (returned as 0).
func (d *Decoder) seqNumber() (uint32, error) {
	if ok, err := d.Maybe('*'); ok || err != nil {
		return 0, err
	}
	n, err := d.Number()
	if err != nil {
		return 0, syntaxf("Invalid sequence set")
	}
	if n == 0 {
		return 0, syntaxf("Invalid sequence set: 0 is not a message number")
	}
	return n, nil
}

// normalizeRanges sorts and merges ranges, "*" (0) counting as larger than
// any number, into go-imap's representation.
func normalizeRanges(rs []numRange) []numRange {
	type r64 struct{ lo, hi uint64 }
	v := func(n uint32) uint64 {
		if n == 0 {
			return math.MaxUint32 + 1
		}
		return uint64(n)
	}
	tmp := make([]r64, len(rs))
	for i, r := range rs {
		lo, hi := v(r.Start), v(r.Stop)
		if lo > hi {
			lo, hi = hi, lo
		}
		tmp[i] = r64{lo, hi}
	}
	slices.SortFunc(tmp, func(a, b r64) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	out := tmp[:0]
	for _, r := range tmp {
		if n := len(out); n > 0 && r.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, r.hi)
			continue
		}
		out = append(out, r)
	}
	back := func(n uint64) uint32 {
		if n > math.MaxUint32 {
			return 0
		}
		return uint32(n)
	}
	res := make([]numRange, len(out))
	for i, r := range out {
		res[i] = numRange{back(r.lo), back(r.hi)}
	}
	return res
}
