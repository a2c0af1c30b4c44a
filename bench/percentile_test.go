package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ten := func() []time.Duration {
		var d []time.Duration
		for i := 10; i >= 1; i-- {
			d = append(d, time.Duration(i))
		}
		return d
	}
	tests := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 99, 7},
		{ten(), 50, 5},
		{ten(), 90, 9},
		{ten(), 99, 10},
		{ten(), 100, 10},
		{[]time.Duration{3, 1, 2}, 50, 2},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(p%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}
