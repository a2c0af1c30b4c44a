package mailbox

import (
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func limitedCreate(a, name string, maxMailboxes, maxDepth uint32) *evlog.Event {
	return ev(&evlog.MailboxCreated{Address: a, Name: name, MaxMailboxes: maxMailboxes, MaxNameDepth: maxDepth})
}

func limitedRename(id uint64, name string, maxMailboxes, maxDepth uint32) *evlog.Event {
	return ev(&evlog.MailboxRenamed{MailboxId: id, NewName: name, MaxMailboxes: maxMailboxes, MaxNameDepth: maxDepth})
}

// TestMailboxCountLimit: CREATE past the limit the event carries is
// refused with MAILBOX_LIMIT and changes nothing, parents included; a
// user left over a limit lowered since may still rename.
func TestMailboxCountLimit(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000)) // six default mailboxes
	h.ok(limitedCreate(userA, "a", 8, 0))
	h.ok(limitedCreate(userA, "b", 8, 0)) // 8 of 8
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedCreate(userA, "c", 8, 0))
	// Parents count: "x/y" would create two.
	h.ok(limitedCreate(userA, "c", 9, 0))
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedCreate(userA, "x/y", 10, 0))
	// Without a limit (entries from before limits existed) nothing is refused.
	h.ok(limitedCreate(userA, "x/y", 0, 0))
	// 11 mailboxes now, limit 9: a plain rename creates nothing and passes,
	// one that needs a new parent does not.
	h.ok(limitedRename(h.mailbox(userA, "a").GetId(), "a2", 9, 0))
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedRename(h.mailbox(userA, "b").GetId(), "p/b", 9, 0))
	// Renaming INBOX creates a mailbox for its messages.
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedRename(h.mailbox(userA, "INBOX").GetId(), "Old", 11, 0))
	h.ok(limitedRename(h.mailbox(userA, "INBOX").GetId(), "Old", 12, 0))
	// Each user has their own count.
	h.ok(userCreated(userB, 2000), limitedCreate(userB, "a", 7, 0))
}

// TestMailboxDepthLimit: names deeper than the limit are refused on CREATE
// and on RENAME, including the names of children moved by a rename.
func TestMailboxDepthLimit(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	h.ok(limitedCreate(userA, "a/b/c", 0, 3))
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedCreate(userA, "a/b/c/d", 0, 3))
	h.ok(limitedCreate(userA, "x", 0, 3))
	// "a" moved under "x" would put "a/b/c" at x/a/b/c: four levels.
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedRename(h.mailbox(userA, "a").GetId(), "x/a", 0, 3))
	h.ok(limitedRename(h.mailbox(userA, "a/b").GetId(), "x/b", 0, 3)) // x/b, x/b/c
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, limitedRename(h.mailbox(userA, "INBOX").GetId(), "p/q/r/s", 0, 3))
	deep := strings.Repeat("n/", 40) + "n"
	h.ok(limitedCreate(userA, deep, 0, 0))
}

// TestSubscriptionLimit: names need not exist to be subscribed, so their
// number is bounded on its own: past the limit the event carries, a new
// subscription is refused; one again, and unsubscribing, pass.
func TestSubscriptionLimit(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000)) // six subscribed
	sub := func(name string, on bool, limit uint32) *evlog.Event {
		return ev(&evlog.Subscribed{Address: userA, Name: name, Subscribed: on, MaxSubscriptions: limit})
	}
	h.ok(sub("ghost", true, 7))
	h.fails(evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT, sub("ghost2", true, 7))
	h.ok(sub("ghost", true, 7)) // already subscribed
	h.ok(sub("ghost2", true, 0))
	h.ok(sub("ghost", false, 7), sub("Sent", false, 7)) // 6
	h.ok(sub("ghost3", true, 7))
}
