package mailbox

import (
	"crypto/sha256"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func aclEv(k any) *evlog.Event {
	switch k := k.(type) {
	case *evlog.AclSet:
		return &evlog.Event{Kind: &evlog.Event_AclSet{AclSet: k}}
	case *evlog.MetadataSet:
		return &evlog.Event{Kind: &evlog.Event_MetadataSet{MetadataSet: k}}
	}
	panic("aclEv: unknown kind")
}

var (
	genIdentifiers = []string{"anyone", "-anyone", "authenticated", "bob@example.org", "-bob@example.org",
		"cy@example.net", "ann@example.org", "nobody@example.org", "not an identifier"}
	genRights  = []string{"lrs", "+w", "-s", "", "lrswipkxtea", "+p", "-lrswipkxtea", "lrz", "+cd"}
	genEntries = []string{"/shared/comment", "/private/comment", "/shared/vendor/x/y", "/Private/Comment", "/shared/", "/other"}
)

// ownerOf guesses the owner of a mailbox id as a fresh store numbers them
// (the first three users' six mailboxes each, in order); right mostly,
// wrong sometimes (refused).
func (g *generator) ownerOf(id uint64) string {
	if id >= 1 && id <= 18 && g.rng.IntN(8) > 0 {
		return g.users[(id-1)/6]
	}
	return g.user()
}

// aclEntries returns n entries of shared-folder events after the entries
// given: ACL changes (some by actors without the a right, some refused),
// annotations of mailboxes and of the server, deliveries into shared
// mailboxes, appends and copies with a save date, mailboxes and users
// deleted under them. (TestKeyLayout leaves a record of each kind with
// leaveSharingKeys: the generator cannot know a mailbox id for sure.)
func (g *generator) aclEntries(after []entry, n int) []entry {
	index := after[len(after)-1].index + 1
	var out []entry
	add := func(evs ...*evlog.Event) {
		p, err := evlog.EncodeBatch(&evlog.Batch{Events: evs})
		if err != nil {
			panic(err)
		}
		out = append(out, entry{index: index, proposals: [][]byte{p}})
		index++
	}
	for range n {
		id := g.mailboxID()
		switch g.rng.IntN(12) {
		case 0, 1, 2:
			e := &evlog.AclSet{Owner: g.ownerOf(id), MailboxId: id, Identifier: g.pick(genIdentifiers), Rights: g.pick(genRights)}
			if g.rng.IntN(3) == 0 {
				e.Actor = g.user()
			}
			add(aclEv(e))
		case 3, 4:
			e := &evlog.MetadataSet{User: g.user(), Entry: g.pick(genEntries)}
			if g.rng.IntN(3) > 0 {
				e.MailboxId = id
			}
			if g.rng.IntN(4) > 0 {
				e.Value = []byte(g.pick(genNames))
			}
			add(aclEv(e))
		case 5, 6:
			h, size := g.body()
			r := &evlog.Recipient{Address: g.user(), SharedOwner: g.user(), Mailbox: g.pick(append(genNames, "INBOX")),
				Flags: g.flags()}
			add(ev(&evlog.Delivered{Blob: h, Size: uint64(size), InternalDateUnix: 1_700_000_000, Recipients: []*evlog.Recipient{r}}))
		case 7:
			h, size := g.body()
			add(ev(&evlog.Appended{MailboxId: id, Blob: h, Size: uint64(size), InternalDateUnix: 1_000_000,
				SavedUnix: int64(1_700_000_000 + g.rng.IntN(1000))}))
		case 8:
			add(ev(&evlog.Copied{MailboxId: id, Uids: g.ranges(), TargetMailboxId: g.mailboxID(),
				SavedUnix: int64(g.rng.IntN(2) * 1_700_000_000)}))
		case 9:
			add(mailboxDeleted(id))
		case 10:
			add(userDeleted(g.user()))
		default:
			g.mailboxes += 6
			add(userCreated(g.user(), 1_700_000_000))
		}
	}
	return out
}

// leaveSharingKeys makes a user whose ACL and annotations outlive
// everything, reading its INBOX's id from the store, so that TestKeyLayout
// sees every ACL and metadata key kind.
func leaveSharingKeys(t *testing.T, s *Store) {
	t.Helper()
	const keeper = "aclkeep@example.org"
	index := s.AppliedIndex()
	apply := func(evs ...*evlog.Event) *evlog.Outcome {
		index++
		return decodeOutcome(t, s.Apply(index, [][]byte{encode(t, evs...)})[0])
	}
	apply(domainAdded("example.org"))
	apply(userCreated(keeper, 1_700_000_000)) // refused when it exists
	inbox, err := s.MailboxByName(keeper, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	o := apply(aclEv(&evlog.AclSet{Owner: keeper, MailboxId: inbox.GetId(), Identifier: "anyone", Rights: "lr"}),
		aclEv(&evlog.MetadataSet{User: keeper, MailboxId: inbox.GetId(), Entry: "/shared/comment", Value: []byte("kept")}),
		aclEv(&evlog.MetadataSet{User: keeper, Entry: "/private/vendor/surat/kept", Value: []byte("1")}))
	if o.GetError() != 0 {
		t.Fatalf("keeper's ACL and annotations refused: %v %s", o.GetError(), o.GetMessage())
	}
	// Two messages, one expunged: the keeper's INBOX keeps an expunge
	// history (exh/) whatever the random workloads left.
	body := []byte("Subject: kept\r\n\r\nkept\r\n")
	sum := sha256.Sum256(body)
	var evs []*evlog.Event
	for _, c := range evlog.Chunks(body) {
		evs = append(evs, blobStored(c))
	}
	evs = append(evs, appended(inbox.GetId(), sum[:], len(body)), appended(inbox.GetId(), sum[:], len(body)))
	if o := apply(evs...); o.GetError() != 0 {
		t.Fatalf("keeper's messages refused: %v %s", o.GetError(), o.GetMessage())
	}
	if o := apply(expunged(inbox.GetId(), uidRanges(1, 1))); o.GetError() != 0 {
		t.Fatalf("keeper's expunge refused: %v %s", o.GetError(), o.GetMessage())
	}
}
