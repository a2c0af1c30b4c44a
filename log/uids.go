package log

import "slices"

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
