package smtpload

import (
	"math"
	"strings"
	"testing"
)

func TestDeltaFromMetricsText(t *testing.T) {
	parse := func(text string) Scrape {
		s := Scrape{}
		if err := s.add(strings.NewReader(text)); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Two nodes' worth summed: the same text added twice.
	before := parse(`# HELP surat_propose_duration_seconds x
surat_propose_duration_seconds_bucket{le="0.001"} 0
surat_propose_duration_seconds_bucket{le="0.002"} 0
surat_propose_duration_seconds_bucket{le="0.004"} 0
surat_propose_duration_seconds_bucket{le="+Inf"} 0
surat_propose_duration_seconds_sum 0
surat_propose_duration_seconds_count 0
surat_raft_entry_proposals_sum 0
surat_raft_entry_proposals_count 0
surat_proposals_total{result="ok"} 5
`)
	after := Scrape{}
	for range 2 {
		after.add(strings.NewReader(`surat_propose_duration_seconds_bucket{le="0.001"} 10
surat_propose_duration_seconds_bucket{le="0.002"} 90
surat_propose_duration_seconds_bucket{le="0.004"} 100
surat_propose_duration_seconds_bucket{le="+Inf"} 100
surat_propose_duration_seconds_sum 0.15
surat_propose_duration_seconds_count 100
surat_raft_entry_proposals_sum 100
surat_raft_entry_proposals_count 40
surat_raft_forwarded_entries_total 7
surat_proposals_total{result="ok"} 105
`))
	}
	m := Delta(before, after, 2)
	if m.Proposals != 200 || m.Entries != 40 || m.Forwarded != 14 {
		t.Fatalf("proposals %d entries %d forwarded %d", m.Proposals, m.Entries, m.Forwarded)
	}
	if math.Abs(m.ProposeMeanMs-1.5) > 1e-9 || math.Abs(m.ProposalsPerEntry-2.5) > 1e-9 {
		t.Errorf("mean %.3f ms, per entry %.3f", m.ProposeMeanMs, m.ProposalsPerEntry)
	}
	// Rank 100 of 200 falls in (1, 2] ms at 80/160 of the way.
	if want := 1 + 80.0/160; math.Abs(m.ProposeP50Ms-want) > 1e-9 {
		t.Errorf("p50 %.4f ms, want %.4f", m.ProposeP50Ms, want)
	}
	if want := 2 + 2*18.0/20; math.Abs(m.ProposeP99Ms-want) > 1e-9 {
		t.Errorf("p99 %.4f ms, want %.4f", m.ProposeP99Ms, want)
	}
	if m.Results["ok"] != 205 {
		t.Errorf("results %v", m.Results)
	}
}

func TestWriteTables(t *testing.T) {
	var rs []Result
	for _, rate := range []float64{900, 1000, 1100} {
		rs = append(rs,
			Result{Label: "surat", Senders: 32, Accepted: 3000, AcceptedPerS: rate, P50Ms: 10, P99Ms: 60},
			Result{Label: "postfix", Senders: 32, Accepted: 3000, AcceptedPerS: 500, Delivered: 3000, E2EPerS: 250})
	}
	var b strings.Builder
	WriteTables(&b, rs, "surat", "postfix", Target{MsgsPerS: 900, P99Ms: 50})
	out := b.String()
	for _, want := range []string{
		"| 32 | 1000 (900–1100) | 10.0 (10.0–10.0) | 60.0 (60.0–60.0) | 500 (500–500) | 0.0 (0.0–0.0) |",
		"**4.00×**",
		"≥ 900 msgs/s: 1000, met (+11%)",
		"p99 < 50 ms: 60.0 ms, **missed**",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, row := range []string{"\n| surat | 32 | 0 | 3000 |", "\n| surat | 32 | 3000 | 3000 |", "\n| surat | 32 | 6000 | 3000 |"} {
		if !strings.Contains(out, row) {
			t.Errorf("no runs-table row starting %q", row)
		}
	}
}
