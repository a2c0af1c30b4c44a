package spamcorpus

import (
	"bytes"
	"fmt"
	"time"

	"github.com/surat-mail/surat/protocols/spam"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// InProcess is the classifier's arithmetic alone (package
// protocols/spam/bayes, in this process, an in-memory global model): the
// same tokens and combination as the server's, without SMTP, replication,
// storage, or the features the server adds (authentication results, PTR,
// HELO). Beside the real run it tells a classifier's limits from the
// pipeline's.
const InProcess = "surat-bayes in process"

// Tokenized is every message's tokens, and what tokenizing cost.
type Tokenized struct {
	Tokens [][]uint64 // by message index
	// PerMessage is the mean time bayes.Tokenize took per message, Bytes
	// the mean message size.
	PerMessage time.Duration
	Bytes      int
	MeanTokens int // distinct tokens per message, mean
}

// TokenizeAll tokenizes every message with bayes.Tokenize.
func TokenizeAll(msgs []Message) (Tokenized, error) {
	t := Tokenized{Tokens: make([][]uint64, len(msgs))}
	var total, ntok int
	start := time.Now()
	for i, m := range msgs {
		toks, err := bayes.Tokenize(bytes.NewReader(m.Raw))
		if err != nil {
			return t, fmt.Errorf("tokenize %s: %w", m.Name, err)
		}
		t.Tokens[i] = toks
		total += len(m.Raw)
		ntok += len(toks)
	}
	if len(msgs) > 0 {
		t.PerMessage = time.Since(start) / time.Duration(len(msgs))
		t.Bytes = total / len(msgs)
		t.MeanTokens = ntok / len(msgs)
	}
	return t, nil
}

// memModel is a global model in memory; it satisfies bayes.Model.
type memModel struct {
	counts map[uint64]bayes.Counts
	totals bayes.Totals
}

func (m *memModel) train(tokens []uint64, spam bool) {
	for _, t := range tokens {
		c := m.counts[t]
		if spam {
			c.Spam++
		} else {
			c.Ham++
		}
		m.counts[t] = c
	}
	if spam {
		m.totals.Spam++
	} else {
		m.totals.Ham++
	}
}

func (m *memModel) SpamCounts(user string, tokens []uint64) ([]bayes.Counts, bayes.Totals, error) {
	if user != "" {
		return nil, bayes.Totals{}, nil
	}
	out := make([]bayes.Counts, len(tokens))
	for i, t := range tokens {
		out[i] = m.counts[t]
	}
	return out, m.totals, nil
}

// InProcessResult is one fold in process.
type InProcessResult struct {
	Verdicts    []Verdict
	ModelTokens int // distinct tokens in the model after training
	TrainS      float64
	TestS       float64
}

// RunInProcess trains an in-memory global model on every fold but test
// and classifies the test fold with a bayes.Classifier: spam when the
// probability is above threshold, as the server's check decides (0:
// spam.DefaultThreshold, the server's default). A verdict's Score is the
// probability.
func RunInProcess(l Layout, msgs []Message, tok Tokenized, test int, threshold float64) (InProcessResult, error) {
	var res InProcessResult
	m := &memModel{counts: map[uint64]bayes.Counts{}}
	start := time.Now()
	for f, fold := range l.Folds {
		if f == test {
			continue
		}
		for _, i := range fold {
			m.train(tok.Tokens[i], msgs[i].Spam)
		}
	}
	res.TrainS = time.Since(start).Seconds()
	res.ModelTokens = len(m.counts)
	if threshold == 0 {
		threshold = spam.DefaultThreshold
	}
	c := &bayes.Classifier{Model: m}
	start = time.Now()
	for _, i := range l.Folds[test] {
		v, err := c.Classify("", tok.Tokens[i])
		if err != nil {
			return res, fmt.Errorf("classify %s: %w", msgs[i].Name, err)
		}
		res.Verdicts = append(res.Verdicts, Verdict{Index: i, Spam: msgs[i].Spam, Junk: v.Probability > threshold, Score: v.Probability})
	}
	res.TestS = time.Since(start).Seconds()
	return res, nil
}
