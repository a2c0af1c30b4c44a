package bench

import (
	"log/slog"
	"os"
	"slices"
	"time"
)

// benchLogger discards everything unless SURAT_BENCH_LOG is set, in which
// case warnings and errors go to stderr.
func benchLogger(node string) *slog.Logger {
	if os.Getenv("SURAT_BENCH_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	h := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	return slog.New(h).With("node", node)
}

// percentile is the nearest-rank percentile (0 < p <= 100) of durations,
// which it sorts in place; zero for none.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := int(float64(len(d))*p/100+0.999999) - 1
	return d[min(max(rank, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
