package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestProposeAsyncPipelines has one caller put many proposals in flight
// from a follower before waiting for any: they share entries (a serial
// caller pays one entry, one round trip, per proposal) and each future
// reports its result and entry index.
func TestProposeAsyncPipelines(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	follower := c.nodes[(leader+1)%3]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const total = 64
	before := readHistogramCount(t, c, (leader+1)%3)
	futures := make([]Future, total)
	for i := range futures {
		f, err := follower.ProposeAsync(ctx, fmt.Appendf(nil, "chunk%d", i))
		if err != nil {
			t.Fatal(err)
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f.Index() != 0 {
			t.Fatalf("future %d has index %d before Wait", i, f.Index())
		}
		res, err := f.Wait(ctx)
		if err != nil {
			t.Fatalf("future %d: %v", i, err)
		}
		if want := fmt.Sprintf(":chunk%d", i); !strings.HasSuffix(string(res), want) {
			t.Fatalf("future %d: result %q, want one for %q", i, res, want)
		}
		// Entries in flight at once may commit in any order.
		idx := f.Index()
		if idx == 0 {
			t.Fatalf("future %d: no index after Wait", i)
		}
		if applied := follower.sm.AppliedIndex(); applied < idx {
			t.Fatalf("future %d answered at index %d before this node applied it (%d)", i, idx, applied)
		}
		// Waiting again gives the same answer.
		if again, err := f.Wait(ctx); err != nil || string(again) != string(res) {
			t.Fatalf("second Wait: %q, %v", again, err)
		}
	}
	entries := readHistogramCount(t, c, (leader+1)%3) - before
	if entries >= total {
		t.Fatalf("%d pipelined proposals took %d entries: none shared an entry", total, entries)
	}
	t.Logf("%d pipelined proposals from one caller in %d entries", total, entries)
}

// TestProposeAsyncWaitGivesUpWithContext: a Wait whose context ends
// reports an unknown outcome (ErrNoQuorum), and a later Wait still gets
// the real answer.
func TestProposeAsyncWaitGivesUpWithContext(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	n := c.nodes[leader]
	f, err := n.ProposeAsync(context.Background(), []byte("late"))
	if err != nil {
		t.Fatal(err)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Wait(gone); !errors.Is(err, ErrNoQuorum) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with an ended context: %v", err)
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if res, err := f.Wait(ctx); err != nil || !strings.HasSuffix(string(res), ":late") {
		t.Fatalf("Wait after: %q, %v", res, err)
	}
}
