package mailbox

import (
	"errors"
	"slices"
	"testing"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

const (
	alice = "alice@example.org"
	bob   = "bob@example.org"
	carol = "carol@example.org"
)

func aclSet(owner string, id uint64, ident, rights string) *evlog.Event {
	return aclEv(&evlog.AclSet{Owner: owner, MailboxId: id, Identifier: ident, Rights: rights})
}

// sharing is a store with alice, bob and carol, and alice's "Team".
func sharing(t *testing.T) (*harness, uint64) {
	t.Helper()
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(alice, 1), userCreated(bob, 2), userCreated(carol, 3))
	id := h.one(mailboxCreated(alice, "Team", 4)).GetMailboxId()
	return h, id
}

func (h *harness) acl(id uint64) []string {
	h.t.Helper()
	_, entries, err := h.s.ACL(id)
	if err != nil {
		h.t.Fatalf("ACL(%d): %v", id, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Identifier+"="+e.Rights.String())
	}
	return out
}

func TestAclSet(t *testing.T) {
	h, team := sharing(t)
	h.ok(aclSet(alice, team, "Bob@Example.org", "lrs"))
	h.ok(aclSet(alice, team, bob, "+wc"))
	h.ok(aclSet(alice, team, "anyone", "l"))
	h.ok(aclSet(alice, team, "-"+bob, "w"))
	h.ok(aclSet(alice, team, bob, "-s"))
	if got, want := h.acl(team), []string{"anyone=l", bob + "=lrwk", "-" + bob + "=w"}; !slices.Equal(got, want) {
		t.Fatalf("ACL %q, want %q", got, want)
	}
	if r, err := h.s.Rights(bob, team); err != nil || r.String() != "lrk" {
		t.Errorf("bob's rights %q, %v; want lrk", r, err)
	}
	if r, _ := h.s.Rights(alice, team); r != acl.All {
		t.Errorf("the owner's rights %q", r)
	}
	if r, _ := h.s.Rights(carol, team); r.String() != "l" {
		t.Errorf("carol's rights %q", r)
	}
	// An empty rights string takes the identifier out (DELETEACL).
	h.ok(aclSet(alice, team, "-"+bob, ""))
	h.ok(aclSet(alice, team, "anyone", "-l"))
	if got, want := h.acl(team), []string{bob + "=lrwk"}; !slices.Equal(got, want) {
		t.Fatalf("ACL %q, want %q", got, want)
	}
	// An entry for the owner changes nothing: the owner holds every right.
	h.ok(aclSet(alice, team, "-"+alice, "lr"))
	h.ok(aclSet(alice, team, alice, "l"))
	if got := h.acl(team); !slices.Equal(got, []string{bob + "=lrwk"}) {
		t.Fatalf("ACL after owner entries %q", got)
	}
	// Refusals leave the state alone.
	h.fails(errInvalid, aclSet(alice, team, bob, "lrz"))  // RFC 4314 §3.1: unknown right
	h.fails(errInvalid, aclSet(alice, team, "bob", "lr")) // not an identifier
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, aclSet(alice, team, "dan@example.org", "lr"))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, aclSet(bob, team, carol, "lr"))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, aclSet(alice, 999, carol, "lr"))
	// The a right: bob has none yet, so he may not share alice's mailbox.
	asBob := &evlog.AclSet{Owner: alice, MailboxId: team, Identifier: carol, Rights: "lr", Actor: bob}
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, aclEv(asBob))
	h.ok(aclSet(alice, team, bob, "+a"))
	h.ok(aclEv(asBob))
	if r, _ := h.s.Rights(carol, team); r.String() != "lr" {
		t.Errorf("carol's rights after bob shared %q", r)
	}
}

func TestAclLimit(t *testing.T) {
	h, team := sharing(t)
	for i := range MaxACLEntries {
		u := "u" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.org"
		h.ok(userCreated(u, 5), aclSet(alice, team, u, "l"))
	}
	h.fails(errACLLimit, aclSet(alice, team, bob, "l"))
	// Changing an identifier already there is no new entry.
	h.ok(aclSet(alice, team, "uaa@example.org", "+r"))
}

func TestSharedWith(t *testing.T) {
	h, team := sharing(t)
	hidden := h.one(mailboxCreated(alice, "Hidden", 5)).GetMailboxId()
	public := h.one(mailboxCreated(carol, "Public", 6)).GetMailboxId()
	h.ok(aclSet(alice, team, bob, "lrsp"))
	h.ok(aclSet(alice, hidden, bob, "r")) // no l: not listed, but selectable
	h.ok(aclSet(carol, public, "authenticated", "lr"))
	h.ok(aclSet(carol, public, "-"+bob, "l")) // bob may not see it
	got, err := h.s.SharedWith(bob)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name() != "Other Users/"+alice+"/Team" || got[0].Rights.String() != "lrsp" {
		t.Fatalf("SharedWith(bob) = %+v", got)
	}
	got, _ = h.s.SharedWith(alice)
	if len(got) != 1 || got[0].Owner != carol || got[0].Mailbox.GetName() != "Public" {
		t.Fatalf("SharedWith(alice) = %+v", got)
	}
	if got, _ = h.s.SharedWith(carol); len(got) != 0 {
		t.Fatalf("carol sees her own mailbox as shared: %+v", got)
	}
	m, err := h.s.SharedMailboxByName(bob, alice, "Hidden")
	if err != nil || m.Mailbox.GetId() != hidden || m.Rights.String() != "r" {
		t.Fatalf("SharedMailboxByName(Hidden) = %+v, %v", m, err)
	}
	if _, err := h.s.SharedMailboxByName(carol, alice, "Team"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("carol, who has no right, resolves alice's Team: %v", err)
	}
	if _, err := h.s.SharedMailboxByName(bob, alice, "Nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing mailbox resolves: %v", err)
	}

	// A rename keeps the ACL (keyed by id); a delete drops it.
	h.ok(mailboxRenamed(team, "Team2", 7))
	if got, _ = h.s.SharedWith(bob); len(got) != 1 || got[0].Mailbox.GetName() != "Team2" {
		t.Fatalf("after the rename: %+v", got)
	}
	h.ok(aclEv(&evlog.MetadataSet{User: bob, MailboxId: team, Entry: "/private/comment", Value: []byte("mine")}))
	h.ok(mailboxDeleted(team))
	if got, _ = h.s.SharedWith(bob); len(got) != 0 {
		t.Fatalf("after the delete: %+v", got)
	}
	h.noKeys(aclPrefix(team), aclByIdentifierKey(bob, team), metadataPrivatePrefix(bob, team))

	// Deleting a user drops the entries naming them and their annotations.
	h.ok(aclEv(&evlog.MetadataSet{User: bob, Entry: "/private/vendor/x", Value: []byte("1")}))
	h.ok(userDeleted(bob))
	if got := h.acl(public); !slices.Equal(got, []string{"authenticated=lr"}) {
		t.Fatalf("carol's ACL after bob's deletion: %q", got)
	}
	h.noKeys(aclByIdentifierPrefix(bob), aclByIdentifierPrefix("-"+bob), metadataUserPrefix(bob))
	h.ok(userCreated(bob, 8))
	if got, _ = h.s.SharedWith(bob); len(got) != 1 || got[0].Owner != carol {
		t.Fatalf("a new bob inherits: %+v", got)
	}
}

// noKeys fails if the store holds a key under any of the prefixes.
func (h *harness) noKeys(prefixes ...[]byte) {
	h.t.Helper()
	for _, p := range prefixes {
		err := h.s.view(func(r reader) error {
			return scanRange(r, p, prefixEnd(p), func(k, _ []byte) (bool, error) {
				h.t.Errorf("key %q left", k)
				return true, nil
			})
		})
		if err != nil {
			h.t.Fatal(err)
		}
	}
}

func TestDeliveryIntoSharedMailbox(t *testing.T) {
	h, team := sharing(t)
	body := h.store("Subject: shared\r\n\r\nhi\r\n")
	const size = uint64(len("Subject: shared\r\n\r\nhi\r\n"))
	filing := func() *evlog.Event {
		return ev(&evlog.Delivered{Blob: body, Size: size, InternalDateUnix: 1_700_000_000, Flags: []string{`\Flagged`},
			Recipients: []*evlog.Recipient{{Address: bob, SharedOwner: alice, Mailbox: "Team", Flags: []string{`\Seen`}}}})
	}
	inbox := func(u string) uint64 { return h.mailbox(u, "INBOX").GetId() }

	// Without p: bob's INBOX.
	h.ok(aclSet(alice, team, bob, "lr"))
	r := h.one(filing())
	if got := h.uids(inbox(bob)); len(got) != 1 || len(h.uids(team)) != 0 || len(r.GetUids()) != 1 {
		t.Fatalf("without p: bob's INBOX %v, Team %v", got, h.uids(team))
	}
	// With p (and s, not w): alice's Team, charged to alice, with \Seen only.
	h.ok(aclSet(alice, team, bob, "+ps"))
	before := h.user(bob).GetUsedBytes()
	r = h.one(filing())
	if got := h.uids(team); len(got) != 1 || r.GetUids()[0].GetFirst() != got[0] {
		t.Fatalf("with p: Team %v, result %v", got, r.GetUids())
	}
	m, err := h.s.Message(team, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.GetFlags(), []string{`\Seen`}) {
		t.Errorf("flags %q, want only \\Seen (no w right)", m.GetFlags())
	}
	if h.user(bob).GetUsedBytes() != before || h.user(alice).GetUsedBytes() != size {
		t.Errorf("usage: bob %d (was %d), alice %d", h.user(bob).GetUsedBytes(), before, h.user(alice).GetUsedBytes())
	}
	// alice over quota: bob's INBOX again; a missing mailbox too.
	h.ok(quotaSet(alice, 10))
	h.one(filing())
	h.ok(quotaSet(alice, 0))
	missing := ev(&evlog.Delivered{Blob: body, Size: size, InternalDateUnix: 1_700_000_000,
		Recipients: []*evlog.Recipient{{Address: bob, SharedOwner: alice, Mailbox: "Nope", Create: true}}})
	h.one(missing)
	if got := h.uids(inbox(bob)); len(got) != 3 || len(h.uids(team)) != 1 {
		t.Fatalf("fallbacks: bob's INBOX %v, Team %v", got, h.uids(team))
	}
	if _, err := h.s.MailboxByName(alice, "Nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a shared filing created alice's mailbox: %v", err)
	}
	if _, err := h.s.MailboxByName(bob, "Nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a shared filing created bob's mailbox: %v", err)
	}
}

func TestSaveDate(t *testing.T) {
	h, team := sharing(t)
	body := h.store("x")
	inbox := h.mailbox(alice, "INBOX").GetId()
	h.ok(ev(&evlog.Appended{MailboxId: inbox, Blob: body, Size: 1, InternalDateUnix: 100, SavedUnix: 2000}))
	h.ok(ev(&evlog.Appended{MailboxId: inbox, Blob: body, Size: 1, InternalDateUnix: 100}))
	h.ok(ev(&evlog.Copied{MailboxId: inbox, Uids: uidRanges(1, 2), TargetMailboxId: team, SavedUnix: 3000}))
	h.ok(ev(&evlog.Copied{MailboxId: inbox, Uids: uidRanges(1, 2), TargetMailboxId: team}))
	h.ok(ev(&evlog.Moved{MailboxId: team, Uids: uidRanges(1, 1), TargetMailboxId: inbox, SavedUnix: 4000}))
	h.ok(delivered(body, 1, rcpt(alice, "")))
	h.fails(errInvalid, ev(&evlog.Appended{MailboxId: inbox, Blob: body, Size: 1, SavedUnix: -1}))
	want := map[[2]uint64]int64{
		{inbox, 1}: 2000, {inbox, 2}: 100, // stamped; else the internal date
		{team, 2}: 3000, {team, 3}: 2000, {team, 4}: 100, // a copy unstamped keeps its original's
		{inbox, 3}: 4000, {inbox, 4}: 1700000000, // a delivery: its internal date
	}
	for k, d := range want {
		m, err := h.s.Message(k[0], uint32(k[1]))
		if err != nil {
			t.Fatalf("message %v: %v", k, err)
		}
		if got := SaveDate(m); got != d {
			t.Errorf("SaveDate of %v = %d, want %d", k, got, d)
		}
	}
}

// TestSharingChanges: ACL and annotation changes reach the change feed,
// for the owner's address, so that sessions showing the mailbox (IDLE on
// it from another user, on any node) read their rights again.
func TestSharingChanges(t *testing.T) {
	h, team := sharing(t)
	sub := h.s.Subscribe(alice)
	defer sub.Close()
	h.ok(aclSet(alice, team, bob, "lr"))
	h.ok(aclSet(alice, team, bob, "lr")) // no change: nothing published
	h.ok(metadataSet(bob, team, "/private/comment", str("x")))
	h.ok(userDeleted(bob))
	want := []ChangeKind{ACLChanged, MetadataChanged, ACLChanged}
	for i, k := range want {
		c := <-sub.C
		if c.Kind != k || c.MailboxID != team || c.Address != alice {
			t.Fatalf("change %d: %+v, want %v of mailbox %d", i, c, k, team)
		}
	}
	select {
	case c := <-sub.C:
		t.Fatalf("unexpected change %+v", c)
	default:
	}
}

// TestFlagRights: FlagsChanged.flag_rights leaves every flag the
// proposer's rights do not cover as it is, whatever the op (a STORE by a
// user who may change only some flags), and works with UNCHANGEDSINCE.
func TestFlagRights(t *testing.T) {
	f := newFixture(t)
	f.ok(flagsChanged(f.inbox, opAdd, uidRanges(1, 1), `\Flagged`, `$Work`))
	lrs := uint32(acl.Lookup | acl.Read | acl.Seen)
	store := func(op evlog.FlagOp, since uint64, flags ...string) *evlog.EventResult {
		e := flagsChanged(f.inbox, op, uidRanges(1, 1), flags...)
		e.GetFlagsChanged().FlagRights, e.GetFlagsChanged().UnchangedSince = lrs, since
		return f.one(e)
	}
	flagsOf := func() []string {
		m, err := f.s.Message(f.inbox, 1)
		if err != nil {
			t.Fatal(err)
		}
		return m.GetFlags()
	}
	for _, step := range []struct {
		op    evlog.FlagOp
		flags []string
		want  []string
	}{
		{evlog.FlagOp_FLAG_OP_REPLACE, []string{`\Seen`, `\Answered`}, []string{`$Work`, `\Flagged`, `\Seen`}},
		{evlog.FlagOp_FLAG_OP_REPLACE, nil, []string{`$Work`, `\Flagged`}},
		{opAdd, []string{`\Seen`, `\Deleted`}, []string{`$Work`, `\Flagged`, `\Seen`}},
		{evlog.FlagOp_FLAG_OP_REMOVE, []string{`\Seen`, `\Flagged`, `$Work`}, []string{`$Work`, `\Flagged`}},
	} {
		store(step.op, 0, step.flags...)
		if got := flagsOf(); !slices.Equal(got, step.want) {
			t.Errorf("%v %v with rights lrs: flags %v, want %v", step.op, step.flags, got, step.want)
		}
	}
	m, err := f.s.Message(f.inbox, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := store(opAdd, m.GetModseq()-1, `\Seen`); len(r.GetSourceUids()) != 1 || len(r.GetUids()) != 0 {
		t.Errorf("UNCHANGEDSINCE below the message's modseq: changed %v, modified %v", r.GetUids(), r.GetSourceUids())
	}
	if r := store(opAdd, m.GetModseq(), `\Seen`); len(r.GetUids()) != 1 {
		t.Errorf("UNCHANGEDSINCE at the message's modseq: changed %v, modified %v", r.GetUids(), r.GetSourceUids())
	}
	// COPY and MOVE with flag_rights: the copies keep only the flags the
	// rights cover, in the same entry (RFC 4314 §4).
	cp := copied(f.inbox, uidRanges(1, 1), f.work)
	cp.GetCopied().FlagRights = lrs
	mv := moved(f.inbox, uidRanges(1, 1), f.work)
	mv.GetMoved().FlagRights = uint32(acl.Lookup | acl.Insert | acl.Write)
	rs := f.ok(cp, mv)
	for i, want := range [][]string{{`\Seen`}, {`$Work`, `\Flagged`}} {
		uid := evlog.Expand(rs[i].GetUids())[0]
		c, err := f.s.Message(f.work, uid)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.GetFlags(), want) {
			t.Errorf("copy %d: flags %v, want %v", i, c.GetFlags(), want)
		}
	}
	checkInvariants(t, f.s)
}

// TestSharedCreateDelete: another user creates below a shared mailbox
// with k on it, and deletes with x (RFC 4314 §4), checked against the ACL
// when the event applies; a new mailbox gets its parent's ACL, whoever
// made it.
func TestSharedCreateDelete(t *testing.T) {
	h, team := sharing(t)
	h.ok(aclSet(alice, team, bob, "lr"))
	byBob := func(name string) *evlog.Event {
		e := mailboxCreated(alice, name, 5)
		e.GetMailboxCreated().Actor = bob
		return e
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, byBob("Team/Sub"))
	h.ok(aclSet(alice, team, bob, "+k"), aclSet(alice, team, "anyone", "l"))
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, byBob("Elsewhere"))     // no parent
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, byBob("Team/Deep/Sub")) // parent missing
	sub := h.one(byBob("Team/Sub")).GetMailboxId()
	if got, want := h.acl(sub), []string{"anyone=l", bob + "=lrk"}; !slices.Equal(got, want) {
		t.Errorf("Team/Sub's ACL %q, want its parent's %q", got, want)
	}
	// The owner's own new mailbox below a shared one is shared alike.
	own := h.one(mailboxCreated(alice, "Team/Own", 6)).GetMailboxId()
	if got := h.acl(own); len(got) != 2 {
		t.Errorf("Team/Own's ACL %q, want its parent's", got)
	}
	if got := h.acl(h.one(mailboxCreated(alice, "Private", 7)).GetMailboxId()); len(got) != 0 {
		t.Errorf("a top-level mailbox's ACL %q, want none", got)
	}

	deleteBy := func(id uint64, actor string) *evlog.Event {
		return ev(&evlog.MailboxDeleted{MailboxId: id, Actor: actor})
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, deleteBy(sub, bob))
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, deleteBy(sub, carol))
	renameBy := func(id uint64, name string) *evlog.Event {
		e := mailboxRenamed(id, name, 8)
		e.GetMailboxRenamed().Actor = bob
		return e
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, renameBy(sub, "Team/Moved")) // no x on Sub
	h.ok(aclSet(alice, sub, bob, "+x"))
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, renameBy(sub, "Private/Moved")) // no k there
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, renameBy(sub, "Moved"))         // no parent
	h.ok(renameBy(sub, "Team/Moved"))
	h.fails(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, renameBy(h.mailbox(alice, "INBOX").GetId(), "Team/Inbox"))
	h.ok(deleteBy(sub, bob))
	h.ok(deleteBy(own, alice)) // the owner needs no entry
	checkInvariants(t, h.s)
}
