package mailbox

import (
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func testLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{Logger: testLogger()})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

// harness applies one proposal per entry with consecutive indexes.
type harness struct {
	t     testing.TB
	s     *Store
	index uint64
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	s := openStore(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close() })
	return &harness{t: t, s: s}
}

func encode(t testing.TB, events ...*evlog.Event) []byte {
	t.Helper()
	p, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
	if err != nil {
		t.Fatalf("EncodeBatch: %v", err)
	}
	return p
}

func decodeOutcome(t testing.TB, p []byte) *evlog.Outcome {
	t.Helper()
	o, err := evlog.DecodeOutcome(p)
	if err != nil {
		t.Fatalf("DecodeOutcome: %v", err)
	}
	return o
}

func (h *harness) apply(events ...*evlog.Event) *evlog.Outcome {
	h.t.Helper()
	h.index++
	out := h.s.Apply(h.index, [][]byte{encode(h.t, events...)})
	return decodeOutcome(h.t, out[0])
}

// ok applies the events as one proposal and fails the test on a refusal.
func (h *harness) ok(events ...*evlog.Event) []*evlog.EventResult {
	h.t.Helper()
	o := h.apply(events...)
	if o.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
		h.t.Fatalf("proposal refused: %v %s", o.GetError(), o.GetMessage())
	}
	if len(o.GetResults()) != len(events) {
		h.t.Fatalf("%d results for %d events", len(o.GetResults()), len(events))
	}
	return o.GetResults()
}

func (h *harness) one(ev *evlog.Event) *evlog.EventResult { return h.ok(ev)[0] }

// fails applies the events and checks the refusal code and that nothing
// but the marker changed.
func (h *harness) fails(code evlog.ErrorCode, events ...*evlog.Event) {
	h.t.Helper()
	_, before, err := h.s.Digest()
	if err != nil {
		h.t.Fatal(err)
	}
	o := h.apply(events...)
	if o.GetError() != code {
		h.t.Fatalf("got %v (%s), want %v", o.GetError(), o.GetMessage(), code)
	}
	if len(o.GetResults()) != 0 {
		h.t.Fatalf("refused proposal has %d results", len(o.GetResults()))
	}
	idx, after, err := h.s.Digest()
	if err != nil {
		h.t.Fatal(err)
	}
	if before != after {
		h.t.Fatalf("refused proposal changed the state")
	}
	if idx != h.index {
		h.t.Fatalf("applied index %d after refusal, want %d", idx, h.index)
	}
}

func (h *harness) mailbox(address, name string) *evlog.MailboxRecord {
	h.t.Helper()
	mb, err := h.s.MailboxByName(address, name)
	if err != nil {
		h.t.Fatalf("MailboxByName(%s, %s): %v", address, name, err)
	}
	return mb
}

func (h *harness) user(address string) *evlog.UserRecord {
	h.t.Helper()
	u, err := h.s.User(address)
	if err != nil {
		h.t.Fatalf("User(%s): %v", address, err)
	}
	return u
}

// uids lists the mailbox's UIDs.
func (h *harness) uids(mailboxID uint64) []uint32 {
	h.t.Helper()
	var out []uint32
	if err := h.s.Messages(mailboxID, func(uid uint32, _ *evlog.MessageRecord) bool {
		out = append(out, uid)
		return true
	}); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// store stores a body and returns its hash.
func (h *harness) store(body string) []byte {
	h.t.Helper()
	var evs []*evlog.Event
	for _, c := range evlog.Chunks([]byte(body)) {
		evs = append(evs, blobStored(c))
	}
	h.ok(evs...)
	sum := sha256.Sum256([]byte(body))
	return sum[:]
}

// ---------------------------------------------------------------- events

func ev(k any) *evlog.Event {
	e := &evlog.Event{}
	switch k := k.(type) {
	case *evlog.DomainAdded:
		e.Kind = &evlog.Event_DomainAdded{DomainAdded: k}
	case *evlog.DomainRemoved:
		e.Kind = &evlog.Event_DomainRemoved{DomainRemoved: k}
	case *evlog.DkimKeyAdded:
		e.Kind = &evlog.Event_DkimKeyAdded{DkimKeyAdded: k}
	case *evlog.DkimKeyRetired:
		e.Kind = &evlog.Event_DkimKeyRetired{DkimKeyRetired: k}
	case *evlog.DomainSettingsChanged:
		e.Kind = &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: k}
	case *evlog.UserCreated:
		e.Kind = &evlog.Event_UserCreated{UserCreated: k}
	case *evlog.PasswordChanged:
		e.Kind = &evlog.Event_PasswordChanged{PasswordChanged: k}
	case *evlog.UserDeleted:
		e.Kind = &evlog.Event_UserDeleted{UserDeleted: k}
	case *evlog.AliasAdded:
		e.Kind = &evlog.Event_AliasAdded{AliasAdded: k}
	case *evlog.AliasRemoved:
		e.Kind = &evlog.Event_AliasRemoved{AliasRemoved: k}
	case *evlog.QuotaSet:
		e.Kind = &evlog.Event_QuotaSet{QuotaSet: k}
	case *evlog.MailboxCreated:
		e.Kind = &evlog.Event_MailboxCreated{MailboxCreated: k}
	case *evlog.MailboxRenamed:
		e.Kind = &evlog.Event_MailboxRenamed{MailboxRenamed: k}
	case *evlog.MailboxDeleted:
		e.Kind = &evlog.Event_MailboxDeleted{MailboxDeleted: k}
	case *evlog.Subscribed:
		e.Kind = &evlog.Event_Subscribed{Subscribed: k}
	case *evlog.BlobStored:
		e.Kind = &evlog.Event_BlobStored{BlobStored: k}
	case *evlog.Delivered:
		e.Kind = &evlog.Event_Delivered{Delivered: k}
	case *evlog.Appended:
		e.Kind = &evlog.Event_Appended{Appended: k}
	case *evlog.FlagsChanged:
		e.Kind = &evlog.Event_FlagsChanged{FlagsChanged: k}
	case *evlog.Copied:
		e.Kind = &evlog.Event_Copied{Copied: k}
	case *evlog.Moved:
		e.Kind = &evlog.Event_Moved{Moved: k}
	case *evlog.Expunged:
		e.Kind = &evlog.Event_Expunged{Expunged: k}
	case *evlog.BlobsCollected:
		e.Kind = &evlog.Event_BlobsCollected{BlobsCollected: k}
	case *evlog.Queued:
		e.Kind = &evlog.Event_Queued{Queued: k}
	case *evlog.AttemptFailed:
		e.Kind = &evlog.Event_AttemptFailed{AttemptFailed: k}
	case *evlog.Sent:
		e.Kind = &evlog.Event_Sent{Sent: k}
	case *evlog.Bounced:
		e.Kind = &evlog.Event_Bounced{Bounced: k}
	case *evlog.QueueRetried:
		e.Kind = &evlog.Event_QueueRetried{QueueRetried: k}
	case *evlog.QueueDeleted:
		e.Kind = &evlog.Event_QueueDeleted{QueueDeleted: k}
	case *evlog.ChunkStaged:
		e.Kind = &evlog.Event_ChunkStaged{ChunkStaged: k}
	case nil:
	default:
		panic(fmt.Sprintf("ev: %T", k))
	}
	return e
}

func domainAdded(d string) *evlog.Event   { return ev(&evlog.DomainAdded{Domain: d}) }
func domainRemoved(d string) *evlog.Event { return ev(&evlog.DomainRemoved{Domain: d}) }
func userCreated(a string, created int64) *evlog.Event {
	return ev(&evlog.UserCreated{Address: a, PasswordHash: "$argon2id$" + a, CreatedUnix: created})
}
func userDeleted(a string) *evlog.Event { return ev(&evlog.UserDeleted{Address: a}) }
func aliasAdded(alias, target string) *evlog.Event {
	return ev(&evlog.AliasAdded{Alias: alias, Target: target})
}
func aliasRemoved(alias string) *evlog.Event { return ev(&evlog.AliasRemoved{Alias: alias}) }
func quotaSet(a string, n uint64) *evlog.Event {
	return ev(&evlog.QuotaSet{Address: a, Bytes: n})
}
func mailboxCreated(a, name string, hint uint32) *evlog.Event {
	return ev(&evlog.MailboxCreated{Address: a, Name: name, UidValidityHint: hint})
}
func mailboxRenamed(id uint64, name string, hint uint32) *evlog.Event {
	return ev(&evlog.MailboxRenamed{MailboxId: id, NewName: name, UidValidityHint: hint})
}
func mailboxDeleted(id uint64) *evlog.Event { return ev(&evlog.MailboxDeleted{MailboxId: id}) }
func subscribed(a, name string, on bool) *evlog.Event {
	return ev(&evlog.Subscribed{Address: a, Name: name, Subscribed: on})
}
func blobStored(c *evlog.BlobStored) *evlog.Event { return ev(c) }

func rcpt(a, mailbox string) *evlog.Recipient { return &evlog.Recipient{Address: a, Mailbox: mailbox} }

func delivered(hash []byte, size int, rcpts ...*evlog.Recipient) *evlog.Event {
	return ev(&evlog.Delivered{Blob: hash, Size: uint64(size), InternalDateUnix: 1700000000, InternalDateOffset: 3600, Recipients: rcpts})
}
func appended(id uint64, hash []byte, size int, flags ...string) *evlog.Event {
	return ev(&evlog.Appended{MailboxId: id, Blob: hash, Size: uint64(size), InternalDateUnix: 1700000001, Flags: flags})
}
func uidRanges(pairs ...uint32) []*evlog.UidRange {
	var out []*evlog.UidRange
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, &evlog.UidRange{First: pairs[i], Last: pairs[i+1]})
	}
	return out
}
func flagsChanged(id uint64, op evlog.FlagOp, ranges []*evlog.UidRange, flags ...string) *evlog.Event {
	return ev(&evlog.FlagsChanged{MailboxId: id, Uids: ranges, Op: op, Flags: flags})
}
func copied(src uint64, ranges []*evlog.UidRange, dst uint64) *evlog.Event {
	return ev(&evlog.Copied{MailboxId: src, Uids: ranges, TargetMailboxId: dst})
}
func moved(src uint64, ranges []*evlog.UidRange, dst uint64) *evlog.Event {
	return ev(&evlog.Moved{MailboxId: src, Uids: ranges, TargetMailboxId: dst})
}
func expunged(id uint64, ranges []*evlog.UidRange) *evlog.Event {
	return ev(&evlog.Expunged{MailboxId: id, Uids: ranges})
}
func blobsCollected(hashes ...[]byte) *evlog.Event {
	return ev(&evlog.BlobsCollected{Hashes: hashes})
}

func queueID(n byte) []byte {
	id := make([]byte, queueIDLen)
	id[0], id[15] = 0x0e, n
	return id
}

func queued(id, hash []byte, size int, from string, rcpts ...string) *evlog.Event {
	q := &evlog.Queued{Id: id, Blob: hash, Size: uint64(size), MailFrom: from,
		QueuedUnix: 1700000000, ExpiresUnix: 1700000000 + 5*86400, Submitter: from}
	for _, r := range rcpts {
		q.Recipients = append(q.Recipients, &evlog.QueueRecipient{Address: r})
	}
	return ev(q)
}
func attemptFailed(id []byte, next int64, rcpts ...string) *evlog.Event {
	return ev(&evlog.AttemptFailed{Id: id, Recipients: rcpts, Reason: "451 4.3.0 try later", AttemptedUnix: 1700000100, NextAttemptUnix: next})
}
func sent(id []byte, rcpts ...string) *evlog.Event {
	return ev(&evlog.Sent{Id: id, Recipients: rcpts, Reply: "250 2.0.0 ok", SentUnix: 1700000200})
}
func bounced(id []byte, rcpts ...string) *evlog.Event {
	b := &evlog.Bounced{Id: id, BouncedUnix: 1700000300}
	for _, r := range rcpts {
		b.Recipients = append(b.Recipients, &evlog.BouncedRecipient{Address: r, Diagnostic: "550 5.1.1 no such user", Status: "5.1.1"})
	}
	return ev(b)
}
func queueRetried(id []byte, next int64) *evlog.Event {
	return ev(&evlog.QueueRetried{Id: id, NextAttemptUnix: next})
}
func queueDeleted(id []byte) *evlog.Event { return ev(&evlog.QueueDeleted{Id: id}) }

const (
	opAdd     = evlog.FlagOp_FLAG_OP_ADD
	opRemove  = evlog.FlagOp_FLAG_OP_REMOVE
	opReplace = evlog.FlagOp_FLAG_OP_REPLACE
)

// ---------------------------------------------------------------- invariants

// checkInvariants verifies, over the whole store, the counts that apply
// keeps incrementally: mailbox message counts and sizes, users' usage,
// blob references, UIDs below UIDNEXT, modseqs at most HIGHESTMODSEQ, the
// name index, and sorted canonical flags.
func checkInvariants(t testing.TB, s *Store) {
	t.Helper()
	users, err := s.Users()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]uint64{}
	for _, a := range users {
		u, err := s.User(a)
		if err != nil {
			t.Fatal(err)
		}
		mbs, err := s.Mailboxes(a)
		if err != nil {
			t.Fatal(err)
		}
		var used, count uint64
		for _, mb := range mbs {
			var n uint32
			var size uint64
			err := s.Messages(mb.GetId(), func(uid uint32, m *evlog.MessageRecord) bool {
				n++
				size += m.GetSize()
				refs[string(m.GetBlob())]++
				if uid >= mb.GetUidNext() {
					t.Errorf("mailbox %d: uid %d >= uidnext %d", mb.GetId(), uid, mb.GetUidNext())
				}
				if m.GetModseq() > mb.GetHighestModseq() || m.GetModseq() == 0 {
					t.Errorf("mailbox %d: uid %d modseq %d, highest %d", mb.GetId(), uid, m.GetModseq(), mb.GetHighestModseq())
				}
				if !slices.IsSorted(m.GetFlags()) {
					t.Errorf("mailbox %d uid %d: flags %v not sorted", mb.GetId(), uid, m.GetFlags())
				}
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != mb.GetMessages() || size != mb.GetSize() {
				t.Errorf("mailbox %d (%s %s): record says %d messages/%d bytes, has %d/%d", mb.GetId(), a, mb.GetName(), mb.GetMessages(), mb.GetSize(), n, size)
			}
			if mb.GetAddress() != a || mb.GetUidValidity() == 0 {
				t.Errorf("mailbox %d: address %q uidvalidity %d", mb.GetId(), mb.GetAddress(), mb.GetUidValidity())
			}
			used += size
			count += uint64(n)
		}
		if used != u.GetUsedBytes() {
			t.Errorf("user %s: used_bytes %d, messages add up to %d", a, u.GetUsedBytes(), used)
		}
		if u.GetUsedMessagesKnown() && count != u.GetUsedMessages() {
			t.Errorf("user %s: used_messages %d, mailboxes hold %d", a, u.GetUsedMessages(), count)
		}
		if !hasInbox(mbs) {
			t.Errorf("user %s has no INBOX", a)
		}
	}
	// Queue entries reference their body once, and each has exactly one
	// due-index key, at its next attempt time.
	entries, err := s.QueueEntries(0)
	if err != nil {
		t.Fatal(err)
	}
	due := 0
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixQueueDue), prefixEnd([]byte(prefixQueueDue)), func(_, _ []byte) (bool, error) {
			due++
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if due != len(entries) {
		t.Errorf("%d queue entries, %d due-index keys", len(entries), due)
	}
	for _, q := range entries {
		refs[string(q.GetBlob())]++
		if _, ok, _ := readValue(s.db, queueDueKey(q.GetNextAttemptUnix(), q.GetId())); !ok {
			t.Errorf("queue entry %x: no due key at %d", q.GetId(), q.GetNextAttemptUnix())
		}
		final := 0
		for _, r := range q.GetRecipients() {
			if !pending(r) {
				final++
			}
		}
		if final == len(q.GetRecipients()) {
			t.Errorf("queue entry %x: every recipient final but still queued", q.GetId())
		}
	}
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixBlob), prefixEnd([]byte(prefixBlob)), func(k, v []byte) (bool, error) {
			rec := new(evlog.BlobRecord)
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, err
			}
			if got := refs[string(k[prefixLen:])]; got != rec.GetRefs() {
				t.Errorf("blob %x: refs %d, messages %d", k[prefixLen:], rec.GetRefs(), got)
			}
			delete(refs, string(k[prefixLen:]))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for h, n := range refs {
		t.Errorf("%d messages reference missing blob %x", n, h)
	}
	checkQueuedBytes(t, s)    // sendlimits_test.go
	checkExpungeHistory(t, s) // expunges_test.go
}

func hasInbox(mbs []*evlog.MailboxRecord) bool {
	return slices.ContainsFunc(mbs, func(mb *evlog.MailboxRecord) bool { return mb.GetName() == inboxName })
}
