package spamcorpus

import (
	"math"
	"slices"
)

// Verdict is what a classifier made of one test message.
type Verdict struct {
	Index int  // the message's corpus index
	Spam  bool // its label
	Junk  bool // filed in Junk (bogofilter: classified S)
	// Score is the classifier's number for it (Surat: X-Spam-Status's
	// score=; bogofilter: the spamicity), NaN when it gave none.
	Score float64
}

// Tally is a confusion matrix, the positive class being spam.
type Tally struct {
	Ham           int `json:"ham"`
	Spam          int `json:"spam"`
	HamInJunk     int `json:"ham_in_junk"`  // false positives
	SpamInJunk    int `json:"spam_in_junk"` // true positives
	UnscoredCount int `json:"unscored,omitempty"`
}

// Add counts a verdict.
func (t *Tally) Add(v Verdict) {
	if math.IsNaN(v.Score) {
		t.UnscoredCount++
	}
	if v.Spam {
		t.Spam++
		if v.Junk {
			t.SpamInJunk++
		}
		return
	}
	t.Ham++
	if v.Junk {
		t.HamInJunk++
	}
}

// Plus is the sum of two tallies.
func (t Tally) Plus(o Tally) Tally {
	return Tally{Ham: t.Ham + o.Ham, Spam: t.Spam + o.Spam, HamInJunk: t.HamInJunk + o.HamInJunk,
		SpamInJunk: t.SpamInJunk + o.SpamInJunk, UnscoredCount: t.UnscoredCount + o.UnscoredCount}
}

// FPRate is the share of ham filed in Junk.
func (t Tally) FPRate() float64 { return ratio(t.HamInJunk, t.Ham) }

// Recall is the share of spam filed in Junk.
func (t Tally) Recall() float64 { return ratio(t.SpamInJunk, t.Spam) }

func nan() float64 { return math.NaN() }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Scores are a classifier's scores of the test ham and of the test spam,
// for moving the threshold after the run.
type Scores struct {
	Ham  []float64 `json:"ham"`
	Spam []float64 `json:"spam"`
}

// Add records a scored verdict's score.
func (s *Scores) Add(v Verdict) {
	if math.IsNaN(v.Score) {
		return
	}
	if v.Spam {
		s.Spam = append(s.Spam, v.Score)
	} else {
		s.Ham = append(s.Ham, v.Score)
	}
}

// Point is one threshold's outcome: a message is spam when its score is at
// least Threshold.
type Point struct {
	Threshold float64
	FPRate    float64
	Recall    float64
}

// At is the outcome of threshold t.
func (s Scores) At(t float64) Point {
	count := func(xs []float64) int {
		n := 0
		for _, x := range xs {
			if x >= t {
				n++
			}
		}
		return n
	}
	return Point{Threshold: t, FPRate: ratio(count(s.Ham), len(s.Ham)), Recall: ratio(count(s.Spam), len(s.Spam))}
}

// Above is the outcome of calling spam what scores above t (strictly).
func (s Scores) Above(t float64) Point {
	count := func(xs []float64) int {
		n := 0
		for _, x := range xs {
			if x > t {
				n++
			}
		}
		return n
	}
	return Point{Threshold: t, FPRate: ratio(count(s.Ham), len(s.Ham)), Recall: ratio(count(s.Spam), len(s.Spam))}
}

// BestUnder is the threshold, among the scores seen, with the highest
// recall whose false-positive rate is at most maxFP (the lowest such
// threshold); ok is false when there are no scores.
func (s Scores) BestUnder(maxFP float64) (Point, bool) {
	if len(s.Ham) == 0 || len(s.Spam) == 0 {
		return Point{}, false
	}
	cands := append(slices.Clone(s.Ham), s.Spam...)
	slices.Sort(cands)
	cands = slices.Compact(cands)
	// Higher thresholds lower both rates: the first (lowest) candidate
	// meeting maxFP has the highest recall. Above every score: nothing
	// is spam.
	for _, t := range cands {
		if p := s.At(t); p.FPRate <= maxFP {
			return p, true
		}
	}
	return Point{Threshold: math.Inf(1), FPRate: 0, Recall: 0}, true
}

// Merge is the scores of several folds together.
func Merge(all ...Scores) Scores {
	var m Scores
	for _, s := range all {
		m.Ham = append(m.Ham, s.Ham...)
		m.Spam = append(m.Spam, s.Spam...)
	}
	return m
}
