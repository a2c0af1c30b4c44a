package imap

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

func mustOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustLimit(t *testing.T, what string, err error) {
	t.Helper()
	if imapCode(err) != imap.ResponseCodeLimit {
		t.Fatalf("%s: got %v, want NO [LIMIT]", what, err)
	}
}

// TestMailboxCountLimit: CREATE and RENAME past the mailbox count get NO
// [LIMIT] (RFC 5530 §3), whether the front end sees it first or apply
// refuses with the limit the node stamped into the event (a CREATE whose
// missing parent passes the count).
func TestMailboxCountLimit(t *testing.T) {
	c := sharedCluster(t)
	_, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.MaxMailboxes = 8 })
	user := c.NewUser(t, "count", password)
	cl, _ := dial(t, addr, user) // six mailboxes to begin with

	mustOK(t, "CREATE a", cl.Create("a", nil).Wait()) // 7
	// One new mailbox as far as the front end counts, two with its
	// parent: apply refuses.
	mustLimit(t, "CREATE b/c", cl.Create("b/c", nil).Wait())
	mustOK(t, "CREATE b", cl.Create("b", nil).Wait()) // 8
	mustLimit(t, "CREATE c", cl.Create("c", nil).Wait())
	mustOK(t, "RENAME a a2 (creates nothing)", cl.Rename("a", "a2", nil).Wait())
	mustLimit(t, "RENAME INBOX (creates a mailbox)", cl.Rename("INBOX", "Old", nil).Wait())
	mustOK(t, "DELETE b", cl.Delete("b").Wait()) // 7
	mustOK(t, "CREATE c", cl.Create("c", nil).Wait())
}

// TestMailboxDepthLimit: a name deeper than the limit gets NO [LIMIT] on
// CREATE and on RENAME, counting the mailboxes a rename moves below it.
func TestMailboxDepthLimit(t *testing.T) {
	c := sharedCluster(t)
	_, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.MaxMailboxDepth = 3 })
	user := c.NewUser(t, "depth", password)
	cl, _ := dial(t, addr, user)

	mustOK(t, "CREATE a/b/c", cl.Create("a/b/c", nil).Wait())
	mustLimit(t, "CREATE a/b/c/d", cl.Create("a/b/c/d", nil).Wait())
	mustOK(t, "CREATE x", cl.Create("x", nil).Wait())
	mustLimit(t, "RENAME a x/a (a/b/c would be x/a/b/c)", cl.Rename("a", "x/a", nil).Wait())
	mustOK(t, "RENAME a/b x/b", cl.Rename("a/b", "x/b", nil).Wait())
	mustLimit(t, "RENAME INBOX p/q/r/s", cl.Rename("INBOX", "p/q/r/s", nil).Wait())
	mustOK(t, "RENAME INBOX p/q/r", cl.Rename("INBOX", "p/q/r", nil).Wait())
}

// TestSubscriptionLimit: SUBSCRIBE to names that need not exist is bounded
// by the mailbox limit too: past it, NO [LIMIT].
func TestSubscriptionLimit(t *testing.T) {
	c := sharedCluster(t)
	_, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.MaxMailboxes = 7 })
	user := c.NewUser(t, "subs", password)
	cl, _ := dial(t, addr, user) // six subscribed to begin with
	mustOK(t, "SUBSCRIBE ghost", cl.Subscribe("ghost").Wait())
	mustLimit(t, "SUBSCRIBE ghost2", cl.Subscribe("ghost2").Wait())
	mustOK(t, "UNSUBSCRIBE ghost", cl.Unsubscribe("ghost").Wait())
	mustOK(t, "SUBSCRIBE ghost2", cl.Subscribe("ghost2").Wait())
}
