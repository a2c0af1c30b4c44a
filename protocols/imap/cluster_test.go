package imap

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestIdleSameNode: a change by one session reaches another session of the
// same node at once, in IDLE and at the end of other commands.
func TestIdleSameNode(t *testing.T) {
	c, addr := sharedServer(t)
	user := c.NewUser(t, "idle", password)
	writer, _ := dial(t, addr, user)
	watcher, u := dial(t, addr, user)
	appendMsg(t, writer, "INBOX", msg("one", "x"))
	mustSelect(t, watcher, "INBOX")
	mustSelect(t, writer, "INBOX")

	idle, err := watcher.Idle()
	if err != nil {
		t.Fatal(err)
	}
	appendMsg(t, writer, "INBOX", msg("two", "x"))
	u.wait(t, 2*time.Second, "EXISTS 2 in IDLE", func(u *updates) bool { return len(u.exists) > 0 && u.exists[len(u.exists)-1] == 2 })
	writer.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Collect()
	u.wait(t, 2*time.Second, "FETCH FLAGS in IDLE", func(u *updates) bool { return hasFlagList(u.flags[1], imap.FlagDeleted) })
	if _, err := writer.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	u.wait(t, 2*time.Second, "EXPUNGE in IDLE", func(u *updates) bool { return len(u.expunged) == 1 && u.expunged[0] == 1 })
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	// Outside IDLE: reported at the end of NOOP; never an EXPUNGE during
	// FETCH (RFC 9051 §7.4.1).
	appendMsg(t, writer, "INBOX", msg("three", "x"))
	writer.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Collect()
	writer.Expunge().Collect()
	got := fetchAll(t, watcher, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true})
	u.mu.Lock()
	nExp := len(u.expunged)
	u.mu.Unlock()
	if nExp != 1 {
		t.Fatalf("EXPUNGE sent during FETCH (%d expunges, %d fetched)", nExp, len(got))
	}
	if err := watcher.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	u.wait(t, time.Second, "EXPUNGE after NOOP", func(u *updates) bool { return len(u.expunged) == 2 })
	if n := watcher.Mailbox().NumMessages; n != 1 {
		t.Fatalf("watcher counts %d messages, want 1", n)
	}
}

// TestCrossNode: three nodes, each with its IMAP server. A delivery
// through n1 shows in an IDLE on n2 at once; UIDs and UIDVALIDITY are the
// same everywhere; flags, expunges and mailboxes made on one node show on
// the others; UIDVALIDITY survives a restart.
func TestCrossNode(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster")
	}
	c := startCluster(t, 3)
	user := c.NewUser(t, "cross", password)
	addrs := make([]string, 3)
	for i, n := range c.Nodes {
		_, addrs[i], _ = c.serve(t, n, nil)
	}
	// Every node must know the user before logging in there.
	for i := range c.Nodes {
		waitFor(t, func() bool { _, err := c.Nodes[i].Store.User(user); return err == nil })
	}

	watcher, u := dial(t, addrs[1], user)
	mustSelect(t, watcher, "INBOX")
	idle, err := watcher.Idle()
	if err != nil {
		t.Fatal(err)
	}
	var latencies []time.Duration
	for i := range 5 {
		start := time.Now()
		c.Nodes[0].Deliver(t, user, msg(fmt.Sprintf("cross %d", i), "x"))
		acked := time.Now()
		want := uint32(i + 1)
		u.wait(t, 3*time.Second, "EXISTS on n2", func(u *updates) bool {
			return len(u.exists) > 0 && u.exists[len(u.exists)-1] >= want
		})
		latencies = append(latencies, time.Since(acked))
		_ = start
	}
	t.Logf("IDLE on n2: EXISTS after the commit via n1: %v", latencies)
	idle.Close()
	idle.Wait()

	// Same UIDs and UIDVALIDITY on every node.
	var first string
	var uidValidity uint32
	for i, addr := range addrs {
		cl, _ := dial(t, addr, user)
		sel := mustSelect(t, cl, "INBOX")
		msgs := fetchAll(t, cl, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true})
		got := fmt.Sprint(sel.UIDValidity)
		for _, m := range msgs {
			got += fmt.Sprintf(" %d:%s", m.UID, m.Envelope.Subject)
		}
		if i == 0 {
			first, uidValidity = got, sel.UIDValidity
		} else if got != first {
			t.Fatalf("node %d sees %q, node 1 %q", i+1, got, first)
		}
	}

	// STORE on n2 → FETCH FLAGS in IDLE on n3; EXPUNGE on n1 → n3.
	w2, _ := dial(t, addrs[1], user)
	mustSelect(t, w2, "INBOX")
	w3, u3 := dial(t, addrs[2], user)
	mustSelect(t, w3, "INBOX")
	idle3, err := w3.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Collect(); err != nil {
		t.Fatal(err)
	}
	u3.wait(t, 3*time.Second, "FETCH FLAGS on n3", func(u *updates) bool { return hasFlagList(u.flags[2], imap.FlagDeleted) })
	w1, _ := dial(t, addrs[0], user)
	mustSelect(t, w1, "INBOX")
	if exp, err := w1.Expunge().Collect(); err != nil || len(exp) != 1 {
		t.Fatalf("EXPUNGE on n1: %v %v", exp, err)
	}
	u3.wait(t, 3*time.Second, "EXPUNGE on n3", func(u *updates) bool { return len(u.expunged) == 1 && u.expunged[0] == 2 })
	idle3.Close()
	idle3.Wait()

	// CREATE on n3 → LIST on n1; MOVE on n1 → STATUS on n2.
	if err := w3.Create("Shared", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return listMap(t, w1, "", "Shared", nil)["Shared"] != nil })
	if _, err := w1.Move(imap.UIDSetNum(1), "Shared").Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		st, err := w2.Status("Shared", &imap.StatusOptions{NumMessages: true}).Wait()
		return err == nil && *st.NumMessages == 1
	})

	// UIDVALIDITY survives a restart of a node.
	n := c.Nodes[2]
	n.Stop()
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	c.WaitReady(t)
	_, addr3, _ := c.serve(t, n, nil)
	waitFor(t, func() bool { _, err := n.Store.User(user); return err == nil })
	cl, _ := dial(t, addr3, user)
	if sel := mustSelect(t, cl, "INBOX"); sel.UIDValidity != uidValidity {
		t.Fatalf("UIDVALIDITY %d after restart, was %d", sel.UIDValidity, uidValidity)
	}
}
