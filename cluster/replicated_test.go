package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// These tests replicate into the real mail projections (mailbox.Store on
// Pebble), restarting nodes on their own data as a real server restarts.

type storeSM struct{ *mailbox.Store }

func (s storeSM) digest() string {
	idx, d, err := s.Digest()
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%d/%x", idx, d)
}

func storeFactory(t testing.TB, cfg Config) (StateMachine, func()) {
	st, err := mailbox.Open(filepath.Join(cfg.DataDir, "..", cfg.NodeID+"-state"), mailbox.Options{Logger: testLogger(t, cfg.NodeID)})
	if err != nil {
		t.Fatalf("open store for %s: %v", cfg.NodeID, err)
	}
	return storeSM{st}, func() { st.Close() }
}

const testUser = "alice@example.test"

func submit(ctx context.Context, n *Node, events ...*evlog.Event) (*evlog.Outcome, error) {
	data, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
	if err != nil {
		return nil, err
	}
	res, err := n.Propose(ctx, data)
	if err != nil {
		return nil, err
	}
	return evlog.DecodeOutcome(res)
}

func mustSubmit(t testing.TB, n *Node, events ...*evlog.Event) *evlog.Outcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := submit(ctx, n, events...)
	if err != nil {
		t.Fatalf("submit via %s: %v", n.ID(), err)
	}
	if out.Error != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
		t.Fatalf("submit via %s refused: %v %s", n.ID(), out.Error, out.Message)
	}
	return out
}

func createUser(t testing.TB, n *Node) {
	mustSubmit(t, n,
		&evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.test"}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
			Address: testUser, PasswordHash: "$argon2id$test", CreatedUnix: 1_700_000_000}}})
}

// delivery is one message to testUser, as SMTP will propose it.
func delivery(body []byte) []*evlog.Event {
	var events []*evlog.Event
	for _, c := range evlog.Chunks(body) {
		events = append(events, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: c}})
	}
	sum := sha256.Sum256(body)
	return append(events, &evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
		Blob: sum[:], Size: uint64(len(body)), InternalDateUnix: 1_700_000_000,
		Recipients: []*evlog.Recipient{{Address: testUser}},
	}}})
}

// inboxBlobs counts testUser's INBOX messages by body hash on node i.
func inboxBlobs(t testing.TB, c *testCluster, i int) map[string]int {
	t.Helper()
	st := c.sms[i].(storeSM)
	box, err := st.MailboxByName(testUser, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	err = st.Messages(box.Id, func(uid uint32, m *evlog.MessageRecord) bool {
		out[hex.EncodeToString(m.Blob)]++
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReplicatedDeliveriesSurviveLeaderKill(t *testing.T) {
	c := newTestClusterWith(t, 3, nil, nil, storeFactory)
	leader := c.waitLeader(20 * time.Second)
	createUser(t, c.nodes[(leader+1)%3]) // through a follower

	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		node := c.nodes[w%3]
		if w%3 == leader {
			node = c.nodes[(leader+2)%3]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Appendf(nil, "Subject: %d/%d\r\n\r\nbody of message %d from sender %d\r\n", w, k, k, w)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				out, err := submit(ctx, node, delivery(body)...)
				cancel()
				if err != nil {
					if !IsTemporary(err) {
						t.Errorf("permanent error: %v", err)
					}
					continue
				}
				if out.Error != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
					t.Errorf("delivery refused: %v", out)
					continue
				}
				sum := sha256.Sum256(body)
				mu.Lock()
				acked[hex.EncodeToString(sum[:])] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	c.kill(leader)
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	c.start(leader) // on its old data, as after kill -9
	c.waitLeader(20 * time.Second)
	c.waitConverged(20 * time.Second)

	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no delivery was acknowledged")
	}
	for i := range c.nodes {
		got := inboxBlobs(t, c, i)
		for h := range acked {
			if got[h] != 1 {
				t.Fatalf("node %d holds acknowledged message %s %d times", i, h[:12], got[h])
			}
		}
	}
	t.Logf("%d acknowledged deliveries on every node after the leader's death", len(acked))
}

func TestReplicatedSnapshotCatchUp(t *testing.T) {
	c := newTestClusterWith(t, 3, nil, func(cfg *Config) {
		cfg.SnapshotThreshold = 32
		cfg.TrailingLogs = 8
		cfg.SnapshotInterval = 50 * time.Millisecond
	}, storeFactory)
	leader := c.waitLeader(20 * time.Second)
	createUser(t, c.nodes[leader])
	lagger := (leader + 1) % 3
	mustSubmit(t, c.nodes[leader], delivery([]byte("before the lagger stopped\r\n"))...)
	c.waitConverged(10 * time.Second)
	c.kill(lagger)
	for i := 0; i < 150; i++ {
		mustSubmit(t, c.nodes[leader], delivery(fmt.Appendf(nil, "message %d\r\n", i))...)
	}
	if err := c.nodes[leader].Snapshot(); err != nil {
		t.Fatal(err)
	}
	c.start(lagger)
	c.waitConverged(30 * time.Second)
	if restores := testutil.ToFloat64(c.nodes[lagger].metrics.snapshotRestore); restores < 1 {
		t.Fatal("the lagging node caught up without installing a snapshot")
	}
	if n := len(inboxBlobs(t, c, lagger)); n != 151 {
		t.Fatalf("lagging node has %d messages, want 151", n)
	}
	// Restarted again on the restored store, it stays in step.
	c.kill(lagger)
	c.start(lagger)
	mustSubmit(t, c.nodes[leader], delivery([]byte("after the restore\r\n"))...)
	c.waitConverged(20 * time.Second)
}
