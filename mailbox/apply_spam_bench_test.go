package mailbox

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// spamMessageTokens returns n sorted distinct random token hashes.
func spamMessageTokens(rng *rand.Rand, n int) []uint64 {
	toks := make([]uint64, 0, n)
	for len(toks) < n {
		toks = append(toks, rng.Uint64())
	}
	slices.Sort(toks)
	return slices.Compact(toks)
}

// trainSpamModel fills the global model with about n distinct tokens, 500
// a message, and returns the applied harness.
func trainSpamModel(b *testing.B, n int) *harness {
	h := newHarness(b)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i += 500 {
		h.ok(spamTrained("", i%1000 == 0, false, 1_800_000_000, spamMessageTokens(rng, 500)...))
	}
	return h
}

// BenchmarkSpamTrainedApply: apply time of one trained message of 500
// tokens (a typical message: the tokenizer finds 300 to 1,000) into a
// model of 100k tokens, all new to it (a new token costs a little more than a known one).
// The bound is 1 ms.
func BenchmarkSpamTrainedApply(b *testing.B) {
	h := trainSpamModel(b, 100_000)
	// In steady state the model is in files, not in the memtable.
	if err := h.s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	msgs := make([][]byte, 64)
	for i := range msgs {
		toks := spamMessageTokens(rng, 500)
		msgs[i] = encode(b, spamTrained("", i%2 == 0, false, 1_800_000_001, toks...))
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.index++
		out := h.s.Apply(h.index, [][]byte{msgs[i%len(msgs)]})
		if o := decodeOutcome(b, out[0]); o.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
			b.Fatal(o.GetMessage())
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/message")
}

// cpuTime is the process's CPU time (user and system): on a shared
// machine, a steadier measure of apply's work than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSpamModelBytes states a model's size for 100k tokens: in
// Pebble's files after a flush and a full compaction (keys share the
// model's prefix and values are 12 bytes; the hashes do not compress),
// and the store's own estimate before compression (SpamStatus.Bytes).
// In memory, the spam mirror holds it (BenchmarkSpamMirrorBytes).
func BenchmarkSpamModelBytes(b *testing.B) {
	// A size, not a speed: measured once whatever b.N (a store per
	// iteration would leave b.N stores of ~100 MB on disk until the end).
	h := newHarness(b)
	before := h.s.db.Metrics().DiskSpaceUsage()
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 100_000; n += 500 {
		h.ok(spamTrained("", n%1000 == 0, false, 1_800_000_000, spamMessageTokens(rng, 500)...))
	}
	if err := h.s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := h.s.db.Compact(b.Context(), []byte(prefixSpamTotals), prefixEnd([]byte(prefixSpamToken)), true); err != nil {
		b.Fatal(err)
	}
	st, err := h.s.SpamStatus("")
	if err != nil {
		b.Fatal(err)
	}
	var tables uint64
	for _, l := range h.s.db.Metrics().Levels {
		tables += uint64(l.TablesSize)
	}
	for range b.N {
	}
	b.ReportMetric(float64(st.Tokens), "tokens")
	b.ReportMetric(float64(st.Bytes), "estimate-B")
	b.ReportMetric(float64(tables), "sstable-B")
	b.ReportMetric(float64(h.s.db.Metrics().DiskSpaceUsage()-before), "disk-growth-B")
}

// BenchmarkSpamMirrorBytes states the Go heap the spam mirror takes per
// token (spamMirrorMaxEntries's comment): a model of 100k tokens loaded
// from Pebble, the live heap measured after a collection before and after;
// and the load's time (the last one, wall).
// A model that grew through apply rather than a load may hold up to twice
// the map slots (Go maps grow by doubling).
func BenchmarkSpamMirrorBytes(b *testing.B) {
	h := trainSpamModel(b, 100_000)
	var (
		perEntry float64
		load     time.Duration
	)
	for b.Loop() {
		h.s.spam.clear()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		if _, _, err := h.s.SpamCounts("", []uint64{1}); err != nil {
			b.Fatal(err)
		}
		load = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(h.s.spam.entries)
	}
	b.ReportMetric(float64(h.s.spam.entries), "tokens")
	b.ReportMetric(perEntry, "B/token")
	b.ReportMetric(perEntry*100_000/(1<<20), "MiB/100k-tokens")
	b.ReportMetric(float64(load.Microseconds())/1000, "load-ms")
}
