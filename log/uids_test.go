package log

import (
	"slices"
	"testing"
)

func r(first, last uint32) *UidRange { return &UidRange{First: first, Last: last} }

func rangesEqual(a, b []*UidRange) bool {
	return slices.EqualFunc(a, b, func(x, y *UidRange) bool {
		return x.GetFirst() == y.GetFirst() && x.GetLast() == y.GetLast()
	})
}

func TestRangesOf(t *testing.T) {
	const max = ^uint32(0)
	tests := []struct {
		name string
		uids []uint32
		want []*UidRange
	}{
		{"nil", nil, nil},
		{"empty", []uint32{}, nil},
		{"one", []uint32{7}, []*UidRange{r(7, 7)}},
		{"run", []uint32{1, 2, 3}, []*UidRange{r(1, 3)}},
		{"unsorted with duplicates", []uint32{5, 3, 4, 3, 9, 1, 10, 5}, []*UidRange{r(1, 1), r(3, 5), r(9, 10)}},
		{"gaps", []uint32{2, 4, 6}, []*UidRange{r(2, 2), r(4, 4), r(6, 6)}},
		{"top of range", []uint32{max, max - 1, 0}, []*UidRange{r(0, 0), r(max-1, max)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.uids)
			got := RangesOf(tt.uids)
			if !rangesEqual(got, tt.want) {
				t.Errorf("RangesOf(%v) = %v, want %v", tt.uids, got, tt.want)
			}
			if !slices.Equal(in, tt.uids) {
				t.Errorf("RangesOf modified its input: %v, was %v", tt.uids, in)
			}
		})
	}
}

func TestContains(t *testing.T) {
	ranges := []*UidRange{r(1, 3), r(10, 10), r(20, 25)}
	tests := []struct {
		ranges []*UidRange
		uid    uint32
		want   bool
	}{
		{ranges, 0, false},
		{ranges, 1, true},
		{ranges, 3, true},
		{ranges, 4, false},
		{ranges, 10, true},
		{ranges, 11, false},
		{ranges, 22, true},
		{ranges, 26, false},
		{nil, 1, false},
		{[]*UidRange{nil}, 0, true}, // a nil range reads as 0:0
		{[]*UidRange{r(5, 4)}, 5, false},
	}
	for _, tt := range tests {
		if got := Contains(tt.ranges, tt.uid); got != tt.want {
			t.Errorf("Contains(%v, %d) = %v, want %v", tt.ranges, tt.uid, got, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	const max = ^uint32(0)
	tests := []struct {
		name   string
		ranges []*UidRange
		want   []uint32
	}{
		{"nil", nil, nil},
		{"single", []*UidRange{r(4, 4)}, []uint32{4}},
		{"in range order", []*UidRange{r(9, 10), r(1, 2)}, []uint32{9, 10, 1, 2}},
		{"inverted range skipped", []*UidRange{r(5, 3), r(7, 7)}, []uint32{7}},
		{"ends at max without wrapping", []*UidRange{r(max-1, max)}, []uint32{max - 1, max}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Expand(tt.ranges); !slices.Equal(got, tt.want) {
				t.Errorf("Expand(%v) = %v, want %v", tt.ranges, got, tt.want)
			}
		})
	}
}

func TestExpandInvertsRangesOf(t *testing.T) {
	uids := []uint32{8, 1, 2, 3, 5, 8, 100}
	got := Expand(RangesOf(uids))
	want := slices.Compact(slices.Sorted(slices.Values(uids)))
	if !slices.Equal(got, want) {
		t.Errorf("Expand(RangesOf(%v)) = %v, want %v", uids, got, want)
	}
}

func TestUIDAttr(t *testing.T) {
	for _, c := range []struct {
		uids []uint32
		want string
	}{
		{[]uint32{7}, "uid=7"},
		{[]uint32{5, 3, 4, 9}, "uids=3:5,9"},
	} {
		if got := UIDAttr(c.uids).String(); got != c.want {
			t.Errorf("UIDAttr(%v) = %s, want %s", c.uids, got, c.want)
		}
	}
}
