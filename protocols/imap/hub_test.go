package imap

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// countingStore is the real store, counting whole-mailbox reads.
type countingStore struct {
	Store
	wholeReads atomic.Int64
}

func (c *countingStore) MailboxSnapshot(id uint64, fn func(uid uint32, m *evlog.MessageRecord)) (*evlog.MailboxRecord, error) {
	c.wholeReads.Add(1)
	return c.Store.MailboxSnapshot(id, fn)
}

// inboxOf is the id of user's INBOX.
func inboxOf(t *testing.T, c *testCluster, user string) uint64 {
	t.Helper()
	mb, err := c.Nodes[0].Store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return mb.GetId()
}

func acquireSize(t *testing.T, h *hub, id uint64) (*mailboxState, int) {
	t.Helper()
	st, err := h.acquire(id)
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := st.current()
	return st, len(cur.uids)
}

func TestHubWarmMailbox(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "warm", password)
	id := inboxOf(t, c, user)
	for i := range 3 {
		c.Nodes[0].Deliver(t, user, msg(fmt.Sprintf("warm %d", i), "body"))
	}
	// The hub starts after the deliveries, so that the change feed's news
	// of them (published just after apply) cannot arrive after the first
	// acquire has read the mailbox and count as a second whole read.
	store := &countingStore{Store: c.Nodes[0].Store}
	h := newHub(store, protocoltest.Logger(), 100)
	defer h.close()

	st, n := acquireSize(t, h, id)
	if n != 3 || store.wholeReads.Load() != 1 {
		t.Fatalf("first acquire: %d messages, %d whole reads; want 3, 1", n, store.wholeReads.Load())
	}
	h.release(st)

	// Unchanged since released: the warm snapshot serves without a read.
	st, n = acquireSize(t, h, id)
	if n != 3 || store.wholeReads.Load() != 1 {
		t.Fatalf("warm acquire: %d messages, %d whole reads; want 3, 1", n, store.wholeReads.Load())
	}
	h.release(st)

	// Changed while warm: the next acquire must see the change.
	c.Nodes[0].Deliver(t, user, msg("warm 3", "body"))
	st, n = acquireSize(t, h, id)
	if n != 4 {
		t.Fatalf("acquire after a delivery to a warm mailbox: %d messages, want 4", n)
	}
	h.release(st)
}

func TestHubWarmEviction(t *testing.T) {
	c := sharedCluster(t)
	h := newHub(c.Nodes[0].Store, protocoltest.Logger(), 3) // room for one 2-message mailbox
	defer h.close()
	var ids []uint64
	for range 2 {
		user := c.NewUser(t, "evict", password)
		for i := range 2 {
			c.Nodes[0].Deliver(t, user, msg(fmt.Sprintf("evict %d", i), "body"))
		}
		ids = append(ids, inboxOf(t, c, user))
	}
	for _, id := range ids {
		st, _ := acquireSize(t, h, id)
		h.release(st)
	}
	h.mu.Lock()
	_, first := h.states[ids[0]]
	_, second := h.states[ids[1]]
	warm, msgs := h.warm.Len(), h.warmMsgs
	h.mu.Unlock()
	if first || !second || warm != 1 || msgs != 2 {
		t.Fatalf("after releasing two 2-message mailboxes with room for 3 messages: first kept %v, second kept %v, %d warm holding %d; want false, true, 1, 2",
			first, second, warm, msgs)
	}

	// A held mailbox is never counted or evicted.
	st, _ := acquireSize(t, h, ids[1])
	h.mu.Lock()
	warm, msgs = h.warm.Len(), h.warmMsgs
	h.mu.Unlock()
	if warm != 0 || msgs != 0 {
		t.Fatalf("held mailbox still warm: %d warm holding %d", warm, msgs)
	}
	h.release(st)
}

func TestHubNoWarm(t *testing.T) {
	c := sharedCluster(t)
	h := newHub(c.Nodes[0].Store, protocoltest.Logger(), -1)
	defer h.close()
	user := c.NewUser(t, "cold", password)
	st, _ := acquireSize(t, h, inboxOf(t, c, user))
	h.release(st)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.states) != 0 || h.warm.Len() != 0 {
		t.Fatalf("with warm snapshots off, %d states and %d warm remain", len(h.states), h.warm.Len())
	}
}

// waitSnapshot waits until the state's snapshot satisfies cond.
func waitSnapshot(t *testing.T, st *mailboxState, what string, cond func(*snapshot) bool) *snapshot {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		cur, wake := st.current()
		if cond(cur) {
			return cur
		}
		select {
		case <-wake:
		case <-deadline:
			t.Fatalf("%s: snapshot never got there; last %+v", what, cur)
		}
	}
}

// TestHubAppliesChangesIncrementally: a held mailbox follows deliveries,
// flag changes and expunges made anywhere by reading only the messages
// each change names, and ends up equal to a whole read.
func TestHubAppliesChangesIncrementally(t *testing.T) {
	c := sharedCluster(t)
	store := &countingStore{Store: c.Nodes[0].Store}
	h := newHub(store, protocoltest.Logger(), 100)
	defer h.close()
	user := c.NewUser(t, "incr", password)
	id := inboxOf(t, c, user)
	for i := range 5 {
		c.Nodes[0].Deliver(t, user, msg(fmt.Sprintf("incr %d", i), "body"))
	}
	st, n := acquireSize(t, h, id)
	defer h.release(st)
	if n != 5 {
		t.Fatalf("acquired %d messages, want 5", n)
	}
	reads := store.wholeReads.Load()

	c.Nodes[0].Deliver(t, user, msg("incr 5", "body"))
	c.Submit(t, ev(&evlog.Event_FlagsChanged{FlagsChanged: &evlog.FlagsChanged{
		MailboxId: id, Uids: uidRanges([]uint32{2, 6}), Op: evlog.FlagOp_FLAG_OP_ADD, Flags: []string{`\Flagged`}}}))
	c.Submit(t, ev(&evlog.Event_Expunged{Expunged: &evlog.Expunged{MailboxId: id, Uids: uidRanges([]uint32{3})}}))

	want, err := store.Mailbox(id)
	if err != nil {
		t.Fatal(err)
	}
	got := waitSnapshot(t, st, "follow the changes", func(s *snapshot) bool { return s.modseq >= want.GetHighestModseq() })
	if r := store.wholeReads.Load(); r != reads {
		t.Errorf("%d whole reads while following ordinary changes, want none", r-reads)
	}
	whole, err := readSnapshot(c.Nodes[0].Store, id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.uids, whole.uids) || got.uidNext != whole.uidNext || got.modseq != whole.modseq || got.uidValidity != whole.uidValidity {
		t.Fatalf("incremental snapshot uids %v uidnext %d modseq %d; whole read uids %v uidnext %d modseq %d",
			got.uids, got.uidNext, got.modseq, whole.uids, whole.uidNext, whole.modseq)
	}
	for i := range got.msgs {
		if got.msgs[i].modseq != whole.msgs[i].modseq || !slices.Equal(got.msgs[i].flags, whole.msgs[i].flags) {
			t.Errorf("uid %d: modseq %d flags %v; whole read %d %v", got.uids[i],
				got.msgs[i].modseq, got.msgs[i].flags, whole.msgs[i].modseq, whole.msgs[i].flags)
		}
	}
	if !slices.Equal(got.uids, []uint32{1, 2, 4, 5, 6}) {
		t.Errorf("uids %v, want [1 2 4 5 6]", got.uids)
	}

	// A session's refresh after its own write sees it at once.
	c.Submit(t, ev(&evlog.Event_Expunged{Expunged: &evlog.Expunged{MailboxId: id, Uids: uidRanges([]uint32{1})}}))
	cur, err := st.refresh(false)
	if err != nil || cur.index(1) >= 0 {
		t.Fatalf("refresh after an expunge: %v, uids %v", err, cur.uids)
	}
}

// TestSortSnapshot: the fallback that restores UID order.
func TestSortSnapshot(t *testing.T) {
	s := &snapshot{uids: []uint32{5, 1, 9, 3}, msgs: []msgState{{modseq: 5}, {modseq: 1}, {modseq: 9}, {modseq: 3}}}
	sortSnapshot(s)
	if !slices.Equal(s.uids, []uint32{1, 3, 5, 9}) {
		t.Fatalf("uids %v", s.uids)
	}
	for i, uid := range s.uids {
		if s.msgs[i].modseq != uint64(uid) {
			t.Errorf("uid %d carries modseq %d", uid, s.msgs[i].modseq)
		}
	}
}

// TestHubChangeDuringFirstRead: a change the hub hands to a mailbox whose
// first read (acquire's) has not published yet waits for that read and
// applies to it, instead of reading the mailbox whole a second time (it
// did, on a busy node: TestHubAppliesChangesIncrementally counted one).
func TestHubChangeDuringFirstRead(t *testing.T) {
	c := sharedCluster(t)
	store := &countingStore{Store: c.Nodes[0].Store}
	h := newHub(store, protocoltest.Logger(), 100)
	defer h.close()
	h.catchUp = time.Minute // the read below always publishes well before
	user := c.NewUser(t, "firstread", password)
	id := inboxOf(t, c, user)
	c.Nodes[0].Deliver(t, user, msg("first read 1", "body"))
	first, err := readSnapshot(c.Nodes[0].Store, id) // acquire's read, uncounted
	if err != nil {
		t.Fatal(err)
	}
	c.Nodes[0].Deliver(t, user, msg("first read 2", "body"))
	mb, err := c.Nodes[0].Store.Mailbox(id)
	if err != nil {
		t.Fatal(err)
	}
	added := mailbox.Change{Kind: mailbox.MessagesAdded, MailboxID: id, Address: user,
		UIDs: []uint32{2}, ModSeq: mb.GetHighestModseq()}

	m := &mailboxState{id: id, hub: h, wake: make(chan struct{})}
	go func() {
		time.Sleep(20 * time.Millisecond) // let apply find no snapshot
		m.publish(first)
	}()
	if err := m.apply([]mailbox.Change{added}, false); err != nil {
		t.Fatal(err)
	}
	cur, _ := m.current()
	if !slices.Equal(cur.uids, []uint32{1, 2}) || cur.modseq != mb.GetHighestModseq() {
		t.Errorf("snapshot uids %v modseq %d, want [1 2] at %d", cur.uids, cur.modseq, mb.GetHighestModseq())
	}
	if n := store.wholeReads.Load(); n != 0 {
		t.Errorf("%d whole reads, want none: the change applies to the first read", n)
	}
}
