package mailbox

import (
	"crypto/sha256"
	"os"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// FuzzApply feeds arbitrary bytes as proposals: Apply never panics, always
// answers with a decodable Outcome, and keeps the store's counts exact.
func FuzzApply(f *testing.F) {
	for _, e := range newWorkload(3, 60).entries {
		for _, p := range e.proposals {
			f.Add(p)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{evlog.FormatV1})
	f.Add([]byte{2, 1, 2, 3})
	// A copy of a stored body with a head of its own (BlobStored.copy_of),
	// from its start and past its first line.
	sum1 := sha256.Sum256([]byte(body1))
	cp := evlog.HeadedCopy([]byte("X-Copy: 1\r\n"), sum1[:], uint64(len(body1)), sum1[:], 0)
	f.Add(encode(f, blobStored(cp), delivered(cp.Hash, int(cp.Size), rcpt(genUsers[0], ""))))
	skip := strings.Index(body1, "\n") + 1
	rest := sha256.Sum256([]byte(body1[skip:]))
	f.Add(encode(f, blobStored(evlog.HeadedCopy([]byte("X-Copy: 2\r\n"), rest[:], uint64(len(body1)-skip), sum1[:], uint64(skip)))))

	// A store is shared by a run of inputs, so state accumulates and deeper
	// states are reached. Copies of copies double a mailbox each time, so
	// the store is replaced once it holds many messages, and inputs with
	// many copies are passed over: their cost is real (COPY is linear in
	// the messages copied) but not what this target looks for.
	base := f.TempDir()
	var (
		s      *Store
		index  uint64
		inputs int
	)
	fresh := func(tb testing.TB) {
		if s != nil {
			s.Close()
			os.RemoveAll(s.dir)
		}
		dir, err := os.MkdirTemp(base, "store")
		if err != nil {
			tb.Fatal(err)
		}
		s = openStore(tb, dir)
		h := &harness{t: tb, s: s}
		h.ok(domainAdded("example.org"), userCreated(genUsers[0], 1), userCreated(genUsers[1], 2))
		h.store(body1)
		h.store(strings.Repeat("z", 100))
		index = h.index
	}
	fresh(f)
	f.Cleanup(func() { s.Close() })

	f.Fuzz(func(t *testing.T, data []byte) {
		if tooManyCopies(data) {
			return
		}
		if inputs++; inputs%64 == 0 || storeStats(t, s)["messages"] > 500 {
			fresh(t)
		}
		// As given, and behind the format byte so the protobuf decoder
		// sees the fuzzer's bytes.
		proposals := [][]byte{data, append([]byte{evlog.FormatV1}, data...)}
		index++
		out := s.Apply(index, proposals)
		if len(out) != len(proposals) {
			t.Fatalf("%d results for %d proposals", len(out), len(proposals))
		}
		for _, o := range out {
			if _, err := evlog.DecodeOutcome(o); err != nil {
				t.Fatalf("undecodable outcome: %v", err)
			}
		}
		if s.AppliedIndex() != index {
			t.Fatalf("applied %d, want %d", s.AppliedIndex(), index)
		}
		checkInvariants(t, s)
	})
}

func tooManyCopies(data []byte) bool {
	for _, p := range [][]byte{data, append([]byte{evlog.FormatV1}, data...)} {
		b, err := evlog.DecodeBatch(p)
		if err != nil {
			continue
		}
		n := 0
		for _, e := range b.GetEvents() {
			if e.GetCopied() != nil {
				n++
			}
		}
		if n > 3 {
			return true
		}
	}
	return false
}
