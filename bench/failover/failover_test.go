package failover

import (
	"testing"

	"github.com/surat-mail/surat/bench/smtpload"
)

func TestSummarise(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		accepted              []int // per 100 ms bucket; the last is partial and left out
		killAt, leaderAt      float64
		wantBefore, wantAfter float64
		wantGap, wantRecover  float64
	}{
		{
			// 10 per bucket, killed at 300 ms (bucket 3), nothing for
			// three buckets, back in bucket 6; new leader at 550 ms, so
			// "after" starts at bucket 16.
			name:     "dip and recovery",
			accepted: []int{10, 10, 10, 4, 0, 0, 0, 9, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 3},
			killAt:   300, leaderAt: 550,
			wantBefore: 100, wantAfter: 80, wantGap: 300, wantRecover: 400,
		},
		{
			name:     "no dip",
			accepted: []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 1},
			killAt:   300, leaderAt: 310,
			wantBefore: 100, wantAfter: 100, wantGap: 0, wantRecover: 0,
		},
		{
			name:     "never back",
			accepted: []int{10, 10, 10, 0, 0, 0, 0, 0},
			killAt:   300, leaderAt: 400,
			wantBefore: 100, wantAfter: 0, wantGap: 400, wantRecover: -1,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := Record{KillAtMs: tt.killAt, LeaderAtMs: tt.leaderAt, SMTP: &smtpload.Result{
				Timeline: &smtpload.Timeline{BucketMs: 100, Accepted: tt.accepted, Failed: make([]int, len(tt.accepted))},
			}}
			summarise(&rec)
			if rec.BeforePerS != tt.wantBefore || rec.AfterPerS != tt.wantAfter || rec.GapMs != tt.wantGap || rec.RecoverMs != tt.wantRecover {
				t.Errorf("before %v after %v gap %v recover %v; want %v %v %v %v", rec.BeforePerS, rec.AfterPerS, rec.GapMs, rec.RecoverMs,
					tt.wantBefore, tt.wantAfter, tt.wantGap, tt.wantRecover)
			}
		})
	}
}
