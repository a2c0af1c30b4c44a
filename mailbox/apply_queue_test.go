package mailbox

import (
	"bytes"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

const (
	remoteX = "x@remote.test"
	remoteY = "y@remote.test"
)

func (h *harness) refs(hash []byte) uint64 {
	h.t.Helper()
	b, err := h.s.BlobInfo(hash)
	if err != nil {
		h.t.Fatalf("BlobInfo: %v", err)
	}
	return b.GetRefs()
}

func (h *harness) entry(id []byte) *evlog.QueueRecord {
	h.t.Helper()
	q, err := h.s.QueueEntry(id)
	if err != nil {
		h.t.Fatalf("QueueEntry(%x): %v", id, err)
	}
	return q
}

func (h *harness) gone(id []byte) {
	h.t.Helper()
	if _, err := h.s.QueueEntry(id); err != ErrNotFound {
		h.t.Fatalf("QueueEntry(%x) = %v, want ErrNotFound", id, err)
	}
}

func dueIDs(t *testing.T, s *Store, now int64) [][]byte {
	t.Helper()
	due, err := s.DueQueueEntries(now, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, q := range due {
		out = append(out, q.GetId())
	}
	return out
}

func TestQueueLifecycle(t *testing.T) {
	h := newHarness(t)
	hash := h.store(body1)
	id := queueID(1)
	h.ok(queued(id, hash, len(body1), userA, remoteX, remoteY))
	if got := h.refs(hash); got != 1 {
		t.Fatalf("refs after Queued = %d, want 1", got)
	}
	q := h.entry(id)
	if q.GetNextAttemptUnix() != 1700000000 || len(q.GetRecipients()) != 2 || q.GetMailFrom() != userA {
		t.Fatalf("entry %v", q)
	}
	// Due from its queued time on, not before.
	if got := dueIDs(t, h.s, 1699999999); len(got) != 0 {
		t.Fatalf("due before queued time: %x", got)
	}
	if got := dueIDs(t, h.s, 1700000000); len(got) != 1 || !bytes.Equal(got[0], id) {
		t.Fatalf("due at queued time: %x", got)
	}

	// One recipient sent, one failed temporarily: next attempt moves.
	h.ok(sent(id, remoteX), attemptFailed(id, 1700000600, remoteY))
	q = h.entry(id)
	if q.GetAttempts() != 1 || q.GetNextAttemptUnix() != 1700000600 || q.GetLastReply() != "451 4.3.0 try later" {
		t.Fatalf("after attempt: %v", q)
	}
	if st := q.GetRecipients()[0].GetStatus(); st != evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_SENT {
		t.Fatalf("x status %v", st)
	}
	if got := dueIDs(t, h.s, 1700000599); len(got) != 0 {
		t.Fatalf("due before next attempt: %x", got)
	}
	if got := dueIDs(t, h.s, 1700000600); len(got) != 1 {
		t.Fatalf("not due at next attempt: %x", got)
	}
	// A repeated Sent for a final recipient changes nothing.
	h.ok(sent(id, remoteX))
	if h.entry(id).GetRecipients()[0].GetReply() != "250 2.0.0 ok" {
		t.Fatal("reply changed")
	}
	// Operator retry: due at once.
	h.ok(queueRetried(id, 1700000001))
	if got := dueIDs(t, h.s, 1700000001); len(got) != 1 {
		t.Fatalf("not due after retry: %x", got)
	}
	// The last recipient bounces: the entry leaves and the body is released.
	h.ok(bounced(id, remoteY))
	h.gone(id)
	if got := h.refs(hash); got != 0 {
		t.Fatalf("refs after the entry finished = %d", got)
	}
	if got := dueIDs(t, h.s, 1<<40); len(got) != 0 {
		t.Fatalf("due index left behind: %x", got)
	}
	if n, err := h.s.QueueLength(); err != nil || n != 0 {
		t.Fatalf("QueueLength = %d, %v", n, err)
	}
	// Outcomes for a finished entry are refused as a whole.
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_QUEUE_ENTRY, sent(id, remoteY))
	checkInvariants(t, h.s)
}

func TestQueueDeleteAndOrder(t *testing.T) {
	h := newHarness(t)
	hash := h.store(body1)
	a, b, c := queueID(1), queueID(2), queueID(3)
	h.ok(queued(a, hash, len(body1), userA, remoteX))
	h.ok(queued(b, hash, len(body1), "", remoteX))
	h.ok(queued(c, hash, len(body1), userA, remoteY))
	if got := h.refs(hash); got != 3 {
		t.Fatalf("refs = %d, want 3", got)
	}
	h.ok(attemptFailed(a, 1700000900, remoteX), attemptFailed(c, 1700000500, remoteY))
	got := dueIDs(t, h.s, 1700001000)
	want := [][]byte{b, c, a} // by next attempt time
	if len(got) != 3 || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) || !bytes.Equal(got[2], want[2]) {
		t.Fatalf("due order %x, want %x", got, want)
	}
	if lim, _ := h.s.DueQueueEntries(1700001000, 2); len(lim) != 2 {
		t.Fatalf("limit: %d entries", len(lim))
	}
	h.ok(queueDeleted(a))
	h.gone(a)
	if got := h.refs(hash); got != 2 {
		t.Fatalf("refs after delete = %d, want 2", got)
	}
	list, err := h.s.QueueEntries(0)
	if err != nil || len(list) != 2 {
		t.Fatalf("QueueEntries = %d, %v", len(list), err)
	}
	checkInvariants(t, h.s)
	// The body stays while an entry references it, and a collection
	// proposed meanwhile keeps it.
	h.ok(blobsCollected(hash))
	if h.refs(hash) != 2 {
		t.Fatal("collected a queued body")
	}
}

func TestQueueRefusals(t *testing.T) {
	const (
		invalid = evlog.ErrorCode_ERROR_CODE_INVALID
		noEntry = evlog.ErrorCode_ERROR_CODE_NO_SUCH_QUEUE_ENTRY
		exists  = evlog.ErrorCode_ERROR_CODE_QUEUE_ENTRY_EXISTS
		noBlob  = evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB
	)
	h := newHarness(t)
	hash := h.store(body1)
	id := queueID(9)
	h.ok(queued(id, hash, len(body1), userA, remoteX))

	withQ := func(mod func(q *evlog.Queued)) *evlog.Event {
		e := queued(queueID(10), hash, len(body1), userA, remoteX)
		mod(e.GetQueued())
		return e
	}
	cases := []struct {
		name string
		code evlog.ErrorCode
		ev   *evlog.Event
	}{
		{"short id", invalid, withQ(func(q *evlog.Queued) { q.Id = []byte{1, 2} })},
		{"exists", exists, queued(id, hash, len(body1), userA, remoteY)},
		{"no blob", noBlob, queued(queueID(11), sha([]byte("nope")), 4, userA, remoteX)},
		{"wrong size", invalid, withQ(func(q *evlog.Queued) { q.Size++ })},
		{"no recipients", invalid, withQ(func(q *evlog.Queued) { q.Recipients = nil })},
		{"duplicate recipient", invalid, withQ(func(q *evlog.Queued) { q.Recipients = append(q.Recipients, q.Recipients[0]) })},
		{"bad recipient", invalid, withQ(func(q *evlog.Queued) { q.Recipients[0].Address = "no-at" })},
		{"bad sender", invalid, withQ(func(q *evlog.Queued) { q.MailFrom = "a\x00b@x" })},
		{"never and more", invalid, withQ(func(q *evlog.Queued) { q.Recipients[0].Notify = 1 | 4 })},
		{"unknown notify", invalid, withQ(func(q *evlog.Queued) { q.Recipients[0].Notify = 16 })},
		{"bad ret", invalid, withQ(func(q *evlog.Queued) { q.Ret = 7 })},
		{"expires first", invalid, withQ(func(q *evlog.Queued) { q.ExpiresUnix = q.QueuedUnix - 1 })},
		{"negative time", invalid, withQ(func(q *evlog.Queued) { q.QueuedUnix, q.ExpiresUnix = -5, 0 })},
		{"failed unknown id", noEntry, attemptFailed(queueID(12), 1, remoteX)},
		{"sent unknown id", noEntry, sent(queueID(12), remoteX)},
		{"bounced unknown id", noEntry, bounced(queueID(12), remoteX)},
		{"retried unknown id", noEntry, queueRetried(queueID(12), 1)},
		{"deleted unknown id", noEntry, queueDeleted(queueID(12))},
		{"failed stranger", invalid, attemptFailed(id, 1, "stranger@remote.test")},
		{"sent stranger", invalid, sent(id, "stranger@remote.test")},
		{"sent nobody", invalid, sent(id)},
		{"failed negative next", invalid, attemptFailed(id, -1, remoteX)},
		{"retried negative", invalid, queueRetried(id, -1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			h.fails(c.code, c.ev)
		})
	}
	h.t = t
	// All or nothing: a Delivered (a DSN) with an outcome for a finished
	// entry is not applied either.
	h.ok(domainAdded("example.org"), userCreated(userA, 1))
	h.ok(sent(id, remoteX))
	h.fails(noEntry, delivered(hash, len(body1), rcpt(userA, "")), bounced(id, remoteX))
	if n := len(h.uids(h.mailbox(userA, "INBOX").GetId())); n != 0 {
		t.Fatalf("DSN delivered with a refused outcome: %d messages", n)
	}
	checkInvariants(t, h.s)
}

// BlobsCollected with touched_before keeps a body stored again since the
// collector looked (an upload in progress).
func TestBlobsCollectedTouchedBefore(t *testing.T) {
	h := newHarness(t)
	hash := h.store(body1) // touched at index 1
	h.ok(ev(&evlog.BlobsCollected{Hashes: [][]byte{hash}, TouchedBefore: 1}))
	if _, err := h.s.BlobInfo(hash); err != nil {
		t.Fatalf("body touched at the cut-off was collected: %v", err)
	}
	h.ok(ev(&evlog.BlobsCollected{Hashes: [][]byte{hash}, TouchedBefore: 2}))
	if _, err := h.s.BlobInfo(hash); err != ErrNotFound {
		t.Fatalf("unreferenced old body kept: %v", err)
	}
}
