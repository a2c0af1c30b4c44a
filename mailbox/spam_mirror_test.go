package mailbox

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// newHarnessOpts is newHarness with a store opened with opts.
func newHarnessOpts(t testing.TB, opts Options) *harness {
	t.Helper()
	opts.Logger = testLogger()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &harness{t: t, s: s}
}

// checkMirrorExact fails unless every model the mirror holds equals its
// tokens in Pebble, and the entry count is their sum.
func checkMirrorExact(t testing.TB, s *Store) {
	t.Helper()
	m := s.spam
	m.mu.RLock()
	defer m.mu.RUnlock()
	total := 0
	for user, mod := range m.models {
		total += len(mod.tokens)
		inPebble := map[uint64]spamToken{}
		p := spamTokenPrefix(user)
		err := scanRange(s.db, p, prefixEnd(p), func(k, v []byte) (bool, error) {
			rec, _ := decodeSpamToken(v)
			inPebble[binary.BigEndian.Uint64(k[len(p):])] = rec
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(inPebble) != len(mod.tokens) {
			t.Fatalf("model %q: %d tokens mirrored, %d in Pebble", user, len(mod.tokens), len(inPebble))
		}
		for tok, rec := range inPebble {
			if got, ok := mod.tokens[tok]; !ok || got != rec {
				t.Fatalf("model %q token %d: mirror %+v (%v), Pebble %+v", user, tok, got, ok, rec)
			}
		}
	}
	if total != m.entries || m.entries > m.max {
		t.Fatalf("mirror counts %d entries, holds %d, cap %d", m.entries, total, m.max)
	}
}

var mirrorUsers = []string{"", "a@example.org", "b@example.org", "c@example.org"}

// randomSpamProposal is one proposal of one to three events: trainings
// (retrains too), prunes, and users deleted and created again, some
// refused (a user that does not exist, an unsorted token list), so that a
// refused proposal's writes must not reach the mirror.
func randomSpamProposal(rng *rand.Rand) []*evlog.Event {
	var evs []*evlog.Event
	for range 1 + rng.IntN(3) {
		user := mirrorUsers[rng.IntN(len(mirrorUsers))]
		at := int64(1_700_000_000 + rng.IntN(1000))
		switch r := rng.IntN(20); {
		case r < 2 && user != "":
			evs = append(evs, userDeleted(user))
		case r < 4 && user != "":
			evs = append(evs, userCreated(user, 1))
		case r < 6:
			evs = append(evs, spamPruned(user, uint32(rng.IntN(4)), at))
		case r == 6:
			evs = append(evs, spamTrained(user, true, false, at, 9, 3)) // refused: unsorted
		default:
			var toks []uint64
			next := uint64(0)
			for range rng.IntN(40) {
				next += 1 + uint64(rng.IntN(6))
				toks = append(toks, next)
			}
			evs = append(evs, spamTrained(user, rng.IntN(2) == 0, rng.IntN(4) == 0, at, toks...))
		}
	}
	return evs
}

// TestSpamMirrorSameAsPebble applies random model events to a store with
// the mirror and one without: digests and counts must agree throughout,
// and the mirror must equal Pebble.
func TestSpamMirrorSameAsPebble(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
	}{{"uncapped", spamMirrorMaxEntries}, {"cap-100", 100}, {"cap-0", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			with := newHarness(t)
			with.s.spam.max = tc.max
			without := newHarnessOpts(t, Options{noSpamMirror: true})
			for _, h := range []*harness{with, without} {
				h.ok(domainAdded("example.org"))
				for _, u := range mirrorUsers[1:] {
					h.ok(userCreated(u, 1))
				}
			}
			rng := rand.New(rand.NewPCG(7, uint64(tc.max)))
			probe := make([]uint64, 250)
			for i := range probe {
				probe[i] = uint64(i)
			}
			for step := range 600 {
				evs := randomSpamProposal(rng)
				a, b := with.apply(evs...), without.apply(evs...)
				if a.GetError() != b.GetError() {
					t.Fatalf("step %d: outcome %v with the mirror, %v without", step, a.GetError(), b.GetError())
				}
				// Readers load models between applies, as sessions do.
				user := mirrorUsers[rng.IntN(len(mirrorUsers))]
				c1, t1 := with.spamCounts(user, probe...)
				c2, t2 := without.spamCounts(user, probe...)
				if t1 != t2 {
					t.Fatalf("step %d: totals %+v with the mirror, %+v without", step, t1, t2)
				}
				for i := range c1 {
					if c1[i] != c2[i] {
						t.Fatalf("step %d: %q token %d: %+v with the mirror, %+v without", step, user, probe[i], c1[i], c2[i])
					}
				}
				if step%50 == 0 {
					checkMirrorExact(t, with.s)
					if _, d1, _ := with.s.Digest(); true {
						if _, d2, _ := without.s.Digest(); d1 != d2 {
							t.Fatalf("step %d: digests differ", step)
						}
					}
				}
			}
			checkMirrorExact(t, with.s)
			_, d1, _ := with.s.Digest()
			_, d2, _ := without.s.Digest()
			if d1 != d2 {
				t.Fatal("digests differ")
			}
			if tc.max == 0 && len(with.s.spam.models) != 0 {
				// Only models without tokens fit a cap of zero.
				for u, m := range with.s.spam.models {
					if len(m.tokens) != 0 {
						t.Errorf("model %q mirrored with %d tokens past a cap of 0", u, len(m.tokens))
					}
				}
			}
		})
	}
}

// TestSpamMirrorConcurrentReaders loads models from readers while apply
// trains them: after the applies, the mirror equals Pebble.
func TestSpamMirrorConcurrentReaders(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"))
	for _, u := range mirrorUsers[1:] {
		h.ok(userCreated(u, 1))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			probe := []uint64{1, 2, 3, 5, 8, 13, 21, 34, 55, 89}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := h.s.SpamCounts(mirrorUsers[rng.IntN(len(mirrorUsers))], probe); err != nil {
					t.Error(err)
					return
				}
				if rng.IntN(20) == 0 {
					h.s.spam.clear() // unloads, so that the next read loads again
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for range 400 {
		h.apply(randomSpamProposal(rng)...)
	}
	close(stop)
	wg.Wait()
	checkMirrorExact(t, h.s)
	// Every model loaded now agrees with Pebble too.
	for _, u := range mirrorUsers {
		h.spamCounts(u, 1)
	}
	checkMirrorExact(t, h.s)
}

// TestSpamMirrorCap: loading a model past the cap evicts the least
// recently used others; a model larger than the cap is not mirrored and
// reads and trains through Pebble.
func TestSpamMirrorCap(t *testing.T) {
	h := newHarness(t)
	h.s.spam.max = 25
	h.ok(domainAdded("example.org"), userCreated("a@example.org", 1), userCreated("b@example.org", 1))
	toks := func(from, n uint64) []uint64 {
		var out []uint64
		for i := range n {
			out = append(out, from+i)
		}
		return out
	}
	h.ok(spamTrained("", true, false, 1, toks(0, 10)...))
	h.ok(spamTrained("a@example.org", true, false, 1, toks(0, 10)...))
	h.ok(spamTrained("b@example.org", false, false, 1, toks(0, 10)...))
	h.spamCounts("")
	h.spamCounts("a@example.org")
	if got := h.s.spam.entries; got != 20 {
		t.Fatalf("%d entries mirrored, want 20", got)
	}
	h.spamCounts("b@example.org") // evicts the global model, used least recently
	if h.s.spam.models[""] != nil || h.s.spam.models["a@example.org"] == nil || h.s.spam.entries != 20 {
		t.Fatalf("after eviction: %d entries, models %v", h.s.spam.entries, h.s.spam.models)
	}
	// The global model grows past the cap: not mirrored, and exact still.
	h.ok(spamTrained("", false, false, 2, toks(5, 30)...))
	c, tot := h.spamCounts("", 0, 5, 34, 35)
	if h.s.spam.models[""] != nil {
		t.Fatal("a model of 35 tokens is mirrored under a cap of 25")
	}
	want := []SpamTokenCounts{{Spam: 1}, {Spam: 1, Ham: 1}, {Ham: 1}, {}}
	for i := range want {
		if c[i] != want[i] {
			t.Errorf("token %d: %+v, want %+v", i, c[i], want[i])
		}
	}
	if tot != (SpamTotals{Spam: 1, Ham: 1}) {
		t.Errorf("totals %+v", tot)
	}
	h.ok(spamTrained("", true, true, 3, 0, 34))
	if c, _ := h.spamCounts("", 0, 34); c[0] != (SpamTokenCounts{Spam: 2}) || c[1] != (SpamTokenCounts{Spam: 1}) {
		t.Errorf("after a retrain through Pebble: %+v", c)
	}
	// A model that grows past the cap while mirrored leaves the mirror.
	h.spamCounts("a@example.org")
	h.ok(spamTrained("a@example.org", true, false, 4, toks(100, 20)...))
	if h.s.spam.models["a@example.org"] != nil {
		t.Error("a model grown to 30 tokens stays mirrored under a cap of 25")
	}
	checkMirrorExact(t, h.s)
	// Pruned back under the cap, it is mirrored again on its next use.
	h.ok(spamPruned("a@example.org", 1, 5))
	h.spamCounts("a@example.org", 1)
	if h.s.spam.models["a@example.org"] == nil {
		t.Error("an empty model is not mirrored")
	}
	checkMirrorExact(t, h.s)
}

// TestSpamMirrorRestore: a Restore replaces the database, and the mirror
// must forget what it copied from the old one.
func TestSpamMirrorRestore(t *testing.T) {
	src := newHarness(t)
	src.ok(spamTrained("", true, false, 1, 1, 2, 3))
	snap := checkpointBytes(t, src.s)

	dst := newHarness(t)
	dst.ok(spamTrained("", false, false, 1, 2, 3, 4))
	dst.ok(spamTrained("", false, false, 1, 3))
	dst.spamCounts("", 1) // loads the model
	if dst.s.spam.models[""] == nil {
		t.Fatal("model not mirrored after a read")
	}
	if err := dst.s.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if len(dst.s.spam.models) != 0 || dst.s.spam.entries != 0 {
		t.Fatalf("mirror after Restore: %d models, %d entries", len(dst.s.spam.models), dst.s.spam.entries)
	}
	c, tot := dst.spamCounts("", 1, 3, 4)
	if c[0] != (SpamTokenCounts{Spam: 1}) || c[1] != (SpamTokenCounts{Spam: 1}) || c[2] != (SpamTokenCounts{}) || tot != (SpamTotals{Spam: 1}) {
		t.Errorf("after Restore: %+v %+v", c, tot)
	}
	checkMirrorExact(t, dst.s)
}

// TestSpamMirrorUserDeleted: deleting a user drops its model from the
// mirror once committed; a user created again starts empty.
func TestSpamMirrorUserDeleted(t *testing.T) {
	h := newHarness(t)
	const a = "a@example.org"
	h.ok(domainAdded("example.org"), userCreated(a, 1))
	h.ok(spamTrained(a, true, false, 1, 1, 2))
	h.spamCounts(a, 1)
	// Refused after the deletion: nothing changes, the mirror included.
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, userDeleted(a), spamTrained("", true, false, 1, 2, 1))
	if c, _ := h.spamCounts(a, 1); c[0] != (SpamTokenCounts{Spam: 1}) {
		t.Fatalf("after a refused deletion: %+v", c)
	}
	// Deleted, created again and trained in one proposal.
	h.ok(userDeleted(a), userCreated(a, 2), spamTrained(a, false, false, 2, 2, 3))
	if h.s.spam.models[a] != nil {
		t.Error("a deleted user's model stays mirrored")
	}
	c, tot := h.spamCounts(a, 1, 2, 3)
	if c[0] != (SpamTokenCounts{}) || c[1] != (SpamTokenCounts{Ham: 1}) || c[2] != (SpamTokenCounts{Ham: 1}) || tot != (SpamTotals{Ham: 1}) {
		t.Errorf("after delete and retrain: %+v %+v", c, tot)
	}
	checkMirrorExact(t, h.s)
}
