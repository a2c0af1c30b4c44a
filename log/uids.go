package log

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// RangesOf turns a list of UIDs (any order, duplicates allowed) into sorted,
// merged, non-overlapping ranges.
func RangesOf(uids []uint32) []*UidRange {
	if len(uids) == 0 {
		return nil
	}
	s := slices.Clone(uids)
	slices.Sort(s)
	s = slices.Compact(s)
	var out []*UidRange
	cur := &UidRange{First: s[0], Last: s[0]}
	for _, u := range s[1:] {
		if u == cur.Last+1 {
			cur.Last = u
			continue
		}
		out = append(out, cur)
		cur = &UidRange{First: u, Last: u}
	}
	return append(out, cur)
}

// Contains reports whether uid lies in any of the ranges.
func Contains(ranges []*UidRange, uid uint32) bool {
	for _, r := range ranges {
		if uid >= r.GetFirst() && uid <= r.GetLast() {
			return true
		}
	}
	return false
}

// Expand lists the UIDs in ranges, in range order. It is meant for ranges
// that name existing messages; callers bound the total.
func Expand(ranges []*UidRange) []uint32 {
	var out []uint32
	for _, r := range ranges {
		if r.GetLast() < r.GetFirst() {
			continue
		}
		for u := r.GetFirst(); ; u++ {
			out = append(out, u)
			if u == r.GetLast() {
				break
			}
		}
	}
	return out
}

// maxLoggedRanges bounds the ranges UIDAttr spells out.
const maxLoggedRanges = 64

// UIDAttr is the log attribute naming the messages uids (any order): "uid"
// with the number when there is one, so that grep uid=N finds it, else
// "uids" with an IMAP sequence set ("3:5,9"), cut after 64 ranges with
// ",…". The two keys keep one type each in JSON logs (docs/DESIGN.md).
func UIDAttr(uids []uint32) slog.Attr {
	return UIDRangesAttr(RangesOf(uids))
}

// UIDRangesAttr is UIDAttr for ranges as apply returns them.
func UIDRangesAttr(ranges []*UidRange) slog.Attr {
	if len(ranges) == 1 && ranges[0].GetFirst() == ranges[0].GetLast() {
		return slog.Uint64("uid", uint64(ranges[0].GetFirst()))
	}
	var b strings.Builder
	for i, r := range ranges {
		if i == maxLoggedRanges {
			b.WriteString(",…")
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(r.GetFirst()), 10))
		if r.GetLast() != r.GetFirst() {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(r.GetLast()), 10))
		}
	}
	return slog.String("uids", b.String())
}
