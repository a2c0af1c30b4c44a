package filter

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/surat-mail/surat/bench/sieveload"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// BenchmarkCheck is the filter's own cost per message, as the SMTP
// server pays it (Start, the streamed capture, FinishAfter), with the
// bench's 20-rule script active for the recipient and with none
// (make bench-sieve measures whole nodes).
func BenchmarkCheck(b *testing.B) {
	msg := string(sieveload.Corpus(1, "sieveload bench", 1, 4096)[0])
	for _, mode := range []string{"20 rules", "no script"} {
		b.Run(mode, func(b *testing.B) {
			h := newRealHarness(&testing.T{}, sieve.Limits{})
			if mode == "20 rules" {
				h.store.put(alice, "bench", sieveload.Script)
			}
			env := mxEnv(sieveload.Sender, alice)
			b.ReportAllocs()
			for b.Loop() {
				runs, err := pipeline.Start(context.Background(), []pipeline.Check{h.check}, env)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, runs.Reader(strings.NewReader(msg))); err != nil {
					b.Fatal(err)
				}
				res, err := runs.Finish(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if mode == "20 rules" && len(res.Recipients[alice].Filings) != 1 {
					b.Fatalf("outcome %+v", res.Recipients[alice])
				}
			}
		})
	}
}
