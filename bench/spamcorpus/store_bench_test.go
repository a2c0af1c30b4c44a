package spamcorpus

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// The store-backed benchmarks read the corpus from the tarball Fetch
// keeps (SPAMCORPUS_TGZ, default bench/.cache/spamcorpus/...): they never
// download, and skip when it is missing (run `spamcorpus quality
// -no-surat` once, or make bench-spam).
//
//	go test -run '^$' -bench Store -benchtime 2000x ./bench/spamcorpus
var corpusOnce = sync.OnceValues(func() ([]Message, error) {
	p := os.Getenv("SPAMCORPUS_TGZ")
	if p == "" {
		p = filepath.Join("..", ".cache", "spamcorpus", tarball)
	}
	if _, err := os.Stat(p); err != nil {
		return nil, err
	}
	if err := checkIntegrity(p); err != nil {
		return nil, err
	}
	return Load(p)
})

func benchCorpus(b *testing.B) ([]Message, [][]uint64) {
	msgs, err := corpusOnce()
	if err != nil {
		b.Skipf("no corpus tarball (%v): run `go run ./bench/cmd/spamcorpus quality -no-surat` once", err)
	}
	tok, err := TokenizeAll(msgs)
	if err != nil {
		b.Fatal(err)
	}
	return msgs, tok.Tokens
}

// trainedStore is a node's store whose global model learnt every message,
// one SpamTrained event a proposal, as `surat spam train` proposes them
// (in batches there).
func trainedStore(b *testing.B, msgs []Message, tokens [][]uint64) (*mailbox.Store, uint64) {
	dir := b.TempDir()
	st, err := mailbox.Open(dir, mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Unix(1_800_000_000, 0)
	var index uint64
	for i, m := range msgs {
		index++
		applyOne(b, st, index, bayes.TrainEvent("", m.Spam, false, tokens[i], now))
	}
	return st, index
}

func applyOne(b *testing.B, st *mailbox.Store, index uint64, ev *evlog.Event) {
	p, err := evlog.EncodeBatch(&evlog.Batch{Events: []*evlog.Event{ev}})
	if err != nil {
		b.Fatal(err)
	}
	out := st.Apply(index, [][]byte{p})
	if o, err := evlog.DecodeOutcome(out[0]); err != nil || o.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
		b.Fatalf("apply: %v %v", o.GetError(), err)
	}
}

// BenchmarkStoreClassify is what the MX check adds per message once the
// message is tokenized: the global model's counts and the user's (an
// empty model here) read from Pebble, then the combination. The model is
// the whole corpus (~600k tokens); the messages are the corpus's in turn.
func BenchmarkStoreClassify(b *testing.B) {
	msgs, tokens := benchCorpus(b)
	st, _ := trainedStore(b, msgs, tokens)
	c := &bayes.Classifier{Model: bayes.StoreModel{Store: st}}
	for _, user := range []string{"", TestUser} {
		name := "global"
		if user != "" {
			name = "global+user"
		}
		b.Run(name, func(b *testing.B) {
			n := 0
			for i := 0; b.Loop(); i++ {
				toks := tokens[i%len(tokens)]
				n += len(toks)
				if _, err := c.Classify(user, toks); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/float64(b.N), "tokens/msg")
		})
	}
}

// BenchmarkStoreTokenize is the tokenizer on the corpus's messages.
func BenchmarkStoreTokenize(b *testing.B) {
	msgs, err := corpusOnce()
	if err != nil {
		b.Skipf("no corpus tarball (%v)", err)
	}
	size := 0
	for i := 0; b.Loop(); i++ {
		m := msgs[i%len(msgs)]
		size += len(m.Raw)
		if _, err := bayes.Tokenize(bytes.NewReader(m.Raw)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)/float64(b.N), "bytes/msg")
}

// BenchmarkStoreTrainApply is the apply time of one SpamTrained event (a
// corpus message's tokens) on a store whose global model already holds the
// whole corpus, and the model's size: distinct tokens and the store's
// estimate of its bytes (keys and values, before compression), scaled to
// 100k tokens.
func BenchmarkStoreTrainApply(b *testing.B) {
	msgs, tokens := benchCorpus(b)
	st, index := trainedStore(b, msgs, tokens)
	now := time.Unix(1_800_000_100, 0)
	n := 0
	for i := 0; b.Loop(); i++ {
		index++
		n += len(tokens[i%len(tokens)])
		applyOne(b, st, index, bayes.TrainEvent("", msgs[i%len(msgs)].Spam, false, tokens[i%len(tokens)], now))
	}
	b.ReportMetric(float64(n)/float64(b.N), "tokens/msg")
	s, err := st.SpamStatus("")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(s.Tokens), "model-tokens")
	b.ReportMetric(float64(s.Bytes)/float64(max(s.Tokens, 1))*100_000/(1<<20), "est-MiB/100k-tokens")
}
