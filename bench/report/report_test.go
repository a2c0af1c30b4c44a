package report

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/bench/failover"
	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/smtpload"
)

// inputs: two SMTP rounds at 8 senders, three IMAP rounds, one mixed run
// per server and mode, one kill timeline.
func inputs() *Inputs {
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	in := &Inputs{}
	for i, v := range []struct{ surat, e2e, acc float64 }{{1500, 500, 900}, {1700, 700, 1100}} {
		at := t0.Add(time.Duration(i) * time.Minute)
		in.SMTP = append(in.SMTP,
			smtpload.Result{Label: "surat", Senders: 8, AcceptedPerS: v.surat, Started: at, Load1Before: 1.5, Attempted: 100, Retries: 2, RetriedMessages: 2,
				RetryKinds: map[string]int{"DATA-end 451": 2}},
			smtpload.Result{Label: "postfix", Senders: 8, AcceptedPerS: v.acc, E2EPerS: v.e2e, Started: at, Load1Before: 2.5, Attempted: 100})
	}
	static := func(label string, tls bool, meta float64, warm bool) imapload.Record {
		return imapload.Record{Kind: "static", Label: label, TLS: tls, Warm: warm, Start: t0,
			Static: &imapload.StaticResult{Messages: 10000, FetchMetaS: meta, SelectS: meta / 10}}
	}
	for _, meta := range []float64{0.1, 0.2, 0.3} {
		in.IMAP = append(in.IMAP, static("surat", true, meta, false), static("dovecot", true, meta*2, false), static("dovecot", false, meta/2, false))
	}
	// A warm-up round is never counted.
	in.IMAP = append(in.IMAP, static("surat", true, 100, true))
	mixed := func(label string, tls bool, iter int) imapload.Record {
		return imapload.Record{Kind: "mixed", Label: label, TLS: tls, Mixed: &imapload.MixedResult{Clients: 20, WallS: 10, Iterations: iter}}
	}
	in.IMAP = append(in.IMAP, mixed("surat", true, 5000), mixed("dovecot", true, 4000), mixed("dovecot", false, 10000))
	in.IMAP = append(in.IMAP, imapload.Record{Kind: "fill", Label: "surat", TLS: true, Fill: &imapload.FillResult{Appended: 300, Retries: 3,
		RetryKinds: map[string]int{"NO [UNAVAILABLE]": 3}}})
	acc := []int{10, 10, 10, 0, 0, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 3}
	in.Failover = []failover.Record{
		{Kind: "election", Signal: "KILL", ElectedMs: 400, RejoinMs: 60, PollMs: 10, Started: t0},
		{Kind: "election", Signal: "KILL", ElectedMs: 300, RejoinMs: 70, PollMs: 10, Started: t0},
		{Kind: "election", Signal: "TERM", ElectedMs: 12, RejoinMs: 60, PollMs: 10, Started: t0},
		{Kind: "timeline", Round: 1, KillAtMs: 300, LeaderAtMs: 700, ElectedMs: 400, BeforePerS: 100, AfterPerS: 120, GapMs: 200, RecoverMs: 200,
			SMTP: &smtpload.Result{Senders: 8, Accepted: 150, Timeline: &smtpload.Timeline{BucketMs: 100, Accepted: acc, Failed: make([]int, len(acc))}}},
	}
	return in
}

func TestRows(t *testing.T) {
	rows := Rows(inputs())
	byShort := map[string]Row{}
	for _, r := range rows {
		byShort[r.Short] = r
	}
	for _, tt := range []struct {
		short          string
		surat          float64
		fair, fast     float64 // ratios
		rounds         int
		headlineWanted bool
	}{
		{"SMTP ingest ×8", 1600, 1600.0 / 600, 1600.0 / 1000, 2, true},
		{"IMAP metadata FETCH", 0.2, 2, 0.5, 3, true}, // times: Dovecot TLS twice as slow, plaintext twice as fast
		{"IMAP mixed", 500, 1.25, 0.5, 1, true},
		{"IMAP SELECT", 0.02, 2, 0.5, 3, false},
	} {
		t.Run(tt.short, func(t *testing.T) {
			r, ok := byShort[tt.short]
			if !ok {
				t.Fatalf("no row %q in %v", tt.short, rows)
			}
			near := func(a, b float64) bool { return a > b*0.999 && a < b*1.001 }
			if !near(r.Surat.Median, tt.surat) || !near(r.Ratio(r.Peer), tt.fair) || !near(r.Ratio(r.Fast), tt.fast) {
				t.Errorf("surat %v, ratios %v / %v; want %v, %v / %v", r.Surat.Median, r.Ratio(r.Peer), r.Ratio(r.Fast), tt.surat, tt.fair, tt.fast)
			}
			if r.Surat.N != tt.rounds || r.Headline != tt.headlineWanted {
				t.Errorf("rounds %d headline %v, want %d %v", r.Surat.N, r.Headline, tt.rounds, tt.headlineWanted)
			}
		})
	}
	if _, ok := byShort["POP3 RETR"]; ok {
		t.Error("a row with no data at all is kept")
	}
}

func TestWriteSummary(t *testing.T) {
	var b bytes.Buffer
	WriteSummary(&b, inputs(), Machine{Cores: 2, MemBytes: 24 << 30, CPU: "AMD EPYC", Kernel: "6.1", Debian: "12.11", Commit: "abc1234", Load: "0.1 0.2 0.3"}, "summary.png")
	out := b.String()
	for _, want := range []string{
		"2 cores (AMD EPYC), 24 GiB RAM, Debian 12.11, Linux 6.1",
		"built from abc1234",
		"one-minute load 1.50–2.50",
		"| SMTP ingest, 8 senders, 4 KiB, new connection per message | 1600 msgs/s (1500–1700) | 600 msgs/s (500–700), Postfix→Dovecot (in the maildir) | **2.67×** |",
		"**2.00×**", "**1.25×**",
		"![Surat/peer ratios",
		"| SIGKILL of the leader → a survivor names a new leader (polled every 10 ms), idle cluster | 350 ms | 300–400 ms | 2 |",
		"| SMTP ingest | surat | 200 | 4 | 4 | DATA-end 451 ×4 | 0 |",
		"| IMAP fill (APPEND) | surat | 300 | – | 3 | NO [UNAVAILABLE] ×3 | 0 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteChart(t *testing.T) {
	in := inputs()
	for _, tt := range []struct {
		name     string
		rows     []Row
		failover []failover.Record
		wantErr  bool
	}{
		{"both panels", Rows(in), in.Failover, false},
		{"ratios only", Rows(in), nil, false},
		{"timeline only", nil, in.Failover, false},
		{"nothing", nil, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := WriteChart(&b, tt.rows, tt.failover)
			if tt.wantErr {
				if err == nil {
					t.Fatal("no error for an empty chart")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if img.Bounds().Dx() < 100 || img.Bounds().Dy() < 100 {
				t.Errorf("image %v", img.Bounds())
			}
		})
	}
}

func TestRoundTicks(t *testing.T) {
	for _, tt := range []struct {
		top   float64
		first float64 // the second tick: the step
		n     int
	}{
		{3400, 500, 7}, {100, 20, 6}, {9, 2, 5}, {0.9, 0.2, 5},
	} {
		ticks := roundTicks(tt.top)
		if len(ticks) != tt.n || math.Abs(ticks[1].Value-tt.first) > 1e-9 {
			t.Errorf("roundTicks(%v): %d ticks, step %v; want %d, %v", tt.top, len(ticks), ticks[1].Value, tt.n, tt.first)
		}
	}
	if got := roundTicks(0.9)[2].Label; got != "0.4" {
		t.Errorf("label %q, want 0.4", got)
	}
}
