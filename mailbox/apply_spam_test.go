package mailbox

import (
	"math"
	"math/rand/v2"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func spamTrained(user string, spam, retrain bool, at int64, tokens ...uint64) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_SpamTrained{SpamTrained: &evlog.SpamTrained{
		User: user, Spam: spam, Retrain: retrain, TrainedUnix: at, Tokens: tokens}}}
}

func spamPruned(user string, maxCount uint32, before int64) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_SpamPruned{SpamPruned: &evlog.SpamPruned{
		User: user, MaxCount: maxCount, SeenBeforeUnix: before}}}
}

// withSpamEvents adds a tenth to the workload, at its end: spam model
// events training or pruning the global model or a user's (some users
// deleted or never created, so refused). They draw from their own
// generator and come last so that the rest of the workload, and the keys
// it leaves, stay what they were.
func withSpamEvents(seed uint64, evs []*evlog.Event) []*evlog.Event {
	rng := rand.New(rand.NewPCG(seed^0x5ba3, seed))
	out := evs
	for range len(evs) / 10 {
		user := ""
		if rng.IntN(2) == 0 {
			user = genUsers[rng.IntN(len(genUsers))]
		}
		at := int64(1_700_000_000 + rng.IntN(1000))
		if rng.IntN(6) == 0 {
			out = append(out, spamPruned(user, uint32(rng.IntN(3)), at))
			continue
		}
		var toks []uint64
		next := uint64(0)
		for range rng.IntN(12) {
			next += 1 + uint64(rng.IntN(5))
			toks = append(toks, next)
		}
		out = append(out, spamTrained(user, rng.IntN(2) == 0, rng.IntN(4) == 0, at, toks...))
	}
	return out
}

func (h *harness) spamCounts(user string, tokens ...uint64) ([]SpamTokenCounts, SpamTotals) {
	h.t.Helper()
	c, tot, err := h.s.SpamCounts(user, tokens)
	if err != nil {
		h.t.Fatal(err)
	}
	return c, tot
}

func TestSpamTrainedCounts(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated("a@example.org", 1))
	h.ok(spamTrained("", true, false, 100, 1, 2, 3))
	h.ok(spamTrained("", true, false, 200, 2, 3, 4))
	h.ok(spamTrained("", false, false, 150, 3, 5))
	h.ok(spamTrained("a@example.org", true, false, 300, 9))

	c, tot := h.spamCounts("", 5, 1, 2, 3, 4, 6)
	want := []SpamTokenCounts{{0, 1}, {1, 0}, {2, 0}, {2, 1}, {1, 0}, {0, 0}}
	for i := range want {
		if c[i] != want[i] {
			t.Errorf("global counts[%d] = %+v, want %+v", i, c[i], want[i])
		}
	}
	if tot != (SpamTotals{Spam: 2, Ham: 1}) {
		t.Errorf("global totals = %+v", tot)
	}
	// The user's model is apart from the global one.
	c, tot = h.spamCounts("a@example.org", 9, 1)
	if c[0] != (SpamTokenCounts{1, 0}) || c[1] != (SpamTokenCounts{}) || tot != (SpamTotals{Spam: 1}) {
		t.Errorf("user model = %+v %+v", c, tot)
	}
	st, err := h.s.SpamStatus("")
	if err != nil || st.Tokens != 5 || st.Spam != 2 || st.Ham != 1 || st.Bytes == 0 {
		t.Errorf("SpamStatus = %+v, %v", st, err)
	}

	// Retrain as ham: the spam counts go back, never below zero (token
	// 7 was never trained as spam).
	h.ok(spamTrained("", false, true, 400, 1, 2, 7))
	c, tot = h.spamCounts("", 1, 2, 7)
	want = []SpamTokenCounts{{0, 1}, {1, 1}, {0, 1}}
	for i := range want {
		if c[i] != want[i] {
			t.Errorf("after retrain counts[%d] = %+v, want %+v", i, c[i], want[i])
		}
	}
	if tot != (SpamTotals{Spam: 1, Ham: 2}) {
		t.Errorf("after retrain totals = %+v", tot)
	}
	// A retrain with nothing to take back stops at zero too.
	h.ok(spamTrained("a@example.org", false, true, 400, 9), spamTrained("a@example.org", true, true, 400, 9), spamTrained("a@example.org", true, true, 400, 9))
	if c, tot := h.spamCounts("a@example.org", 9); c[0] != (SpamTokenCounts{2, 0}) || tot != (SpamTotals{Spam: 2}) {
		t.Errorf("user after retrains = %+v %+v", c, tot)
	}

	models, err := h.s.SpamModels()
	if err != nil || len(models) != 2 || models[0].User != "" || models[1].User != "a@example.org" {
		t.Fatalf("SpamModels = %+v, %v", models, err)
	}
}

func TestSpamTrainedRefusals(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated("a@example.org", 1))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, spamTrained("b@example.org", true, false, 1, 1))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, spamTrained("", true, false, 1, 2, 1))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, spamTrained("", true, false, 1, 1, 1))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, spamTrained("", true, false, -1, 1))
	many := make([]uint64, MaxSpamTokens+1)
	for i := range many {
		many[i] = uint64(i)
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, spamTrained("", true, false, 1, many...))
	h.ok(spamTrained("", true, false, 1, many[:MaxSpamTokens]...))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, spamPruned("b@example.org", 1, 1))
}

func TestSpamCountsSaturate(t *testing.T) {
	h := newHarness(t)
	h.ok(spamTrained("", true, false, 1, 5))
	// Forge a count at the maximum, as after four billion trainings.
	b := h.s.db.NewBatch()
	if err := b.Set(spamTokenKey("", 5), spamToken{spam: math.MaxUint32, seen: 1}.appendTo(nil), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	h.s.spam.clear() // the mirror follows apply's writes, not forged ones
	h.ok(spamTrained("", true, false, 1, 5))
	if c, _ := h.spamCounts("", 5); c[0].Spam != math.MaxUint32 {
		t.Errorf("count = %d, want saturated", c[0].Spam)
	}
}

func TestSpamPruned(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated("a@example.org", 1))
	h.ok(spamTrained("", true, false, 100, 1, 2, 3))        // 1 seen once at 100
	h.ok(spamTrained("", false, false, 200, 2, 3))          // 2: twice, last at 200
	h.ok(spamTrained("", true, false, 300, 3, 4))           // 3: thrice, at 300; 4: once at 300
	h.ok(spamTrained("a@example.org", true, false, 100, 1)) // other model: untouched
	hist, err := h.s.SpamPruneHistogram("", 2, []int64{150, 250, 400})
	if err != nil {
		t.Fatal(err)
	}
	// count 1: token 1 (seen 100), token 4 (300); count 2: token 2 (200).
	if want := [][]uint64{{1, 1, 2}, {0, 1, 1}}; !equalHist(hist, want) {
		t.Errorf("histogram = %v, want %v", hist, want)
	}
	h.ok(spamPruned("", 2, 250))
	c, tot := h.spamCounts("", 1, 2, 3, 4)
	if c[0] != (SpamTokenCounts{}) || c[1] != (SpamTokenCounts{}) || c[2] != (SpamTokenCounts{2, 1}) || c[3] != (SpamTokenCounts{1, 0}) {
		t.Errorf("after prune counts = %+v", c)
	}
	if tot != (SpamTotals{Spam: 2, Ham: 1}) {
		t.Errorf("a prune keeps the totals: %+v", tot)
	}
	if st, _ := h.s.SpamStatus(""); st.Tokens != 2 {
		t.Errorf("tokens after prune = %d, want 2", st.Tokens)
	}
	if c, _ := h.spamCounts("a@example.org", 1); c[0] != (SpamTokenCounts{1, 0}) {
		t.Errorf("the user's model was pruned: %+v", c)
	}
	// Pruning a model never trained changes nothing and is no error.
	h.ok(spamPruned("a@example.org", 0, 0))
	h.ok(spamPruned("", 100, 1<<40))
	if st, _ := h.s.SpamStatus(""); st.Tokens != 0 || st.Spam != 2 {
		t.Errorf("status after pruning all = %+v", st)
	}
}

func TestSpamModelDeletedWithUser(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated("a@example.org", 1), userCreated("ab@example.org", 1))
	h.ok(spamTrained("a@example.org", true, false, 1, 1, 2), spamTrained("ab@example.org", true, false, 1, 1))
	h.ok(userDeleted("a@example.org"))
	if st, _ := h.s.SpamStatus("a@example.org"); st.Tokens != 0 || st.Spam != 0 {
		t.Errorf("deleted user's model = %+v", st)
	}
	if c, _ := h.spamCounts("ab@example.org", 1); c[0].Spam != 1 {
		t.Error("another user's model went with it")
	}
	h.ok(userCreated("a@example.org", 2))
	if c, tot := h.spamCounts("a@example.org", 1, 2); c[0] != (SpamTokenCounts{}) || tot != (SpamTotals{}) {
		t.Error("a re-created user inherits the old model")
	}
}

func equalHist(a, b [][]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
