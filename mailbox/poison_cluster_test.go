package mailbox_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// TestPoisonEntryRefusedOnEveryNode runs three real nodes (Raft, Pebble)
// in this process (protocoltest). Every node's state is damaged the same way, so that
// the next expunge breaks an invariant: that entry is refused, with
// ERROR_CODE_INTERNAL, on every node alike; the cluster keeps serving and
// the digests stay equal. Before, every node panicked on the entry, and
// again after each restart.
func TestPoisonEntryRefusedOnEveryNode(t *testing.T) {
	const user = "p@example.test"
	c := protocoltest.Start(t, protocoltest.Options{Size: 3, Config: func(_ int, cfg *cluster.Config) {
		cfg.ProposeTimeout = 10 * time.Second
		id := cfg.NodeID
		cfg.OnStorageFailure = func(err error) { t.Errorf("node %s stopped: %v", id, err) }
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	submit := func(n *protocoltest.Node, events ...*evlog.Event) (*evlog.Outcome, error) {
		t.Helper()
		return propose.Submit(ctx, n.Node, events...)
	}
	body := []byte("Subject: x\r\n\r\nbody\r\n")
	sum := sha256.Sum256(body)
	var out *evlog.Outcome
	var err error
	for _, evs := range [][]*evlog.Event{
		{{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: user, PasswordHash: "x", CreatedUnix: 1}}}},
		{{Kind: &evlog.Event_BlobStored{BlobStored: evlog.Chunks(body)[0]}},
			{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{Blob: sum[:], Size: uint64(len(body)), Recipients: []*evlog.Recipient{{Address: user}}}}}},
	} {
		if out, err = submit(c.Nodes[1], evs...); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitConverged(t, 20*time.Second)
	inbox, err := c.Nodes[0].Store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	uid := out.GetResults()[1].GetUids()[0].GetFirst()
	for _, n := range c.Nodes {
		mailbox.BreakUsage(t, n.Store, user)
	}

	for _, n := range c.Nodes { // through every node: the leader and both followers
		_, err := submit(n, &evlog.Event{Kind: &evlog.Event_Expunged{Expunged: &evlog.Expunged{
			MailboxId: inbox.GetId(), Uids: []*evlog.UidRange{{First: uid, Last: uid}}}}})
		if !propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_INTERNAL) {
			t.Fatalf("expunge breaking an invariant via %s: %v, want ERROR_CODE_INTERNAL", n.ID, err)
		}
	}
	// Still serving, through every node.
	for i, n := range c.Nodes {
		if _, err := submit(n, &evlog.Event{Kind: &evlog.Event_MailboxCreated{MailboxCreated: &evlog.MailboxCreated{
			Address: user, Name: fmt.Sprintf("after-%d", i)}}}); err != nil {
			t.Fatalf("after the poison entry, %s: %v", n.ID, err)
		}
	}
	c.WaitConverged(t, 20*time.Second)
	for i, n := range c.Nodes {
		if msgs, _ := n.Store.MailboxByName(user, "INBOX"); msgs.GetMessages() != 1 {
			t.Fatalf("node %d: INBOX has %d messages, want the one the refused expunge kept", i, msgs.GetMessages())
		}
	}
}
