package mailbox

import (
	"slices"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// A Sieve script's outcome in one Delivered (RFC 5228 §4: keep and
// fileinto; RFC 5232 flags; RFC 5490 §3.2 :create): one user several
// times, each copy with its own flags and mailbox, created on demand.

func filing(a, mailbox string, create bool, flags ...string) *evlog.Recipient {
	return &evlog.Recipient{Address: a, Mailbox: mailbox, Create: create, Flags: flags}
}

// message returns the one message of a mailbox.
func (f *fixture) only(mailbox string) *evlog.MessageRecord {
	f.t.Helper()
	mb := f.mailbox(userA, mailbox)
	uids := f.uids(mb.GetId())
	if len(uids) != 1 {
		f.t.Fatalf("%s holds uids %v, want one", mailbox, uids)
	}
	m, err := f.s.Message(mb.GetId(), uids[0])
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// TestDeliveredFilings: keep with flags, fileinto an existing mailbox,
// fileinto :create of a nested mailbox (its parent too), a missing one
// without :create (INBOX): four copies of one body for one user, each
// charged to its quota, with the event's and its own flags; a bad flag of
// the recipient is dropped, not a refusal.
func TestDeliveredFilings(t *testing.T) {
	f := newFixture(t)
	inboxBefore := len(f.uids(f.inbox))
	usedBefore := f.user(userA).GetUsedBytes()
	r := f.one(ev(&evlog.Delivered{
		Blob: f.hash, Size: uint64(f.size), InternalDateUnix: 1700000000, Flags: []string{"$Common"},
		MaxMailboxes: 100, MaxNameDepth: 4,
		Recipients: []*evlog.Recipient{
			filing(userA, "", false, `\flagged`, "bad flag", `\Bogus`),
			filing(userA, "Work", false, `\Seen`),
			filing(userA, "Lists/Go", true, "$Label1"),
			filing(userA, "Missing", false),
		},
	}))
	if got := evlog.Expand(r.GetUids()); len(got) != 4 || len(r.GetSkipped()) != 0 {
		t.Fatalf("uids %v skipped %v", got, r.GetSkipped())
	}
	inbox := f.uids(f.inbox)
	if len(inbox) != inboxBefore+2 {
		t.Fatalf("INBOX has %d, want %d (keep and the missing mailbox)", len(inbox), inboxBefore+2)
	}
	kept, err := f.s.Message(f.inbox, inbox[len(inbox)-2])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kept.GetFlags(), []string{"$Common", `\Flagged`}) {
		t.Errorf("kept copy's flags %v", kept.GetFlags())
	}
	if m := f.only("Work"); !slices.Equal(m.GetFlags(), []string{"$Common", `\Seen`}) {
		t.Errorf("Work copy's flags %v", m.GetFlags())
	}
	f.mailbox(userA, "Lists") // the parent, created with it
	if m := f.only("Lists/Go"); !slices.Equal(m.GetFlags(), []string{"$Common", "$Label1"}) {
		t.Errorf("Lists/Go copy's flags %v", m.GetFlags())
	}
	if _, err := f.s.MailboxByName(userA, "Missing"); err == nil {
		t.Error("Missing was created without :create")
	}
	if u := f.user(userA); u.GetUsedBytes() != usedBefore+4*uint64(f.size) {
		t.Errorf("used %d, want %d", u.GetUsedBytes(), usedBefore+4*uint64(f.size))
	}
	checkInvariants(t, f.s)

	// Again: Lists/Go exists now; nothing new is created.
	f.one(delivered(f.hash, f.size, filing(userA, "lists/Go", true)))
	if got := f.uids(f.mailbox(userA, "Lists/Go").GetId()); len(got) != 1 {
		// "lists" is not "Lists": only INBOX is case-insensitive, so a
		// new lists/Go exists now.
		t.Fatalf("Lists/Go holds %v", got)
	}
	f.mailbox(userA, "lists/Go")
	checkInvariants(t, f.s)
}

// TestDeliveredCreateLimits: :create never makes a mailbox that CREATE
// could not (a bad name, INBOX, too deep, past the count limit): the copy
// goes to INBOX and the delivery is not refused.
func TestDeliveredCreateLimits(t *testing.T) {
	f := newFixture(t)
	n, err := f.s.Mailboxes(userA)
	if err != nil {
		t.Fatal(err)
	}
	count := uint32(len(n))
	before := len(f.uids(f.inbox))
	for _, name := range []string{"/bad", "a//b", "inbox", "a/b/c/d/e", "Two/Levels"} {
		f.one(ev(&evlog.Delivered{
			Blob: f.hash, Size: uint64(f.size), InternalDateUnix: 1700000000,
			MaxMailboxes: count + 1, MaxNameDepth: 3, // room for one, not for two
			Recipients: []*evlog.Recipient{filing(userA, name, true)},
		}))
	}
	if got := len(f.uids(f.inbox)); got != before+5 {
		t.Fatalf("INBOX got %d, want 5", got-before)
	}
	after, err := f.s.Mailboxes(userA)
	if err != nil || len(after) != len(n) {
		t.Fatalf("mailboxes %d → %d (%v)", len(n), len(after), err)
	}
	// One fits.
	f.one(ev(&evlog.Delivered{
		Blob: f.hash, Size: uint64(f.size), InternalDateUnix: 1700000000, MaxMailboxes: count + 1,
		Recipients: []*evlog.Recipient{filing(userA, "One", true)},
	}))
	f.only("One")
	checkInvariants(t, f.s)
}

// TestDeliveredSameUserQuota: each copy counts against the quota; the
// copies past it are skipped, the first delivered, and the skipped ones
// are the last (the front end pairs UIDs with copies by that order).
func TestDeliveredSameUserQuota(t *testing.T) {
	f := newFixture(t)
	used := f.user(userA).GetUsedBytes()
	f.ok(quotaSet(userA, used+2*uint64(f.size)))
	r := f.one(delivered(f.hash, f.size, filing(userA, "", false), filing(userA, "Work", false), filing(userA, "Work", false, `\Seen`)))
	if got := evlog.Expand(r.GetUids()); len(got) != 2 || !slices.Equal(r.GetSkipped(), []string{userA}) {
		t.Fatalf("uids %v skipped %v", got, r.GetSkipped())
	}
	if m := f.only("Work"); len(m.GetFlags()) != 0 {
		t.Errorf("the first Work copy was kept, flags %v", m.GetFlags())
	}
	checkInvariants(t, f.s)
}

// TestDeliveredPartialCopiesNoDSN: a user who got one of its copies
// before the quota ran out has the message: its sender gets no DSN; a
// user who got none does, once for all its copies.
func TestDeliveredPartialCopiesNoDSN(t *testing.T) {
	f := newFixture(t)
	used := f.user(userA).GetUsedBytes()
	f.ok(quotaSet(userA, used+uint64(f.size)), quotaSet(userB, 1))
	r := f.one(deliveredFrom("sender@remote.example", true, f.hash, f.size,
		filing(userA, "", false), filing(userA, "Work", false), filing(userB, "", false), filing(userB, "Work", true)))
	if !slices.Equal(r.GetSkipped(), []string{userA, userB, userB}) {
		t.Fatalf("skipped %v", r.GetSkipped())
	}
	entries, err := f.s.QueueEntries(100)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, q := range entries {
		for _, r := range q.GetRecipients() {
			failed = append(failed, r.GetAddress())
		}
	}
	if !slices.Equal(failed, []string{userB}) {
		t.Fatalf("DSN for %v, want %s alone", failed, userB)
	}
	checkInvariants(t, f.s)
}
