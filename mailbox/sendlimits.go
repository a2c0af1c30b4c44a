package mailbox

import (
	"encoding/binary"
	"fmt"

	evlog "github.com/surat-mail/surat/log"
)

// What each authenticated submitter has put in the outbound queue, kept by
// apply so that every node answers the same (see the package doc):
//
//   - "snt/" submitter 0x00 bucket: recipients queued in one five-minute
//     bucket of Queued.queued_unix (the proposer's clock, never this
//     node's: docs/DESIGN.md invariant 2). A submitter's buckets older
//     than the hour before its newest Queued are pruned as it writes, so
//     each submitter holds at most sendWindowBuckets+1 of them.
//   - "sqb/" submitter: bytes of its entries still in the queue; added at
//     Queued, taken off when the entry leaves the queue (every recipient
//     Sent or Bounced, or QueueDeleted); the key goes when it reaches 0.
const (
	prefixSentBucket  = "snt/"
	prefixQueuedBytes = "sqb/"
	// sendBucketSeconds is the hourly window's step: the count is of the
	// last 55 to 60 minutes, never more.
	sendBucketSeconds = 300
	sendWindowBuckets = 3600 / sendBucketSeconds
)

func sentBucketPrefix(submitter string) []byte {
	return []byte(prefixSentBucket + submitter + "\x00")
}

func sentBucketKey(submitter string, bucket uint64) []byte {
	return binary.BigEndian.AppendUint64(sentBucketPrefix(submitter), bucket)
}

func queuedBytesKey(submitter string) []byte { return []byte(prefixQueuedBytes + submitter) }

// sendBucket is the bucket holding unix time t (times before the epoch
// are refused by apply; they count as bucket 0 here).
func sendBucket(t int64) uint64 { return uint64(max(t, 0)) / sendBucketSeconds }

// countsAsSubmitter reports whether a Queued submitter is counted: an
// address, as the submission front end stamps it. DSNs (no submitter) and
// anything that could not be a key component are not.
func countsAsSubmitter(s string) bool {
	return s != "" && checkAddress("submitter", s) == nil
}

// SenderUsage is what one submitter has queued, as the limits count it.
type SenderUsage struct {
	// RecipientsLastHour: remote recipients queued in the hour up to the
	// time asked about (in five-minute steps).
	RecipientsLastHour uint64
	// QueuedBytes: the sizes of its entries still in the outbound queue.
	QueuedBytes uint64
}

// SenderUsage returns what submitter (a canonical address) has queued as
// of unix time now, from one consistent view.
func (s *Store) SenderUsage(submitter string, now int64) (u SenderUsage, err error) {
	err = s.view(func(r reader) error {
		var err error
		if u.RecipientsLastHour, err = recipientsInWindow(r, submitter, sendBucket(now)); err != nil {
			return err
		}
		u.QueuedBytes, err = readU64(r, queuedBytesKey(submitter))
		return err
	})
	if err != nil {
		return SenderUsage{}, fmt.Errorf("mailbox: sender usage of %q: %w", submitter, err)
	}
	return u, nil
}

// recipientsInWindow sums the submitter's buckets in the hour ending with
// bucket now: (now-sendWindowBuckets, now]. Buckets after now (a proposer
// whose clock ran ahead) do not count yet.
func recipientsInWindow(r reader, submitter string, now uint64) (sum uint64, err error) {
	lower := sentBucketKey(submitter, max(now, sendWindowBuckets-1)-(sendWindowBuckets-1))
	upper := sentBucketKey(submitter, now+1)
	err = scanRange(r, lower, upper, func(k, v []byte) (bool, error) {
		if len(v) != 8 {
			return false, fmt.Errorf("sent bucket %q of %d bytes", k, len(v))
		}
		sum += binary.BigEndian.Uint64(v)
		return true, nil
	})
	return sum, err
}

// readU64 reads a big-endian counter; absent is 0.
func readU64(r getter, key []byte) (uint64, error) {
	v, ok, err := readValue(r, key)
	if err != nil || !ok {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("counter %q of %d bytes", key, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// countQueued checks a Queued event against the limits it carries and
// counts it for its submitter: its recipients in the bucket of its queued
// time, its size in the submitter's queued bytes.
func (t *txn) countQueued(e *evlog.Queued) error {
	who := e.GetSubmitter()
	if !countsAsSubmitter(who) {
		return nil
	}
	bucket := sendBucket(e.GetQueuedUnix())
	n := uint64(len(e.GetRecipients()))
	recent, err := recipientsInWindow(t.b, who, bucket)
	if err != nil {
		return err
	}
	if limit := uint64(e.GetMaxRecipientsPerHour()); limit > 0 && recent+n > limit {
		return refuse(evlog.ErrorCode_ERROR_CODE_SEND_RATE_LIMIT,
			"%s queued %d recipients in the last hour; %d more would pass the limit of %d", who, recent, n, limit)
	}
	queued, err := readU64(t.b, queuedBytesKey(who))
	if err != nil {
		return err
	}
	if limit := e.GetMaxQueuedBytes(); limit > 0 && queued+e.GetSize() > limit {
		return refuse(evlog.ErrorCode_ERROR_CODE_QUEUED_BYTES_LIMIT,
			"%s has %d bytes queued; %d more would pass the limit of %d", who, queued, e.GetSize(), limit)
	}
	// Prune the buckets the window of this queued time no longer reaches,
	// keeping the state bounded (docs/DESIGN.md: pruning is part of the
	// log). A later Queued stamped by a node whose clock is behind sees a
	// few pruned minutes less: nodes' clocks agree to well within a step.
	if bucket >= sendWindowBuckets {
		stale, err := t.scan(sentBucketPrefix(who), sentBucketKey(who, bucket-sendWindowBuckets+1))
		if err != nil {
			return err
		}
		for _, s := range stale {
			if err := t.del(s.key); err != nil {
				return err
			}
		}
	}
	inBucket, err := readU64(t.b, sentBucketKey(who, bucket))
	if err != nil {
		return err
	}
	if err := t.put(sentBucketKey(who, bucket), binary.BigEndian.AppendUint64(nil, inBucket+n)); err != nil {
		return err
	}
	return t.put(queuedBytesKey(who), binary.BigEndian.AppendUint64(nil, queued+e.GetSize()))
}

// releaseQueued takes a leaving entry's size off its submitter's queued
// bytes. An entry queued before the count existed may find less than its
// size: the count stops at 0 rather than failing the event.
func (t *txn) releaseQueued(rec *evlog.QueueRecord) error {
	who := rec.GetSubmitter()
	if !countsAsSubmitter(who) {
		return nil
	}
	queued, err := readU64(t.b, queuedBytesKey(who))
	if err != nil {
		return err
	}
	if queued <= rec.GetSize() {
		return t.del(queuedBytesKey(who))
	}
	return t.put(queuedBytesKey(who), binary.BigEndian.AppendUint64(nil, queued-rec.GetSize()))
}
