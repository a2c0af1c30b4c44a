package sieveload

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/bench/smtpload"
)

func roundRec(m Mode, r int, perS, cpu float64) Record {
	return Record{Kind: "round", Started: time.Date(2026, 12, 2, 9, 0, r, 0, time.UTC), Mode: m, Round: r,
		Users: 8, Rules: 20, ServerCPUMsPerMsg: cpu, Filed: 6200, Warmup: 200,
		SMTP: &smtpload.Result{Senders: 32, BodySize: 4096, Accepted: 6000, AcceptedPerS: perS, Load1Before: 1.5}}
}

func TestSummaryAndMarkdown(t *testing.T) {
	recs := []Record{
		roundRec(On, 1, 900, 2.0), roundRec(Off, 1, 1000, 1.8),
		roundRec(On, 2, 950, 2.1), roundRec(Off, 2, 1100, 1.7),
		roundRec(On, 3, 700, 2.2), roundRec(Off, 3, 1050, 1.9),
	}
	s, ok := Summarize(recs)
	if !ok || s.Ratio() != 900.0/1050 || s.PairedRatio() != 950.0/1100 {
		t.Fatalf("summary %+v", s)
	}
	var b bytes.Buffer
	WriteMarkdown(&b, recs, "Machine: test.")
	md := b.String()
	for _, want := range []string{
		"| 3 / 3 | 1050 (1000–1100) | 900 (700–950) | **0.86** (met) | 0.86 | 1.80 → 2.10 (0.86) |",
		"| 1 | on | 6000 | 900 |",
		"8 users",
		"20-rule script",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	recs, err := ReadRecords(strings.NewReader(`{"kind":"round","mode":"off","round":1,"smtp":{"accepted_per_s":5}}` + "\n\n"))
	if err != nil || len(recs) != 1 || recs[0].SMTP.AcceptedPerS != 5 {
		t.Fatalf("ReadRecords: %v %+v", err, recs)
	}
}

func TestScriptHasTwentyRules(t *testing.T) {
	if Rules() != 20 {
		t.Fatalf("%d rules", Rules())
	}
	if got := Recipients(2); got[0] != "sieve1@example.test" || got[1] != "sieve2@example.test" {
		t.Fatalf("recipients %q", got)
	}
	c := Corpus(1, "sieveload round 1 script on", 3, 100)
	if len(c) != 3 || !bytes.Contains(c[2], []byte("Subject: sieveload round 1 script on message 2\r\n")) || bytes.Equal(c[0], c[1]) {
		t.Fatalf("corpus %q", c)
	}
}
