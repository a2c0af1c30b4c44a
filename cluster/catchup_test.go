package cluster

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestReadBarrier: right after a proposal is acknowledged through one node,
// a ReadBarrier on every other node — the leader and the followers — makes
// that node's state machine hold it, including across a new leader's no-op
// entry (which never reaches the state machine).
func TestReadBarrier(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	defer c.stopAll()
	for round := range 2 {
		leader := c.waitLeader(10 * time.Second)
		for i := range c.nodes {
			for j := range c.nodes {
				if i == j {
					continue
				}
				want := fmt.Sprintf("round %d via %d for %d", round, i, j)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if _, err := c.nodes[i].Propose(ctx, []byte(want)); err != nil {
					cancel()
					t.Fatalf("propose through %d: %v", i, err)
				}
				err := c.nodes[j].ReadBarrier(ctx)
				cancel()
				if err != nil {
					t.Fatalf("read barrier on %d: %v", j, err)
				}
				if !slices.Contains(c.mem(j).snapshot(), want) {
					t.Fatalf("%q acknowledged through node %d, missing on node %d after its read barrier (leader %d)", want, i, j, leader)
				}
			}
		}
		// A new leader: its first entry is a no-op.
		if round == 0 {
			c.kill(leader)
			c.start(leader)
		}
	}
}
