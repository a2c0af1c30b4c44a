package mailbox

import (
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// limitedQueued is queued() at time at, with the submitter's limits.
func limitedQueued(id, hash []byte, size int, at int64, perHour uint32, maxBytes uint64, rcpts ...string) *evlog.Event {
	e := queued(id, hash, size, userA, rcpts...)
	q := e.GetQueued()
	q.QueuedUnix, q.ExpiresUnix = at, at+86400
	q.MaxRecipientsPerHour, q.MaxQueuedBytes = perHour, maxBytes
	return e
}

func (h *harness) usage(who string, now int64) SenderUsage {
	h.t.Helper()
	u, err := h.s.SenderUsage(who, now)
	if err != nil {
		h.t.Fatalf("SenderUsage: %v", err)
	}
	return u
}

// TestSendRateCountsRecipientsPerHour: apply counts a submitter's queued
// recipients by the proposer's queued time and refuses past the limit the
// event carries; an hour later the same submitter may send again.
func TestSendRateCountsRecipientsPerHour(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	hash := h.store(body1)
	const t0 = 1700000000
	h.ok(limitedQueued(queueID(1), hash, len(body1), t0, 3, 0, remoteX, remoteY))
	if u := h.usage(userA, t0); u.RecipientsLastHour != 2 || u.QueuedBytes != uint64(len(body1)) {
		t.Fatalf("usage after 2 recipients: %+v", u)
	}
	// Two more would make 4 > 3: refused, nothing changes.
	h.fails(evlog.ErrorCode_ERROR_CODE_SEND_RATE_LIMIT,
		limitedQueued(queueID(2), hash, len(body1), t0+600, 3, 0, remoteX, remoteY))
	// One more fits exactly.
	h.ok(limitedQueued(queueID(3), hash, len(body1), t0+600, 3, 0, remoteX))
	h.fails(evlog.ErrorCode_ERROR_CODE_SEND_RATE_LIMIT,
		limitedQueued(queueID(4), hash, len(body1), t0+3000, 3, 0, remoteY))
	// Without a limit in the event (an old entry, or a DSN) it is counted
	// but not refused.
	h.ok(limitedQueued(queueID(5), hash, len(body1), t0+3000, 0, 0, remoteY))
	if u := h.usage(userA, t0+3000); u.RecipientsLastHour != 4 {
		t.Fatalf("recipients in the hour = %d, want 4", u.RecipientsLastHour)
	}
	// Over an hour after the first ones they no longer count, and the
	// submitter may send again.
	later := int64(t0 + 4500)
	if u := h.usage(userA, later); u.RecipientsLastHour != 1 {
		t.Fatalf("recipients at t0+4500 = %d, want 1 (the one of t0+3000)", u.RecipientsLastHour)
	}
	h.ok(limitedQueued(queueID(6), hash, len(body1), later, 3, 0, remoteX))
	// Writing pruned the buckets no window can reach any more.
	buckets, err := h.s.readKeys(sentBucketPrefix(userA))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range buckets {
		if b := sendBucket(later); k <= b-sendWindowBuckets {
			t.Errorf("bucket %d kept at bucket %d: not pruned", k, b)
		}
	}
	if len(buckets) != 2 {
		t.Errorf("%d buckets kept, want 2 (t0+3000 and the last)", len(buckets))
	}
	// Someone else's count is their own.
	if u := h.usage(userB, later); u != (SenderUsage{}) {
		t.Fatalf("usage of a user who sent nothing: %+v", u)
	}
}

// readKeys lists the buckets under a sent-bucket prefix (tests only).
func (s *Store) readKeys(prefix []byte) (out []uint64, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, prefix, prefixEnd(prefix), func(k, _ []byte) (bool, error) {
			out = append(out, decodeBucket(k[len(prefix):]))
			return true, nil
		})
	})
	return out, err
}

func decodeBucket(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// TestQueuedBytesFollowTheQueue: a submitter's queued bytes grow with
// Queued, stay while some recipient is pending, and fall when the entry
// leaves the queue by Sent, Bounced or QueueDeleted; past the limit the
// event carries, Queued is refused.
func TestQueuedBytesFollowTheQueue(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	hash := h.store(body1)
	size := uint64(len(body1))
	const at = 1700000000
	limit := 2 * size
	h.ok(limitedQueued(queueID(1), hash, len(body1), at, 0, limit, remoteX, remoteY))
	h.ok(limitedQueued(queueID(2), hash, len(body1), at, 0, limit, remoteX))
	if u := h.usage(userA, at); u.QueuedBytes != 2*size {
		t.Fatalf("queued bytes %d, want %d", u.QueuedBytes, 2*size)
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_QUEUED_BYTES_LIMIT, limitedQueued(queueID(3), hash, len(body1), at, 0, limit, remoteX))

	h.ok(sent(queueID(1), remoteX)) // remoteY still pending: the body stays queued
	if u := h.usage(userA, at); u.QueuedBytes != 2*size {
		t.Fatalf("queued bytes after a partial send %d, want %d", u.QueuedBytes, 2*size)
	}
	h.ok(bounced(queueID(1), remoteY))
	if u := h.usage(userA, at); u.QueuedBytes != size {
		t.Fatalf("queued bytes after the entry finished %d, want %d", u.QueuedBytes, size)
	}
	h.ok(limitedQueued(queueID(3), hash, len(body1), at, 0, limit, remoteX))
	h.ok(queueDeleted(queueID(2)), sent(queueID(3), remoteX))
	if u := h.usage(userA, at); u.QueuedBytes != 0 {
		t.Fatalf("queued bytes with nothing queued %d, want 0", u.QueuedBytes)
	}
	// At 0 the key is gone: the state stays bounded.
	if ok, err := h.s.hasKey(queuedBytesKey(userA)); err != nil || ok {
		t.Fatalf("queued-bytes key kept at 0 (%v, %v)", ok, err)
	}
}

func (s *Store) hasKey(k []byte) (ok bool, err error) {
	err = s.point(func(r getter) error {
		_, ok, err = readValue(r, k)
		return err
	})
	return ok, err
}

// TestQueuedWithoutSubmitterIsNotCounted: a DSN (no submitter) counts
// against nobody, and an entry queued before the count existed (its bytes
// were never added) does not make the count wrap when it leaves.
func TestQueuedWithoutSubmitterIsNotCounted(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	hash := h.store(body1)
	dsn := queued(queueID(1), hash, len(body1), "", remoteX)
	h.ok(dsn)
	if u := h.usage(userA, 1700000000); u != (SenderUsage{}) {
		t.Fatalf("a DSN counted: %+v", u)
	}
	h.ok(queued(queueID(2), hash, len(body1), userA, remoteX))
	// Simulate an entry from before the count: drop its bytes.
	if err := h.s.db.Delete(queuedBytesKey(userA), nil); err != nil {
		t.Fatal(err)
	}
	h.ok(sent(queueID(2), remoteX), sent(queueID(1), remoteX))
	if u := h.usage(userA, 1700000000); u.QueuedBytes != 0 {
		t.Fatalf("queued bytes %d after an uncounted entry left, want 0", u.QueuedBytes)
	}
}

// checkQueuedBytes verifies the per-submitter queued bytes apply keeps
// against the queue itself: each equals the sizes of that submitter's
// entries, and none is kept at 0 (part of checkInvariants).
func checkQueuedBytes(t testing.TB, s *Store) {
	t.Helper()
	entries, err := s.QueueEntries(0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	for _, q := range entries {
		if countsAsSubmitter(q.GetSubmitter()) {
			want[q.GetSubmitter()] += q.GetSize()
		}
	}
	err = s.view(func(r reader) error {
		p := []byte(prefixQueuedBytes)
		return scanRange(r, p, prefixEnd(p), func(k, v []byte) (bool, error) {
			who := string(k[len(p):])
			got := decodeBucket(v)
			if got == 0 || got != want[who] {
				t.Errorf("queued bytes of %s: %d, entries hold %d", who, got, want[who])
			}
			delete(want, who)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for who, n := range want {
		t.Errorf("%s has %d bytes queued but no count", who, n)
	}
}
