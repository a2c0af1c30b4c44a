package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	evlog "github.com/surat-mail/surat/log"
)

// TestLostAnswerIsResentOnce: the leader commits a follower's forwarded
// delivery but its answer is lost with the connection. The follower cannot
// know whether the entry committed; it sends the same entry again, and the
// idempotency keys make the state machine apply it once and answer the
// copy with the first's real outcome (the UID it assigned). Before the
// keys, the follower answered ErrNoQuorum (an SMTP 451) and the sender's
// retry made a second copy.
func TestLostAnswerIsResentOnce(t *testing.T) {
	c := newTestClusterWith(t, 3, nil, nil, storeFactory)
	leader := c.waitLeader(20 * time.Second)
	follower := (leader + 1) % 3
	createUser(t, c.nodes[follower])
	first := mustSubmit(t, c.nodes[follower], delivery([]byte("Subject: one\r\n\r\nfirst\r\n"))...)

	c.nodes[leader].testDropAnswers.Store(1)
	body := []byte("Subject: two\r\n\r\nthe answer to this one is lost\r\n")
	out := mustSubmit(t, c.nodes[follower], delivery(body)...)
	if left := c.nodes[leader].testDropAnswers.Load(); left != 0 {
		t.Fatalf("the leader answered every forward (%d drops left): the test dropped nothing", left)
	}
	if resent := testutil.ToFloat64(c.nodes[follower].metrics.resent); resent != 1 {
		t.Fatalf("follower re-sent %v entries, want 1", resent)
	}
	// The real outcome: the second delivery's UID, one past the first's.
	uid := func(o *evlog.Outcome) uint32 {
		res := o.GetResults()
		return res[len(res)-1].GetUids()[0].GetFirst()
	}
	if got, want := uid(out), uid(first)+1; got != want {
		t.Fatalf("re-sent delivery answered with UID %d, want %d (the UID apply assigned)", got, want)
	}
	c.waitConverged(20 * time.Second)
	sum := sha256.Sum256(body)
	for i := range c.nodes {
		if n := inboxBlobs(t, c, i)[hex.EncodeToString(sum[:])]; n != 1 {
			t.Fatalf("node %d holds the re-sent message %d times, want 1", i, n)
		}
	}
}

// TestResentEntryAfterFailoverAppliesOnce: the same entry, keys included,
// reaches the log twice (as when a forward's answer is lost and the
// follower sends it to a new leader); the second copy changes nothing and
// is answered with the first's results, on every node.
func TestResentEntryAppliesOnce(t *testing.T) {
	c := newTestCluster(t, 3, nil, nil)
	leader := c.waitLeader(20 * time.Second)
	follower := c.nodes[(leader+1)%3]
	entry := encodeEntry(follower.raft.CommitIndex(), []Proposal{
		{Key: []byte("0123456789abcdef"), Data: []byte("a")},
		{Key: []byte("fedcba9876543210"), Data: []byte("b")},
	})
	idx1, res1, err := follower.submit(entry)
	if err != nil {
		t.Fatal(err)
	}
	idx2, res2, err := follower.submit(entry)
	if err != nil {
		t.Fatal(err)
	}
	if idx2 <= idx1 {
		t.Fatalf("second copy at index %d, first at %d", idx2, idx1)
	}
	for i := range res1 {
		if string(res1[i]) != string(res2[i]) {
			t.Fatalf("proposal %d: copy answered %q, first %q", i, res2[i], res1[i])
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := follower.WaitApplied(ctx, idx2); err != nil {
		t.Fatal(err)
	}
	c.waitConverged(20 * time.Second)
	for i := range c.nodes {
		if got := c.mem(i).snapshot(); len(got) != 2 {
			t.Fatalf("node %d applied %q, want each proposal once", i, got)
		}
	}
}
