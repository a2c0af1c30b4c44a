package mailbox

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// entry is one committed log entry.
type entry struct {
	index     uint64
	proposals [][]byte
}

// workload is a random but realistic event sequence split into proposals
// and entries.
type workload struct {
	seed    uint64
	entries []entry
}

func (w workload) proposals() int {
	n := 0
	for _, e := range w.entries {
		n += len(e.proposals)
	}
	return n
}

// fixedSeeds are always run; a few random ones are added and logged.
var fixedSeeds = []uint64{1, 2, 3, 7, 42, 1234, 99991}

func seeds(t *testing.T) []uint64 {
	out := append([]uint64(nil), fixedSeeds...)
	for range 2 {
		s := rand.Uint64()
		t.Logf("random seed %d", s)
		out = append(out, s)
	}
	return out
}

type generator struct {
	rng       *rand.Rand
	users     []string
	bodies    [][]byte
	mailboxes uint64 // upper bound of mailbox ids handed out so far
	queued    []genQueued
	uploads   [][]byte // staged upload ids handed out so far
	reports   map[string]*genReportDay
}

// genQueued is a queue entry the generator made (it may be gone since).
type genQueued struct {
	id    []byte
	rcpts []string
}

var (
	genUsers = []string{"ann@example.org", "bob@example.org", "cy@example.net", "dee@example.org", "eve@example.net"}
	genNames = []string{"Work", "Work/2024", "Lists", "lists", "inbox/sub", "Archive/Old", "a/b/c", "Trash"}
	genFlags = []string{`\Seen`, `\Flagged`, `\Deleted`, `\Answered`, `\Draft`, `\Recent`, "$Label1", "work", "WORK", "$Junk"}
)

func newWorkload(seed uint64, events int) workload {
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), users: genUsers}
	for i := range 6 {
		size := 1 + g.rng.IntN(3000)
		if i == 5 {
			size = evlog.ChunkSize + 1 + g.rng.IntN(1000) // two chunks
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte('a' + g.rng.IntN(26))
		}
		g.bodies = append(g.bodies, b)
	}
	evs := []*evlog.Event{domainAdded("example.org")}
	for _, u := range g.users[:3] {
		evs = append(evs, userCreated(u, int64(1_700_000_000+g.rng.IntN(1000))))
		g.mailboxes += 6
	}
	for _, b := range g.bodies[:5] {
		evs = append(evs, g.storeBody(b)...)
	}
	for len(evs) < events {
		evs = append(evs, g.event()...)
	}
	evs = withSpamEvents(seed, evs)
	entries := g.split(evs)
	entries = append(entries, g.reportEntries(entries, events/8)...)
	entries = append(entries, g.greylistEntries(entries, events/16)...)
	entries = append(entries, g.sieveEntries(entries, events/16)...)
	entries = append(entries, g.aclEntries(entries, events/16)...)
	return workload{seed: seed, entries: entries}
}

func (g *generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *generator) user() string { return g.pick(g.users) }

// mailboxID mostly names the first users' long-lived mailboxes, sometimes
// any id handed out so far, and sometimes one that does not exist.
func (g *generator) mailboxID() uint64 {
	if g.rng.IntN(10) < 7 {
		return 1 + g.rng.Uint64N(18)
	}
	return 1 + g.rng.Uint64N(g.mailboxes+2)
}

func (g *generator) body() ([]byte, int) {
	b := g.bodies[g.rng.IntN(len(g.bodies))]
	h := sha(b)
	return h, len(b)
}

func sha(b []byte) []byte {
	c := evlog.Chunks(b)
	return c[0].Hash
}

func (g *generator) storeBody(b []byte) []*evlog.Event {
	var out []*evlog.Event
	chunks := evlog.Chunks(b)
	if n := len(chunks); n > 1 && g.rng.IntN(2) == 0 {
		// Streamed: staged under an upload, then assembled by the last
		// chunk (sometimes never: abandoned, or left to expire).
		id := make([]byte, 16)
		for i := range id {
			id[i] = byte(g.rng.IntN(4)) // few ids: uploads collide and repeat
		}
		g.uploads = append(g.uploads, id)
		for _, c := range chunks[:n-1] {
			out = append(out, ev(&evlog.ChunkStaged{UploadId: id, Chunk: c.Chunk, Data: c.Data,
				PinnedUntilUnix: int64(1_700_000_000 + g.rng.IntN(1000))}))
		}
		g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		if g.rng.IntN(4) > 0 {
			last := chunks[n-1]
			last.UploadId, last.StagedChunks = id, uint32(n-1)
			out = append(out, blobStored(last))
		}
		return out
	}
	for _, c := range chunks {
		out = append(out, blobStored(c))
	}
	g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func (g *generator) ranges() []*evlog.UidRange {
	if g.rng.IntN(10) == 0 {
		return uidRanges(1, 4294967295)
	}
	var out []*evlog.UidRange
	for range 1 + g.rng.IntN(2) {
		first := uint32(1 + g.rng.IntN(12))
		out = append(out, &evlog.UidRange{First: first, Last: first + uint32(g.rng.IntN(6))})
	}
	return out
}

func (g *generator) flags() []string {
	var out []string
	for range g.rng.IntN(3) {
		out = append(out, g.pick(genFlags))
	}
	return out
}

// event returns one (occasionally more) events in a realistic mix.
func (g *generator) event() []*evlog.Event {
	r := g.rng.IntN(116)
	switch {
	case r >= 112:
		return g.banEvent()
	case r >= 100:
		return g.queueEvent()
	case r < 22:
		h, n := g.body()
		var rc []*evlog.Recipient
		for range 1 + g.rng.IntN(3) {
			mb := ""
			if g.rng.IntN(4) == 0 {
				mb = g.pick(genNames)
			}
			rc = append(rc, rcpt(g.user(), mb))
		}
		return []*evlog.Event{ev(&evlog.Delivered{Blob: h, Size: uint64(n), InternalDateUnix: int64(g.rng.IntN(1 << 30)), Recipients: rc, Flags: g.flags()})}
	case r < 30:
		h, n := g.body()
		return []*evlog.Event{appended(g.mailboxID(), h, n, g.flags()...)}
	case r < 45:
		op := evlog.FlagOp(1 + g.rng.IntN(3))
		e := &evlog.FlagsChanged{MailboxId: g.mailboxID(), Uids: g.ranges(), Op: op, Flags: g.flags()}
		if g.rng.IntN(5) == 0 {
			e.UnchangedSince = uint64(g.rng.IntN(20))
		}
		return []*evlog.Event{ev(e)}
	case r < 51:
		return []*evlog.Event{copied(g.mailboxID(), g.ranges(), g.mailboxID())}
	case r < 57:
		return []*evlog.Event{moved(g.mailboxID(), g.ranges(), g.mailboxID())}
	case r < 64:
		return []*evlog.Event{expunged(g.mailboxID(), g.ranges())}
	case r < 69:
		g.mailboxes++
		return []*evlog.Event{mailboxCreated(g.user(), g.pick(genNames), uint32(g.rng.IntN(5000)))}
	case r < 72:
		g.mailboxes++
		return []*evlog.Event{mailboxRenamed(g.mailboxID(), g.pick(genNames)+"x", uint32(g.rng.IntN(5000)))}
	case r < 74:
		return []*evlog.Event{mailboxDeleted(g.mailboxID())}
	case r < 76:
		return []*evlog.Event{subscribed(g.user(), g.pick(genNames), g.rng.IntN(2) == 0)}
	case r < 80:
		g.mailboxes += 6
		return []*evlog.Event{userCreated(g.user(), int64(1_700_000_000+g.rng.IntN(100000)))}
	case r < 81:
		return []*evlog.Event{userDeleted(g.user())}
	case r < 83:
		a := fmt.Sprintf("alias%d@example.org", g.rng.IntN(3))
		if g.rng.IntN(2) == 0 {
			return []*evlog.Event{aliasRemoved(a)}
		}
		return []*evlog.Event{aliasAdded(a, g.user())}
	case r < 85:
		// One draw, as before message limits, so that the seeded
		// workloads other tests rely on keep their shape.
		u, v := g.user(), uint64(g.rng.IntN(8))
		if v >= 4 {
			return []*evlog.Event{messageQuotaSet(u, 0, (v-4)*3)}
		}
		return []*evlog.Event{quotaSet(u, v*4000)}
	case r < 86:
		return []*evlog.Event{ev(&evlog.PasswordChanged{Address: g.user(), PasswordHash: fmt.Sprint(g.rng.Int())})}
	case r < 87:
		return []*evlog.Event{g.domainEvent()}
	case r < 90:
		var hs [][]byte
		for _, b := range g.bodies {
			if g.rng.IntN(3) == 0 {
				hs = append(hs, sha(b))
			}
		}
		e := blobsCollected(hs...)
		if bc := e.GetBlobsCollected(); len(g.uploads) > 0 {
			if g.rng.IntN(2) == 0 {
				bc.AbandonedUploads = [][]byte{g.uploads[g.rng.IntN(len(g.uploads))]}
			}
			if g.rng.IntN(2) == 0 {
				bc.ExpiredUploadsBeforeUnix = int64(1_700_000_000 + g.rng.IntN(1000))
			}
		}
		return []*evlog.Event{e}
	case r < 95:
		if g.rng.IntN(3) == 0 {
			return g.storeBody(g.bodies[len(g.bodies)-1]) // the large one: staged half the time
		}
		return g.storeBody(g.bodies[g.rng.IntN(len(g.bodies))])
	default:
		switch g.rng.IntN(3) {
		case 0:
			return []*evlog.Event{userCreated("not-an-address", 1)}
		case 1:
			return []*evlog.Event{flagsChanged(g.mailboxID(), opAdd, uidRanges(3, 1), `\Seen`)}
		default:
			return []*evlog.Event{ev(nil)}
		}
	}
}

var genBans = []string{"192.0.2.7/32", "192.0.2.0/24", "198.51.100.0/24", "2001:db8:1:2::/64", "2001:db8::/32", "192.0.2.7"}

// banEvent adds, removes or prunes bans (some already gone, one prefix
// not canonical), with expiries on both sides of the prunes' times.
func (g *generator) banEvent() []*evlog.Event {
	p := g.pick(genBans)
	now := int64(1_700_000_000 + g.rng.IntN(1000))
	switch g.rng.IntN(5) {
	case 0:
		return []*evlog.Event{banRemoved(p)}
	case 1:
		return []*evlog.Event{bansPruned(now)}
	default:
		var expires int64
		if g.rng.IntN(4) > 0 {
			expires = now + int64(1+g.rng.IntN(1000))
		}
		return []*evlog.Event{banAdded(p, now, expires, "r")}
	}
}

var genRemote = []string{"x@remote.test", "y@remote.test", "z@other.test", "reject-w@remote.test"}

// queueEvent returns an outbound queue event: mostly outcomes for entries
// queued earlier (some finished or deleted meanwhile, so refused), with
// recipients partly not in the entry.
func (g *generator) queueEvent() []*evlog.Event {
	if len(g.queued) == 0 || g.rng.IntN(4) == 0 {
		id := make([]byte, queueIDLen)
		for i := range id {
			id[i] = byte(g.rng.IntN(256))
		}
		n := 1 + g.rng.IntN(3)
		rcpts := genRemote[:n]
		h, size := g.body()
		q := genQueued{id: id, rcpts: rcpts}
		g.queued = append(g.queued, q)
		from := g.user()
		if g.rng.IntN(5) == 0 {
			from = ""
		}
		return []*evlog.Event{queued(id, h, size, from, rcpts...)}
	}
	q := g.queued[g.rng.IntN(len(g.queued))]
	some := []string{q.rcpts[g.rng.IntN(len(q.rcpts))]}
	if g.rng.IntN(8) == 0 {
		some = []string{"stranger@remote.test"}
	}
	next := int64(1_700_000_000 + g.rng.IntN(100_000))
	switch g.rng.IntN(6) {
	case 0:
		return []*evlog.Event{attemptFailed(q.id, next, some...)}
	case 1:
		return []*evlog.Event{sent(q.id, some...)}
	case 2:
		return []*evlog.Event{bounced(q.id, some...)}
	case 3:
		return []*evlog.Event{sent(q.id, q.rcpts...)}
	case 4:
		return []*evlog.Event{queueRetried(q.id, next)}
	default:
		if g.rng.IntN(3) == 0 {
			return []*evlog.Event{queueDeleted(q.id)}
		}
		return []*evlog.Event{attemptFailed(q.id, next, q.rcpts...)}
	}
}

// split groups events into proposals of 1-3 events and proposals into
// entries of 0-3 proposals (0: a configuration entry).
func (g *generator) split(evs []*evlog.Event) []entry {
	var props [][]byte
	for len(evs) > 0 {
		n := min(len(evs), 1+g.rng.IntN(3))
		if g.rng.IntN(3) > 0 {
			n = 1
		}
		p, err := evlog.EncodeBatch(&evlog.Batch{Events: evs[:n]})
		if err != nil {
			panic(err)
		}
		props = append(props, p)
		evs = evs[n:]
	}
	if g.rng.IntN(2) == 0 {
		props = append(props, []byte{0xde, 0xad}) // undecodable
	}
	var entries []entry
	index := uint64(1 + g.rng.IntN(10))
	for len(props) > 0 {
		n := min(len(props), g.rng.IntN(4))
		entries = append(entries, entry{index: index, proposals: props[:n]})
		props = props[n:]
		index++
	}
	return entries
}

// keyed gives every proposal but every fifth an idempotency key, as the
// cluster layer does (the others stand for entries written before keys),
// derived from the seed and its position so that runs agree.
func (w workload) keyed(e entry) []Proposal {
	out := make([]Proposal, len(e.proposals))
	for i, p := range e.proposals {
		out[i] = Proposal{Data: p}
		if (int(e.index)+i)%5 != 0 {
			k := sha256.Sum256(fmt.Appendf(nil, "%d/%d/%d", w.seed, e.index, i))
			out[i].Key, out[i].ProposedAt = k[:proposalKeyLen], e.index-1
		}
	}
	return out
}

// run applies the workload and returns every outcome in order.
func (w workload) run(t testing.TB, s *Store) [][]byte {
	t.Helper()
	var outs [][]byte
	for _, e := range w.entries {
		res := s.ApplyEntry(e.index, w.keyed(e))
		if len(res) != len(e.proposals) {
			t.Fatalf("entry %d: %d results for %d proposals", e.index, len(res), len(e.proposals))
		}
		outs = append(outs, res...)
	}
	return outs
}

func digestOf(t testing.TB, s *Store) (uint64, [32]byte) {
	t.Helper()
	idx, d, err := s.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return idx, d
}

func lastIndex(w workload) uint64 { return w.entries[len(w.entries)-1].index }

func TestDeterministicApply(t *testing.T) {
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorkload(seed, 400)
			a, b := openStore(t, t.TempDir()), openStore(t, t.TempDir())
			defer a.Close()
			defer b.Close()
			outA, outB := w.run(t, a), w.run(t, b)
			kinds := map[string]int{}
			failed := 0
			for i := range outA {
				if !bytes.Equal(outA[i], outB[i]) {
					t.Fatalf("proposal %d: outcomes differ", i)
				}
				o := decodeOutcome(t, outA[i])
				if o.GetError() != 0 {
					failed++
				}
			}
			idxA, dA := digestOf(t, a)
			idxB, dB := digestOf(t, b)
			if dA != dB || idxA != idxB || idxA != lastIndex(w) {
				t.Fatalf("digests %x/%x, applied %d/%d (want %d)", dA, dB, idxA, idxB, lastIndex(w))
			}
			checkInvariants(t, a)
			// The fixed seeds' workloads must exercise the store, not only be
			// refused. A random seed may draw one that leaves no message at
			// the end (seen in CI: its users were deleted); it still checks
			// determinism and the invariants, and its stats are logged.
			stats := storeStats(t, a)
			t.Logf("%d proposals, %d refused; %v", len(outA), failed, stats)
			if !slices.Contains(fixedSeeds, seed) {
				return
			}
			if failed*10 > len(outA)*8 || stats["messages"] == 0 || stats["flagged"] == 0 {
				t.Errorf("unrealistic workload: %d of %d refused, %v %v", failed, len(outA), stats, kinds)
			}
		})
	}
}

// storeStats counts what a workload left behind.
func storeStats(t testing.TB, s *Store) map[string]int {
	stats := map[string]int{}
	users, _ := s.Users()
	stats["users"] = len(users)
	for _, u := range users {
		mbs, _ := s.Mailboxes(u)
		stats["mailboxes"] += len(mbs)
		for _, mb := range mbs {
			_ = s.Messages(mb.GetId(), func(_ uint32, m *evlog.MessageRecord) bool {
				stats["messages"]++
				if len(m.GetFlags()) > 0 {
					stats["flagged"]++
				}
				return true
			})
		}
	}
	return stats
}

// A difference in any replicated field changes the digest.
func TestDigestDetectsDifferences(t *testing.T) {
	base := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.ok(flagsChanged(f.inbox, opAdd, uidRanges(1, 1), `\Seen`))
		return f
	}
	ref := base(t)
	_, want := digestOf(t, ref.s)
	variants := map[string][]*evlog.Event{
		"user":        {userCreated("z@example.org", 1)},
		"mailbox":     {mailboxCreated(userA, "Z", 0)},
		"flags":       {flagsChanged(1, opAdd, uidRanges(1, 1), `\Flagged`)},
		"uid":         {delivered(sha([]byte(body1)), len(body1), rcpt(userA, "")), expunged(1, uidRanges(2, 2))},
		"blob":        {blobStored(evlog.Chunks([]byte("other"))[0])},
		"uidvalidity": {mailboxCreated(userA, "Z", 0), mailboxDeleted(14)},
		"ban":         {banAdded("192.0.2.0/24", 1, 0, "")},
	}
	for name, evs := range variants {
		t.Run(name, func(t *testing.T) {
			f := base(t)
			f.ok(evs...)
			if _, got := digestOf(t, f.s); got == want {
				t.Errorf("digest unchanged after %s", name)
			}
		})
	}
	// And the same events give the same digest.
	same := base(t)
	if _, got := digestOf(t, same.s); got != want {
		t.Error("equal stores, different digests")
	}
}

var errCrash = errors.New("simulated crash")

// TestCrashReplay crashes a store after every proposal boundary, reopens
// it and feeds it the whole log again: the marker must make the result
// equal to a store that never crashed (docs/DESIGN.md, invariant 3).
func TestCrashReplay(t *testing.T) {
	for _, seed := range []uint64{5, 77} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorkload(seed, 90)
			ref := openStore(t, t.TempDir())
			refOut := w.run(t, ref)
			refIdx, refDigest := digestOf(t, ref)
			ref.Close()
			for k := 0; k <= w.proposals(); k++ {
				dir := t.TempDir()
				s := openStore(t, dir)
				crashAfter(t, s, w, k)
				if err := s.Close(); err != nil {
					t.Fatalf("close after crash: %v", err)
				}
				s = openStore(t, dir)
				outs := w.run(t, s)
				for i, o := range outs {
					if i < k && o != nil {
						t.Fatalf("k=%d: proposal %d applied twice", k, i)
					}
					if i >= k && !bytes.Equal(o, refOut[i]) {
						t.Fatalf("k=%d: proposal %d outcome differs after replay", k, i)
					}
				}
				idx, d := digestOf(t, s)
				if d != refDigest || idx != refIdx {
					t.Fatalf("k=%d: digest/applied %x/%d, want %x/%d", k, d, idx, refDigest, refIdx)
				}
				s.Close()
			}
		})
	}
}

// crashAfter applies the workload until k proposals are committed, then
// stops as a crash would (possibly in the middle of an entry).
func crashAfter(t *testing.T, s *Store, w workload, k int) {
	t.Helper()
	done := 0
	s.testAfterProposal = func() {
		done++
		if done == k {
			panic(errCrash)
		}
	}
	defer func() {
		s.testAfterProposal = nil
		if r := recover(); r != nil && r != errCrash {
			panic(r)
		}
	}()
	if k == 0 {
		return
	}
	for _, e := range w.entries {
		s.ApplyEntry(e.index, w.keyed(e))
	}
}

func TestReapplyIsNoop(t *testing.T) {
	w := newWorkload(11, 200)
	s := openStore(t, t.TempDir())
	defer s.Close()
	w.run(t, s)
	idx, d := digestOf(t, s)
	for i, o := range w.run(t, s) {
		if o != nil {
			t.Fatalf("proposal %d applied again", i)
		}
	}
	if idx2, d2 := digestOf(t, s); d2 != d || idx2 != idx {
		t.Fatal("re-applying the log changed the store")
	}
}

// domainEvent adds or removes example.net (with keys or without, as older
// entries did), adds or retires one of its DKIM keys, or changes its
// settings. It draws one value from the generator, as the keyless add or
// remove it grew from did, so the rest of the workload stays the same.
func (g *generator) domainEvent() *evlog.Event {
	v := g.rng.Uint64()
	keys := testDkimKeys()
	key := keys[v>>8%uint64(len(keys))]
	switch v >> 1 % 7 {
	case 0:
		return ev(&evlog.DomainRemoved{Domain: "example.net", RefuseIfUsed: v>>16&1 == 0})
	case 1:
		return domainAdded("example.net")
	case 2:
		return ev(&evlog.DomainAdded{Domain: "example.net", DkimKeys: keys[:2], AddedUnix: 1_700_000_000})
	case 3:
		return ev(&evlog.DkimKeyAdded{Domain: "example.net", Key: key})
	case 4:
		return ev(&evlog.DkimKeyRetired{Domain: "example.net", Selector: key.GetSelector()})
	default:
		mode := evlog.MtaStsMode(v >> 20 % 3)
		e := &evlog.DomainSettingsChanged{Domain: "example.net", MtaStsMode: &mode,
			DmarcPolicy: proto.String(dmarcPolicies[v>>24%3]), ChangedUnix: int64(v >> 32 % 1000)}
		// The public folders' account: kept, cleared, or one of the
		// domain's users (refused while it does not exist) or another
		// domain's (always refused).
		switch v >> 42 % 8 {
		case 1:
			e.PublicFolders = proto.String("")
		case 2, 3, 4:
			e.PublicFolders = proto.String("cy@example.net")
		case 5, 6:
			e.PublicFolders = proto.String("eve@example.net")
		case 7:
			e.PublicFolders = proto.String("ann@example.org")
		}
		return ev(e)
	}
}
