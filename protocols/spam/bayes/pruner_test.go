package bayes

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
)

// directNode proposes by applying straight to a real store.
type directNode struct {
	store  *mailbox.Store
	mu     sync.Mutex
	index  uint64
	leader atomic.Bool
}

func (n *directNode) Propose(_ context.Context, p []byte) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.index++
	return n.store.Apply(n.index, [][]byte{p})[0], nil
}

func (n *directNode) IsLeader() bool { return n.leader.Load() }

func newNode(t testing.TB) *directNode {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &directNode{store: st}
}

func TestChoosePrune(t *testing.T) {
	cuts := []int64{10, 20, 30}
	// hist[c-1][i]: tokens counted c times, seen before cuts[i].
	hist := [][]uint64{{5, 8, 20}, {1, 2, 10}, {0, 0, 4}}
	for _, c := range []struct {
		need     uint64
		maxCount uint32
		cut      int64
		drop     uint64
	}{
		{1, 1, 10, 5},   // the oldest hapaxes suffice
		{8, 1, 20, 8},   // newer hapaxes before older pairs
		{9, 1, 30, 20},  // all hapaxes
		{21, 2, 30, 30}, // counted at most twice: 6, 10, then 30 by the cuts
	} {
		mc, cut, drop := choosePrune(hist, cuts, c.need)
		if mc != c.maxCount || cut != c.cut || drop != c.drop {
			t.Errorf("need %d: got (%d, %d, %d), want (%d, %d, %d)", c.need, mc, cut, drop, c.maxCount, c.cut, c.drop)
		}
	}
	// Not enough even with everything: all it may.
	if mc, cut, drop := choosePrune(hist, cuts, 1000); mc != 3 || cut != 30 || drop != 34 {
		t.Errorf("too much: (%d, %d, %d)", mc, cut, drop)
	}
}

func TestPrunerBoundsModels(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	day := 24 * time.Hour
	now := time.Unix(1_800_000_000, 0)
	// 100 tokens seen once 100 days ago, 50 seen once yesterday, 30 seen
	// twice 100 days ago: 180 tokens in the global model.
	train := func(at time.Time, from, to uint64) {
		var toks []uint64
		for i := from; i < to; i++ {
			toks = append(toks, i)
		}
		if _, err := n.Propose(ctx, encodeEvents(t, TrainEvent("", true, false, toks, at))); err != nil {
			t.Fatal(err)
		}
	}
	train(now.Add(-100*day), 0, 130)
	train(now.Add(-100*day), 100, 130)
	train(now.Add(-day-time.Hour), 1000, 1050)
	p := NewPruner(PrunerConfig{Store: n.store, Cluster: n, GlobalLimit: 150, Now: func() time.Time { return now }})

	// Not the leader: nothing.
	if k, err := p.Prune(ctx); k != 0 || err != nil {
		t.Fatalf("follower pruned: %d, %v", k, err)
	}
	n.leader.Store(true)
	// Over 150: down to 120 at most, the old hapaxes first (100 of them
	// go: enough).
	if k, err := p.Prune(ctx); k != 1 || err != nil {
		t.Fatalf("Prune = %d, %v", k, err)
	}
	st, _ := n.store.SpamStatus("")
	if st.Tokens != 80 {
		t.Errorf("tokens after pruning = %d, want 80", st.Tokens)
	}
	c, _, _ := n.store.SpamCounts("", []uint64{0, 100, 1000})
	if c[0] != (mailbox.SpamTokenCounts{}) || c[1].Spam != 2 || c[2].Spam != 1 {
		t.Errorf("kept counts = %+v", c)
	}
	// Under the limit now: nothing more.
	if k, _ := p.Prune(ctx); k != 0 {
		t.Error("pruned again under the limit")
	}
}
