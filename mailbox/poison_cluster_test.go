package mailbox_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/cluster/clustertest"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
)

// TestPoisonEntryRefusedOnEveryNode runs three real nodes (Raft, Pebble)
// in this process. Every node's state is damaged the same way, so that
// the next expunge breaks an invariant: that entry is refused, with
// ERROR_CODE_INTERNAL, on every node alike; the cluster keeps serving and
// the digests stay equal. Before, every node panicked on the entry, and
// again after each restart.
func TestPoisonEntryRefusedOnEveryNode(t *testing.T) {
	const user = "p@example.test"
	dir := t.TempDir()
	ports := clustertest.FreePorts(t, 6)
	var (
		nodes  []*cluster.Node
		stores []*mailbox.Store
	)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i := range 3 {
		var join []string
		for j := range 3 {
			if j != i {
				join = append(join, fmt.Sprintf("127.0.0.1:%d", ports[2*j+1]))
			}
		}
		id := fmt.Sprintf("n%d", i+1)
		st, err := mailbox.Open(filepath.Join(dir, id, "state"), mailbox.Options{Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		cfg := cluster.Config{
			NodeID: id, DataDir: filepath.Join(dir, id, "raft"),
			RaftAddr:   fmt.Sprintf("127.0.0.1:%d", ports[2*i]),
			GossipAddr: fmt.Sprintf("127.0.0.1:%d", ports[2*i+1]),
			Join:       join, StateMachine: st, Logger: logger,
			HeartbeatTimeout: time.Second, ElectionTimeout: time.Second,
			LeaderLeaseTimeout: 500 * time.Millisecond, ProposeTimeout: 10 * time.Second,
			OnStorageFailure: func(err error) { t.Errorf("node %s stopped: %v", id, err) },
		}
		if i == 0 {
			cfg.BootstrapExpect = 3
		}
		n, err := cluster.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		nodes, stores = append(nodes, n), append(stores, st)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = n.Shutdown(ctx)
			_ = st.Close()
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range nodes {
		for !n.Ready() {
			if time.Now().After(deadline) {
				t.Fatalf("node %s not ready", n.ID())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	submit := func(n *cluster.Node, events ...*evlog.Event) (*evlog.Outcome, error) {
		t.Helper()
		return propose.Submit(ctx, n, events...)
	}
	body := []byte("Subject: x\r\n\r\nbody\r\n")
	sum := sha256.Sum256(body)
	var out *evlog.Outcome
	var err error
	for _, evs := range [][]*evlog.Event{
		{{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.test"}}},
			{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: user, PasswordHash: "x", CreatedUnix: 1}}}},
		{{Kind: &evlog.Event_BlobStored{BlobStored: evlog.Chunks(body)[0]}},
			{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{Blob: sum[:], Size: uint64(len(body)), Recipients: []*evlog.Recipient{{Address: user}}}}}},
	} {
		if out, err = submit(nodes[1], evs...); err != nil {
			t.Fatal(err)
		}
	}
	inbox, err := stores[0].MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	uid := out.GetResults()[1].GetUids()[0].GetFirst()
	waitEqual(t, nodes, stores)
	for _, st := range stores {
		mailbox.BreakUsage(t, st, user)
	}

	for _, n := range nodes { // through every node: the leader and both followers
		_, err := submit(n, &evlog.Event{Kind: &evlog.Event_Expunged{Expunged: &evlog.Expunged{
			MailboxId: inbox.GetId(), Uids: []*evlog.UidRange{{First: uid, Last: uid}}}}})
		if !propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_INTERNAL) {
			t.Fatalf("expunge breaking an invariant via %s: %v, want ERROR_CODE_INTERNAL", n.ID(), err)
		}
	}
	// Still serving, through every node.
	for i, n := range nodes {
		if _, err := submit(n, &evlog.Event{Kind: &evlog.Event_MailboxCreated{MailboxCreated: &evlog.MailboxCreated{
			Address: user, Name: fmt.Sprintf("after-%d", i)}}}); err != nil {
			t.Fatalf("after the poison entry, %s: %v", n.ID(), err)
		}
	}
	waitEqual(t, nodes, stores)
	for i, st := range stores {
		if msgs, _ := st.MailboxByName(user, "INBOX"); msgs.GetMessages() != 1 {
			t.Fatalf("node %d: INBOX has %d messages, want the one the refused expunge kept", i, msgs.GetMessages())
		}
	}
}

// waitEqual waits until every store applied the leader's index with the
// same digest.
func waitEqual(t *testing.T, nodes []*cluster.Node, stores []*mailbox.Store) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var first [32]byte
		var firstIdx uint64
		same := true
		for i, st := range stores {
			idx, d, err := st.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first, firstIdx = d, idx
			} else if d != first || idx != firstIdx {
				same = false
			}
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("digests differ after 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
