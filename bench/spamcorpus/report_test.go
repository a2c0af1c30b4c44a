package spamcorpus

import (
	"bytes"
	"strings"
	"testing"

	"github.com/surat-mail/surat/bench/smtpload"
)

func TestWriteQualityMarkdown(t *testing.T) {
	recs := []QualityRecord{{Kind: "corpus", Package: Package + "@" + Version, Messages: 10, Ham: 6, Spam: 4, Folds: 2, Seed: 1}}
	for f := 1; f <= 2; f++ {
		recs = append(recs,
			QualityRecord{Kind: "fold", Classifier: Surat, Fold: f, TrainHam: 3, TrainSpam: 2, Threshold: "required=9.00",
				Tally: Tally{Ham: 3, Spam: 2, SpamInJunk: 2}, Fields: &FieldCheck{}, Status: "global spam=2 ham=3",
				Scores: &Scores{Ham: []float64{0.1, 0.2, 1}, Spam: []float64{9.5, 9.9}}},
			QualityRecord{Kind: "fold", Classifier: Bogofilter, Fold: f, TrainHam: 3, TrainSpam: 2, Threshold: BogofilterCutoff,
				Tally: Tally{Ham: 3, Spam: 2, HamInJunk: 1, SpamInJunk: 1}, Unsure: 1,
				Scores: &Scores{Ham: []float64{0.1, 0.2, 0.999}, Spam: []float64{0.5, 1}}})
	}
	var b bytes.Buffer
	WriteQualityMarkdown(&b, recs, "Machine: test.")
	md := b.String()
	for _, want := range []string{
		"| surat | required=9.00 | 6 | 0 | 0.00% | 4 | 4 | 100.00% | **met** |",
		"| bogofilter | " + BogofilterCutoff + " (2 unsure in INBOX) | 6 | 2 | 33.33% | 4 | 2 | 50.00% | – |",
		"| 2 | 3/2 | 3/2 |",
		"| surat | 0.50% | 9.5 | 0.00% | 100.00% |",
		"global spam=2 ham=3",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	recs2, err := ReadQuality(strings.NewReader(`{"kind":"fold","classifier":"surat","fold":1,"tally":{"ham":1}}` + "\n\n"))
	if err != nil || len(recs2) != 1 || recs2[0].Tally.Ham != 1 {
		t.Errorf("ReadQuality = %+v, %v", recs2, err)
	}
}

func TestWriteCostMarkdown(t *testing.T) {
	round := func(m Mode, r int, rate, cpu float64) CostRecord {
		return CostRecord{Kind: "round", Mode: m, Round: r, ServerCPUMsPerMsg: cpu, Filed: 100, Distinct: 50, MeanBytes: 4000,
			SMTP: &smtpload.Result{AcceptedPerS: rate, Attempted: 100}}
	}
	recs := []CostRecord{{Kind: "train", TrainMessages: 6046, TrainS: 60, Status: "global spam=1896 ham=4150"},
		round(On, 1, 900, 2), round(Off, 1, 1000, 1.8), round(On, 2, 880, 2), round(Off, 2, 1000, 1.8)}
	s := SummariseCost(recs)
	if r := s.Ratio(); r < 0.889 || r > 0.891 {
		t.Errorf("Ratio = %v, want 0.89", r)
	}
	var b bytes.Buffer
	WriteCostMarkdown(&b, recs, "Machine: test.", "BenchmarkStoreClassify 1 ms/op")
	md := b.String()
	for _, want := range []string{"| on / off (target ≥ 0.85) | **0.89** (**met**) |", "1000 → 890", "6046 messages", "BenchmarkStoreClassify 1 ms/op"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
