// Package bayes: a stand-in for H-bayes' package with the plan's API, so
// that the classifier check, training and the CLI build before it lands.
// Delete this file when merging h-bayes.
package bayes

import (
	"bufio"
	"bytes"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	evlog "github.com/surat-mail/surat/log"
)

// Tokenizer collects a message's token hashes.
type Tokenizer struct {
	buf   bytes.Buffer
	feats []string
}

// NewTokenizer returns an empty Tokenizer.
func NewTokenizer() *Tokenizer { return &Tokenizer{} }

func (t *Tokenizer) Write(p []byte) (int, error) {
	if t.buf.Len() < 256<<10 {
		t.buf.Write(p[:min(len(p), 256<<10-t.buf.Len())])
	}
	return len(p), nil
}

// AddFeature adds a feature token.
func (t *Tokenizer) AddFeature(name string) { t.feats = append(t.feats, name) }

// Tokens returns the sorted distinct hashes.
func (t *Tokenizer) Tokens() []uint64 {
	var out []uint64
	add := func(s string) {
		h := fnv.New64a()
		h.Write([]byte(s))
		out = append(out, h.Sum64())
	}
	sc := bufio.NewScanner(bytes.NewReader(t.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for _, w := range strings.FieldsFunc(sc.Text(), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len(w) >= 3 && len(w) <= 40 {
				add(strings.ToLower(w))
			}
		}
	}
	for _, f := range t.feats {
		add(f)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Tokenize tokenizes a whole message.
func Tokenize(r io.Reader) ([]uint64, error) {
	t := NewTokenizer()
	if _, err := io.Copy(t, r); err != nil {
		return nil, err
	}
	return t.Tokens(), nil
}

// Counts are one token's counts.
type Counts struct{ Spam, Ham uint32 }

// Totals are a model's trained messages.
type Totals struct{ Spam, Ham uint64 }

// Model gives counts.
type Model interface {
	SpamCounts(user string, tokens []uint64) ([]Counts, Totals, error)
}

// Classifier classifies.
type Classifier struct {
	Model     Model
	Threshold float64
}

// Verdict is a classification.
type Verdict struct {
	Probability float64
	Spam        bool
	Score       float64
	Tokens      int
	Used        int
}

// Classify combines the global and the user's model (naively).
func (c *Classifier) Classify(user string, tokens []uint64) (Verdict, error) {
	v := Verdict{Tokens: len(tokens), Probability: 0.5}
	var sum float64
	for _, u := range []string{"", user} {
		if u == "" && user != "" {
			continue
		}
		counts, tot, err := c.Model.SpamCounts(u, tokens)
		if err != nil {
			return v, err
		}
		for _, k := range counts {
			n := float64(k.Spam + k.Ham)
			if n == 0 {
				continue
			}
			ps := (float64(k.Spam)/float64(max(tot.Spam, 1)) + 1e-3)
			ph := (float64(k.Ham)/float64(max(tot.Ham, 1)) + 1e-3)
			sum += math.Log(ps / ph)
			v.Used++
		}
	}
	v.Probability = 1 / (1 + math.Exp(-sum))
	v.Score = math.Round((v.Probability*10-5)*100) / 100
	th := c.Threshold
	if th == 0 {
		th = 0.9
	}
	v.Spam = v.Probability > th
	return v, nil
}

// TrainEvent is the SpamTrained event for one message.
func TrainEvent(user string, spam, retrain bool, tokens []uint64, now time.Time) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_SpamTrained{SpamTrained: &evlog.SpamTrained{
		User: user, Spam: spam, Retrain: retrain, Tokens: tokens, TrainedUnix: now.Unix()}}}
}
