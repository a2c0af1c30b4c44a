package mailbox

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func TestAccounts(t *testing.T) {
	h := newHarness(t)
	r := h.ok(domainAdded("example.org"), domainAdded("example.org"), domainAdded("b.example"))
	if len(r) != 3 {
		t.Fatalf("results %v", r)
	}
	if got, _ := h.s.Domains(); !slices.Equal(got, []string{"b.example", "example.org"}) {
		t.Errorf("Domains = %v", got)
	}
	h.ok(domainRemoved("b.example"))
	if ok, _ := h.s.IsLocalDomain("b.example"); ok {
		t.Error("removed domain still local")
	}

	res := h.one(userCreated(userA, 5000))
	mbs, err := h.s.Mailboxes(userA)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mb := range mbs {
		names = append(names, mb.GetName()+" "+mb.GetSpecialUse())
	}
	want := []string{"Archive \\Archive", "Drafts \\Drafts", "INBOX ", "Junk \\Junk", "Sent \\Sent", "Trash \\Trash"}
	if !slices.Equal(names, want) {
		t.Errorf("mailboxes %q, want %q", names, want)
	}
	inbox := h.mailbox(userA, "inbox")
	if res.GetMailboxId() != inbox.GetId() || res.GetUidValidity() != 5000 || inbox.GetUidNext() != 1 {
		t.Errorf("result %v, INBOX %v", res, inbox)
	}
	if subs, _ := h.s.Subscriptions(userA); len(subs) != 6 {
		t.Errorf("subscriptions %v", subs)
	}
	// UIDVALIDITY = max(hint, last+1): a hint in the past still increases.
	r2 := h.one(userCreated(userB, 10))
	if r2.GetUidValidity() != 5006 {
		t.Errorf("UIDVALIDITY with an old hint = %d, want 5006", r2.GetUidValidity())
	}

	h.ok(ev(&evlog.PasswordChanged{Address: userA, PasswordHash: "new"}), quotaSet(userA, 1<<20))
	if u := h.user(userA); u.GetPasswordHash() != "new" || u.GetQuotaBytes() != 1<<20 || u.GetCreatedUnix() != 5000 {
		t.Errorf("user %v", u)
	}

	h.ok(aliasAdded(alias, userA), aliasAdded("x@example.org", userA))
	if got, _ := h.s.ResolveAddress(alias); got != userA {
		t.Errorf("ResolveAddress(alias) = %q", got)
	}
	if got, _ := h.s.ResolveAddress(userB); got != userB {
		t.Errorf("ResolveAddress(user) = %q", got)
	}
	if _, err := h.s.ResolveAddress(nouser); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResolveAddress(missing) err = %v", err)
	}
	if got, _ := h.s.Aliases(userA); !slices.Equal(got, []string{alias, "x@example.org"}) {
		t.Errorf("Aliases = %v", got)
	}
	h.ok(aliasRemoved("x@example.org"))
	if got, _ := h.s.Aliases(userA); !slices.Equal(got, []string{alias}) {
		t.Errorf("Aliases after removal = %v", got)
	}
	if got, _ := h.s.Users(); !slices.Equal(got, []string{userA, userB}) {
		t.Errorf("Users = %v", got)
	}
}

func TestUserDeletedRemovesEverything(t *testing.T) {
	f := newFixture(t)
	f.ok(subscribed(userA, "Nowhere", true), appended(f.work, f.hash, f.size))
	f.ok(delivered(f.hash, f.size, rcpt(userB, "")))
	f.ok(userDeleted(userA))
	if _, err := f.s.User(userA); !errors.Is(err, ErrNotFound) {
		t.Errorf("User after delete: %v", err)
	}
	if _, err := f.s.ResolveAddress(alias); !errors.Is(err, ErrNotFound) {
		t.Errorf("alias survives its user: %v", err)
	}
	if mbs, _ := f.s.Mailboxes(userA); len(mbs) != 0 {
		t.Errorf("mailboxes survive: %v", mbs)
	}
	if subs, _ := f.s.Subscriptions(userA); len(subs) != 0 {
		t.Errorf("subscriptions survive: %v", subs)
	}
	if _, err := f.s.Mailbox(f.inbox); !errors.Is(err, ErrNotFound) {
		t.Errorf("INBOX record survives: %v", err)
	}
	if b, _ := f.s.BlobInfo(f.hash); b.GetRefs() != 1 || b.GetTouchedIndex() != f.index {
		t.Errorf("blob after delete: %v", b)
	}
	checkInvariants(t, f.s)
	// The address is free again.
	f.ok(userCreated(userA, 1), aliasAdded(alias, userA))
}

func TestMailboxCreateRenameDelete(t *testing.T) {
	f := newFixture(t)
	r := f.one(mailboxCreated(userA, "Projects/2024/Q1", 9000))
	if r.GetUidValidity() < 9000 {
		t.Errorf("uidvalidity %d below hint", r.GetUidValidity())
	}
	// RFC 9051 §6.3.4: superiors were created.
	for _, n := range []string{"Projects", "Projects/2024", "Projects/2024/Q1"} {
		f.mailbox(userA, n)
	}
	f.one(mailboxCreated(userA, "inbox/sub", 0))
	if mb := f.mailbox(userA, "INBOX/sub"); mb.GetName() != "INBOX/sub" {
		t.Errorf("name below INBOX stored as %q", mb.GetName())
	}
	projects := f.mailbox(userA, "Projects")
	f.one(mailboxRenamed(projects.GetId(), "Old/Projects", 0))
	for _, n := range []string{"Old", "Old/Projects", "Old/Projects/2024", "Old/Projects/2024/Q1"} {
		f.mailbox(userA, n)
	}
	if _, err := f.s.MailboxByName(userA, "Projects/2024"); !errors.Is(err, ErrNotFound) {
		t.Errorf("old child name still resolves: %v", err)
	}
	if mb := f.mailbox(userA, "Old/Projects"); mb.GetId() != projects.GetId() || mb.GetUidValidity() != projects.GetUidValidity() {
		t.Errorf("rename changed identity: %v vs %v", mb, projects)
	}
	// Renaming into its own subtree moves the children along.
	work := f.mailbox(userA, "Work")
	f.ok(mailboxCreated(userA, "Work/c", 0))
	f.one(mailboxRenamed(work.GetId(), "Work/b", 0))
	for _, n := range []string{"Work", "Work/b", "Work/b/c"} {
		f.mailbox(userA, n)
	}
	// Delete keeps children and drops messages, usage and references.
	f.ok(appended(work.GetId(), f.hash, f.size))
	f.one(mailboxDeleted(work.GetId()))
	f.mailbox(userA, "Work/b/c")
	if u := f.user(userA); u.GetUsedBytes() != uint64(f.size) {
		t.Errorf("used %d after delete, want %d", u.GetUsedBytes(), f.size)
	}
	if b, _ := f.s.BlobInfo(f.hash); b.GetRefs() != 1 {
		t.Errorf("refs %d after delete", b.GetRefs())
	}
	checkInvariants(t, f.s)
}

func TestRenameInbox(t *testing.T) {
	f := newFixture(t)
	f.ok(mailboxCreated(userA, "INBOX/keep", 0), flagsChanged(f.inbox, opAdd, uidRanges(1, 1), `\Seen`))
	before := f.mailbox(userA, "INBOX")
	r := f.one(mailboxRenamed(f.inbox, "Old Inbox", 0))
	inbox, old := f.mailbox(userA, "INBOX"), f.mailbox(userA, "Old Inbox")
	if r.GetMailboxId() != old.GetId() || old.GetId() == inbox.GetId() {
		t.Errorf("result %v, new mailbox %v", r, old)
	}
	if inbox.GetId() != f.inbox || inbox.GetMessages() != 0 || inbox.GetSize() != 0 ||
		inbox.GetUidValidity() != before.GetUidValidity() || inbox.GetUidNext() != before.GetUidNext() {
		t.Errorf("INBOX after rename: %v (before %v)", inbox, before)
	}
	if old.GetMessages() != 1 || old.GetUidNext() != before.GetUidNext() || old.GetUidValidity() <= before.GetUidValidity() {
		t.Errorf("new mailbox: %v", old)
	}
	m, err := f.s.Message(old.GetId(), 1)
	if err != nil || !slices.Equal(m.GetFlags(), []string{`\Seen`}) || m.GetModseq() != old.GetHighestModseq() {
		t.Errorf("moved message %v, %v", m, err)
	}
	f.mailbox(userA, "INBOX/keep")
	// New deliveries go to the (empty) INBOX with fresh UIDs.
	r2 := f.one(delivered(f.hash, f.size, rcpt(userA, "")))
	if r2.GetUids()[0].GetFirst() != before.GetUidNext() {
		t.Errorf("delivery after INBOX rename got uid %v", r2.GetUids())
	}
	checkInvariants(t, f.s)
}

func TestDelivered(t *testing.T) {
	f := newFixture(t)
	f.ok(quotaSet(userB, uint64(f.size)), mailboxCreated(userA, "Lists", 0))
	r := f.one(ev(&evlog.Delivered{
		Blob: f.hash, Size: uint64(f.size), InternalDateUnix: 42, InternalDateOffset: -3600,
		Flags: []string{"$Junk", `\seen`, `\Recent`, "$junk"},
		Recipients: []*evlog.Recipient{
			rcpt(userA, "Lists"), rcpt(nouser, ""), rcpt(userB, ""), rcpt(userB, ""), rcpt(userA, "Gone"),
		},
	}))
	// b fits once; the second copy would exceed the quota.
	if !slices.Equal(r.GetSkipped(), []string{nouser, userB}) {
		t.Errorf("skipped %v", r.GetSkipped())
	}
	if got := evlog.Expand(r.GetUids()); !slices.Equal(got, []uint32{1, 1, 2}) {
		t.Errorf("uids %v", got)
	}
	// The mailbox of each copy: "Gone" does not exist, so INBOX.
	if got := r.GetMailboxes(); !slices.Equal(got, []string{"Lists", "INBOX", "INBOX"}) {
		t.Errorf("mailboxes %v", got)
	}
	lists := f.mailbox(userA, "Lists")
	m, err := f.s.Message(lists.GetId(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.GetFlags(), []string{"$Junk", `\Seen`}) || m.GetInternalDateUnix() != 42 ||
		m.GetInternalDateOffset() != -3600 || m.GetModseq() != 2 || lists.GetHighestModseq() != 2 {
		t.Errorf("message %v in %v", m, lists)
	}
	// "Gone" does not exist: filed into INBOX (uid 2 after the fixture's 1).
	if got := f.uids(f.inbox); !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("INBOX uids %v", got)
	}
	if b, _ := f.s.BlobInfo(f.hash); b.GetRefs() != 4 {
		t.Errorf("refs %d, want 4", b.GetRefs())
	}
	if u := f.user(userA); u.GetUsedBytes() != 3*uint64(f.size) {
		t.Errorf("used %d", u.GetUsedBytes())
	}
	checkInvariants(t, f.s)
}

func TestAppendedAndBlobs(t *testing.T) {
	f := newFixture(t)
	r := f.one(appended(f.work, f.hash, f.size, `\Draft`, `\Draft`))
	work := f.mailbox(userA, "Work")
	if r.GetUidValidity() != work.GetUidValidity() || evlog.Expand(r.GetUids())[0] != 1 || r.GetMailboxId() != work.GetId() {
		t.Errorf("result %v", r)
	}
	// A multi-chunk body, stored out of order with a repeat, streams back.
	body := strings.Repeat("0123456789", evlog.ChunkSize/4)
	chunks := evlog.Chunks([]byte(body))
	f.ok(blobStored(chunks[2]), blobStored(chunks[0]))
	f.ok(blobStored(chunks[0]))
	if _, err := f.s.Blob(chunks[0].Hash); !errors.Is(err, ErrNotFound) {
		t.Errorf("incomplete blob readable: %v", err)
	}
	f.ok(blobStored(chunks[1]))
	got, err := f.s.Blob(chunks[0].Hash)
	if err != nil || string(got) != body {
		t.Fatalf("Blob: %d bytes, %v", len(got), err)
	}
	rd, err := f.s.BlobReader(chunks[0].Hash)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := io.ReadAll(rd)
	if err != nil || string(streamed) != body {
		t.Errorf("BlobReader: %d bytes, %v", len(streamed), err)
	}
	rd.Close()
	f.ok(appended(f.inbox, chunks[0].Hash, len(body)))

	// Collection: only unreferenced blobs go.
	unref, _ := f.s.UnreferencedBlobs(f.index+1, 0, 0)
	if len(unref) != 1 || string(unref[0]) != string(f.partial.Hash) {
		t.Errorf("unreferenced %x", unref)
	}
	f.ok(blobsCollected(f.hash, chunks[0].Hash, f.partial.Hash))
	if _, err := f.s.BlobInfo(f.partial.Hash); !errors.Is(err, ErrNotFound) {
		t.Errorf("unreferenced blob survives: %v", err)
	}
	if _, err := f.s.Blob(f.hash); err != nil {
		t.Errorf("referenced blob collected: %v", err)
	}
	f.ok(expunged(f.inbox, uidRanges(1, 4294967295)))
	if b, _ := f.s.BlobInfo(chunks[0].Hash); b.GetRefs() != 0 || b.GetTouchedIndex() != f.index {
		t.Errorf("after expunge: %v", b)
	}
	f.ok(blobsCollected(chunks[0].Hash))
	if _, err := f.s.Blob(chunks[0].Hash); !errors.Is(err, ErrNotFound) {
		t.Errorf("collected blob readable: %v", err)
	}
	checkInvariants(t, f.s)
}

func TestFlagsChanged(t *testing.T) {
	f := newFixture(t)
	for range 4 {
		f.ok(delivered(f.hash, f.size, rcpt(userA, "")))
	}
	flags := func(uid uint32) []string {
		m, err := f.s.Message(f.inbox, uid)
		if err != nil {
			t.Fatal(err)
		}
		return m.GetFlags()
	}
	modseq := func(uid uint32) uint64 {
		m, _ := f.s.Message(f.inbox, uid)
		return m.GetModseq()
	}
	r := f.one(flagsChanged(f.inbox, opAdd, uidRanges(1, 4294967295), `\SEEN`, "Foo", "foo", `\Recent`))
	high := f.mailbox(userA, "INBOX").GetHighestModseq()
	if r.GetModseq() != high || !slices.Equal(evlog.Expand(r.GetUids()), []uint32{1, 2, 3, 4, 5}) {
		t.Errorf("result %v", r)
	}
	if got := flags(3); !slices.Equal(got, []string{"Foo", `\Seen`}) {
		t.Errorf("flags %q", got)
	}
	// Adding what is there (in another case) changes nothing, modseq too.
	r = f.one(flagsChanged(f.inbox, opAdd, uidRanges(1, 5), "FOO"))
	if len(r.GetUids()) != 0 || f.mailbox(userA, "INBOX").GetHighestModseq() != high {
		t.Errorf("no-op store changed modseq: %v", r)
	}
	f.one(flagsChanged(f.inbox, opRemove, uidRanges(2, 2), "foo"))
	if got := flags(2); !slices.Equal(got, []string{`\Seen`}) || modseq(2) != high+1 || modseq(1) != high {
		t.Errorf("after remove: %q modseq %d", got, modseq(2))
	}
	f.one(flagsChanged(f.inbox, opReplace, uidRanges(4, 5, 1, 1), `\Flagged`, `\Answered`))
	if got := flags(5); !slices.Equal(got, []string{`\Answered`, `\Flagged`}) {
		t.Errorf("after replace: %q", got)
	}
	// RFC 7162 §3.1.3: with UNCHANGEDSINCE high+1, uid 1, 4 and 5 (modseq
	// high+2) are MODIFIED and left alone; 2 and 3 change.
	r = f.one(ev(&evlog.FlagsChanged{MailboxId: f.inbox, Uids: uidRanges(1, 5), Op: opAdd, Flags: []string{`\Deleted`}, UnchangedSince: high + 1}))
	if got := evlog.Expand(r.GetSourceUids()); !slices.Equal(got, []uint32{1, 4, 5}) {
		t.Errorf("MODIFIED %v", got)
	}
	if got := evlog.Expand(r.GetUids()); !slices.Equal(got, []uint32{2, 3}) {
		t.Errorf("changed %v", got)
	}
	if slices.Contains(flags(1), `\Deleted`) || !slices.Contains(flags(3), `\Deleted`) {
		t.Error("UNCHANGEDSINCE not honoured")
	}
	checkInvariants(t, f.s)
}

func TestCopyMoveExpunge(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.ok(delivered(f.hash, f.size, rcpt(userA, "")))
	}
	f.ok(flagsChanged(f.inbox, opAdd, uidRanges(2, 2), `\Flagged`), expunged(f.inbox, uidRanges(3, 3)))
	// Existing: 1, 2, 4.
	r := f.one(copied(f.inbox, uidRanges(2, 100, 1, 1), f.work))
	if got := evlog.Expand(r.GetSourceUids()); !slices.Equal(got, []uint32{1, 2, 4}) {
		t.Errorf("source uids %v", got)
	}
	work := f.mailbox(userA, "Work")
	if got := evlog.Expand(r.GetUids()); !slices.Equal(got, []uint32{1, 2, 3}) || r.GetUidValidity() != work.GetUidValidity() {
		t.Errorf("copy result %v", r)
	}
	if m, _ := f.s.Message(work.GetId(), 2); !slices.Equal(m.GetFlags(), []string{`\Flagged`}) || m.GetInternalDateUnix() != 1700000000 {
		t.Errorf("copied message %v", m)
	}
	if b, _ := f.s.BlobInfo(f.hash); b.GetRefs() != 6 {
		t.Errorf("refs %d after copy", b.GetRefs())
	}
	r = f.one(moved(work.GetId(), uidRanges(1, 2), f.inboxB))
	if got := evlog.Expand(r.GetUids()); !slices.Equal(got, []uint32{1, 2}) {
		t.Errorf("move result %v", r)
	}
	if got := f.uids(work.GetId()); !slices.Equal(got, []uint32{3}) {
		t.Errorf("Work after move %v", got)
	}
	if a, b := f.user(userA), f.user(userB); a.GetUsedBytes() != 4*uint64(f.size) || b.GetUsedBytes() != 2*uint64(f.size) {
		t.Errorf("usage a=%d b=%d", a.GetUsedBytes(), b.GetUsedBytes())
	}
	// Move within one mailbox renumbers.
	f.one(moved(f.inbox, uidRanges(1, 1), f.inbox))
	if got := f.uids(f.inbox); !slices.Equal(got, []uint32{2, 4, 5}) {
		t.Errorf("INBOX after self-move %v", got)
	}
	// Nothing in range: success without change.
	r = f.one(copied(f.inbox, uidRanges(1000, 2000), f.work))
	if len(r.GetUids()) != 0 || len(r.GetSourceUids()) != 0 {
		t.Errorf("empty copy %v", r)
	}
	r = f.one(expunged(f.inbox, uidRanges(1, 4294967295)))
	if got := evlog.Expand(r.GetSourceUids()); !slices.Equal(got, []uint32{2, 4, 5}) {
		t.Errorf("expunged %v", got)
	}
	if mb := f.mailbox(userA, "INBOX"); mb.GetMessages() != 0 || mb.GetSize() != 0 || mb.GetUidNext() != 6 {
		t.Errorf("INBOX %v", mb)
	}
	checkInvariants(t, f.s)
}

func TestSubscriptions(t *testing.T) {
	f := newFixture(t)
	f.ok(subscribed(userA, "Nowhere", true), subscribed(userA, "Trash", false), subscribed(userA, "inbox", true))
	subs, _ := f.s.Subscriptions(userA)
	want := []string{"Archive", "Drafts", "INBOX", "Junk", "Nowhere", "Sent"}
	if !slices.Equal(subs, want) {
		t.Errorf("subscriptions %v, want %v", subs, want)
	}
}

func TestApplyMarker(t *testing.T) {
	h := newHarness(t)
	p1 := encode(t, domainAdded("one.example"))
	p2 := encode(t, domainAdded("two.example"))
	if out := h.s.Apply(5, nil); len(out) != 0 || h.s.AppliedIndex() != 5 {
		t.Fatalf("empty entry: %v, applied %d", out, h.s.AppliedIndex())
	}
	out := h.s.Apply(6, [][]byte{p1, p2})
	if len(out) != 2 || out[0] == nil || out[1] == nil {
		t.Fatalf("results %v", out)
	}
	// Older and equal entries are skipped with nil results.
	for _, idx := range []uint64{3, 6} {
		out = h.s.Apply(idx, [][]byte{p1, p2})
		if out[0] != nil || out[1] != nil {
			t.Errorf("re-applied entry %d: %v", idx, out)
		}
	}
	h.s.Apply(4, nil)
	if h.s.AppliedIndex() != 6 {
		t.Errorf("applied index %d", h.s.AppliedIndex())
	}
	o := decodeOutcome(t, h.s.Apply(7, [][]byte{encode(t)})[0])
	if o.GetError() != 0 || len(o.GetResults()) != 0 {
		t.Errorf("empty batch outcome %v", o)
	}
}
