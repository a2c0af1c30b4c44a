package mailbox

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	evlog "github.com/surat-mail/surat/log"
)

// The expunge history: QRESYNC (RFC 7162 §3.2.5) asks which UIDs were
// expunged since a modseq the client names, long after the session that
// saw them is gone. Apply records, per mailbox, the UIDs each expunge
// removed under the modseq it gave the mailbox ("exh/" mailbox-id modseq →
// UID ranges), and keeps MailboxRecord.expunge_horizon: every expunge at a
// modseq above the horizon is recorded. The history is bounded: past
// MaxExpungeHistoryRanges ranges in a mailbox, the oldest records go and
// the horizon rises to the modseq of the newest record dropped. A mailbox
// created since the history exists starts at horizon 1 (its first
// HIGHESTMODSEQ: nothing was expunged before); one from before it has
// horizon 0 until its first expunge sets it to the modseq before that
// expunge. Deleting a mailbox deletes its history.

// MaxExpungeHistoryRanges bounds one mailbox's expunge history, counted in
// UID ranges (8 bytes each); pruning takes it down to three quarters, so
// that pruning runs once per many expunges rather than at each.
const MaxExpungeHistoryRanges = 10000

const (
	prefixExpungeHistory = "exh/"
	expungeHistoryKeyLen = prefixLen + mailboxIDLen + 8
	uidRangeLen          = 8
)

func expungeHistoryPrefix(mailboxID uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixExpungeHistory), mailboxID)
}

func expungeHistoryKey(mailboxID, modseq uint64) []byte {
	return binary.BigEndian.AppendUint64(expungeHistoryPrefix(mailboxID), modseq)
}

// parseExpungeHistoryKey returns the modseq of a key under
// expungeHistoryPrefix.
func parseExpungeHistoryKey(k []byte) (uint64, error) {
	if len(k) != expungeHistoryKeyLen {
		return 0, fmt.Errorf("expunge history key of %d bytes", len(k))
	}
	return binary.BigEndian.Uint64(k[prefixLen+mailboxIDLen:]), nil
}

// encodeUIDSpans writes spans as first u32, last u32 pairs.
func encodeUIDSpans(spans []uidSpan) []byte {
	b := make([]byte, 0, len(spans)*uidRangeLen)
	for _, s := range spans {
		b = binary.BigEndian.AppendUint32(b, s.first)
		b = binary.BigEndian.AppendUint32(b, s.last)
	}
	return b
}

func decodeUIDSpans(v []byte) ([]uidSpan, error) {
	if len(v)%uidRangeLen != 0 {
		return nil, fmt.Errorf("expunge history value of %d bytes", len(v))
	}
	out := make([]uidSpan, 0, len(v)/uidRangeLen)
	for i := 0; i < len(v); i += uidRangeLen {
		s := uidSpan{binary.BigEndian.Uint32(v[i:]), binary.BigEndian.Uint32(v[i+4:])}
		if s.first == 0 || s.last < s.first {
			return nil, fmt.Errorf("expunge history range %d:%d", s.first, s.last)
		}
		out = append(out, s)
	}
	return out, nil
}

// spansOfUIDs returns the sorted, merged spans of uids.
func spansOfUIDs(uids []uint32) []uidSpan {
	s := slices.Clone(uids)
	slices.Sort(s)
	s = slices.Compact(s)
	var out []uidSpan
	for _, u := range s {
		if n := len(out); n > 0 && uint64(out[n-1].last)+1 == uint64(u) {
			out[n-1].last = u
			continue
		}
		out = append(out, uidSpan{u, u})
	}
	return out
}

// mergeSpans sorts and merges spans (overlapping or adjacent ones become one).
func mergeSpans(spans []uidSpan) []uidSpan {
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b uidSpan) int { return cmp.Compare(a.first, b.first) })
	out := []uidSpan{spans[0]}
	for _, s := range spans[1:] {
		cur := &out[len(out)-1]
		if uint64(s.first) <= uint64(cur.last)+1 {
			cur.last = max(cur.last, s.last)
			continue
		}
		out = append(out, s)
	}
	return out
}

// recordExpunges adds uids, just removed from mb at its current modseq
// (the caller bumped it), to mb's expunge history, and prunes the history
// past its bound. The caller saves mb.
func (t *txn) recordExpunges(mb *evlog.MailboxRecord, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	modseq := mb.GetHighestModseq()
	if mb.GetExpungeHorizon() == 0 {
		// A mailbox from before the history: nothing is known of the
		// expunges before this one. modseq is at least 2 (a mailbox starts
		// at 1 and this expunge bumped it), so the horizon is not 0 again.
		mb.ExpungeHorizon = modseq - 1
	}
	key := expungeHistoryKey(mb.GetId(), modseq)
	spans := spansOfUIDs(uids)
	// Each event bumps a mailbox once, so two removals by one event share
	// a modseq: merge with what this modseq holds already.
	old, ok, err := t.get(key)
	if err != nil {
		return err
	}
	if ok {
		prev, err := decodeUIDSpans(old)
		if err != nil {
			return fmt.Errorf("mailbox %d: %w", mb.GetId(), err)
		}
		mb.ExpungeHistoryRanges -= min(mb.GetExpungeHistoryRanges(), uint32(len(prev)))
		spans = mergeSpans(append(prev, spans...))
	}
	if err := t.put(key, encodeUIDSpans(spans)); err != nil {
		return err
	}
	mb.ExpungeHistoryRanges += uint32(len(spans))
	return t.pruneExpunges(mb)
}

// pruneExpunges drops mb's oldest expunge records while it holds more than
// MaxExpungeHistoryRanges ranges, down to three quarters of it, raising the
// horizon to the newest modseq dropped.
func (t *txn) pruneExpunges(mb *evlog.MailboxRecord) error {
	if mb.GetExpungeHistoryRanges() <= MaxExpungeHistoryRanges {
		return nil
	}
	target := uint32(MaxExpungeHistoryRanges * 3 / 4)
	left := mb.GetExpungeHistoryRanges()
	var drop [][]byte
	horizon := mb.GetExpungeHorizon()
	p := expungeHistoryPrefix(mb.GetId())
	err := scanRange(t.b, p, prefixEnd(p), func(k, v []byte) (bool, error) {
		modseq, err := parseExpungeHistoryKey(k)
		if err != nil {
			return false, err
		}
		if len(v)%uidRangeLen != 0 {
			return false, fmt.Errorf("mailbox %d: expunge history value of %d bytes", mb.GetId(), len(v))
		}
		drop = append(drop, append([]byte(nil), k...))
		left -= min(left, uint32(len(v)/uidRangeLen))
		horizon = max(horizon, modseq)
		return left > target, nil
	})
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := t.del(k); err != nil {
			return err
		}
	}
	mb.ExpungeHistoryRanges = left
	mb.ExpungeHorizon = horizon
	return nil
}

// deleteExpunges drops a deleted mailbox's history.
func (t *txn) deleteExpunges(mailboxID uint64) error {
	return t.deletePrefix(expungeHistoryPrefix(mailboxID))
}

// Vanished returns the UIDs expunged from the mailbox at a modseq above
// since, sorted and merged into ranges, for QRESYNC's VANISHED (EARLIER)
// (RFC 7162 §3.2.5, §3.2.6). complete is false when the history does not
// reach back to since (since is below the horizon): expunges above since
// may then be missing, and a caller must treat every UID it does not find
// in the mailbox as possibly vanished. Returns ErrNotFound when the mailbox
// does not exist. Reads only, from one consistent view.
func (s *Store) Vanished(mailboxID, since uint64) (uids []*evlog.UidRange, complete bool, err error) {
	err = s.view(func(r reader) error {
		mb := new(evlog.MailboxRecord)
		if err := readRecord(r, mailboxKey(mailboxID), mb); err != nil {
			return err
		}
		horizon := mb.GetExpungeHorizon()
		if horizon == 0 {
			horizon = mb.GetHighestModseq()
		}
		complete = since >= horizon
		var spans []uidSpan
		p := expungeHistoryPrefix(mailboxID)
		lower := expungeHistoryKey(mailboxID, since+1)
		if since == ^uint64(0) {
			lower = prefixEnd(p)
		}
		err := scanRange(r, lower, prefixEnd(p), func(k, v []byte) (bool, error) {
			got, err := decodeUIDSpans(v)
			if err != nil {
				return false, fmt.Errorf("mailbox %d: %w", mailboxID, err)
			}
			spans = append(spans, got...)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, sp := range mergeSpans(spans) {
			uids = append(uids, &evlog.UidRange{First: sp.first, Last: sp.last})
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return uids, complete, nil
}
