package authload

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/bench/smtpload"
)

func roundRec(key string, m Mode, r int, perS, cpu float64) Record {
	return Record{Kind: "round", Started: time.Date(2026, 12, 2, 9, 0, r, 0, time.UTC), Key: key, Mode: m, Round: r,
		DNSQueries: map[Mode]int{On: 9, Off: 0}[m], ServerCPUMsPerMsg: cpu, Checked: 20, Warmup: 200,
		SMTP: &smtpload.Result{Senders: 32, BodySize: 4096, Accepted: 6000, AcceptedPerS: perS, Load1Before: 1.5}}
}

func TestSummariesAndMarkdown(t *testing.T) {
	recs := []Record{
		{Kind: "sign", Sign: &SignResult{Keys: SignEd25519, BodySize: 4096, MsgBytes: 4328, N: 1000, NsPerOp: 68000}},
		{Kind: "sign", Sign: &SignResult{Keys: SignRSA, BodySize: 4096, MsgBytes: 4328, N: 500, NsPerOp: 1_600_000}},
		{Kind: "sign", Sign: &SignResult{Keys: SignBoth, BodySize: 4096, MsgBytes: 4328, N: 400, NsPerOp: 1_700_000}},
		roundRec(KeyEd25519, On, 1, 900, 2.0), roundRec(KeyEd25519, Off, 1, 1000, 1.8),
		roundRec(KeyEd25519, On, 2, 950, 2.1), roundRec(KeyEd25519, Off, 2, 1100, 1.7),
		roundRec(KeyEd25519, On, 3, 700, 2.2), roundRec(KeyEd25519, Off, 3, 1050, 1.9),
		roundRec(KeyRSA, On, 1, 500, 3.0), roundRec(KeyRSA, Off, 1, 1000, 1.8),
	}
	sums := Summaries(recs)
	if len(sums) != 2 || sums[0].Key != KeyEd25519 || sums[1].Key != KeyRSA {
		t.Fatalf("summaries: %+v", sums)
	}
	// Medians: on 900, off 1050.
	if got, want := sums[0].Ratio(), 900.0/1050; got != want {
		t.Errorf("Ed25519 ratio %v, want %v", got, want)
	}
	// Pairs: 900/1000, 950/1100, 700/1050.
	if got, want := sums[0].PairedRatio(), 950.0/1100; got != want {
		t.Errorf("Ed25519 paired ratio %v, want %v", got, want)
	}
	if sums[0].DNSOn != 27 {
		t.Errorf("DNS queries over the on rounds: %d", sums[0].DNSOn)
	}
	var b bytes.Buffer
	WriteMarkdown(&b, recs, "Machine: test.")
	md := b.String()
	for _, want := range []string{
		"| Ed25519 | 3 / 3 | 1050 (1000–1100) | 900 (700–950) | **0.86** (met) | 0.86 | 1.80 → 2.10 (0.86) | 27 |",
		"| RSA-2048 | 1 / 1 | 1000 (1000–1000) | 500 (500–500) | **0.50** (**not met**) |",
		"| Ed25519 | 4328 (4096) | 1000 | **0.068** (met) |",
		"| RSA-2048 | 4328 (4096) | 500 | **1.600** |",
		"| Ed25519 + RSA-2048 | 4328 (4096) | 400 | **1.700** |",
		"Machine: test.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

// TestSignKeys: each signing measurement signs with the keys it names.
func TestSignKeys(t *testing.T) {
	for which, want := range map[string]int{SignEd25519: 1, SignRSA: 1, SignBoth: 2} {
		s, err := surat(which)
		if err != nil {
			t.Fatal(err)
		}
		sels := s.Selectors()
		if len(sels) != want {
			t.Errorf("%s: selectors %v", which, sels)
		}
		if which == SignEd25519 && !strings.HasSuffix(sels[0], "e") || which == SignRSA && !strings.HasSuffix(sels[0], "r") {
			t.Errorf("%s: selectors %v", which, sels)
		}
	}
	if _, err := surat("dsa"); err == nil {
		t.Error("an unknown key set was accepted")
	}
}
