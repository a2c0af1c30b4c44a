package imap

import (
	"errors"
	"slices"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// snapshot is one state of a mailbox: its UIDs in order with each
// message's modseq and flags, holding every change up to modseq (and
// possibly some later ones, see apply). Snapshots are immutable once built and
// shared by every session of the node that selected the mailbox, so an
// idle session costs a pointer, not a copy of its mailbox.
type snapshot struct {
	mailboxID   uint64
	modseq      uint64 // every change up to this HIGHESTMODSEQ is in
	uidValidity uint32
	uidNext     uint32
	gone        bool // the mailbox was deleted
	uids        []uint32
	msgs        []msgState // parallel to uids

	kw keywordCache // the keywords its messages hold (keywords.go)
}

type msgState struct {
	modseq uint64
	flags  []string
	// rec is the whole record as read (size, internal date, body hash):
	// FETCH answers from it instead of reading the record again. Never
	// modified.
	rec *evlog.MessageRecord
}

// index is the position of uid in s, or -1.
func (s *snapshot) index(uid uint32) int {
	i, ok := slices.BinarySearch(s.uids, uid)
	if !ok {
		return -1
	}
	return i
}

func (s *snapshot) maxUID() uint32 {
	if len(s.uids) == 0 {
		return 0
	}
	return s.uids[len(s.uids)-1]
}

// without is s minus the UIDs in drop (a private snapshot for one session).
func (s *snapshot) without(drop map[uint32]bool) *snapshot {
	out := &snapshot{mailboxID: s.mailboxID, modseq: s.modseq, uidValidity: s.uidValidity,
		uidNext: s.uidNext, gone: s.gone}
	for i, uid := range s.uids {
		if !drop[uid] {
			out.uids = append(out.uids, uid)
			out.msgs = append(out.msgs, s.msgs[i])
		}
	}
	return out
}

// readSnapshot reads the mailbox from one consistent view of the store.
func readSnapshot(store Store, id uint64) (*snapshot, error) {
	s := &snapshot{mailboxID: id}
	rec, err := store.MailboxSnapshot(id, func(uid uint32, m *evlog.MessageRecord) {
		s.uids = append(s.uids, uid)
		s.msgs = append(s.msgs, stateOf(m))
	})
	if errors.Is(err, mailbox.ErrNotFound) {
		return &snapshot{mailboxID: id, gone: true}, nil
	}
	if err != nil {
		return nil, err
	}
	s.modseq = rec.GetHighestModseq()
	s.uidValidity = rec.GetUidValidity()
	s.uidNext = rec.GetUidNext()
	return s, nil
}

// apply brings m's snapshot forward by the feed's changes, reading only
// the messages they name; with whole (or when that would read much of the
// mailbox anyway) it reads the mailbox whole.
//
// The records are read after the changes were applied, possibly after
// later ones too: a record may be newer than the snapshot's modseq says.
// That is safe because records only move forward (UIDs are never reused,
// an expunged message never returns) and the later change is applied in
// turn, reading the record again; a message gone by the time it is read is
// left out as if its expunge had been applied. UIDNEXT is taken from the
// changes, not from the mailbox record, so that it never runs ahead of the
// UIDs the snapshot holds (RFC 9051 §2.3.1.1: a client may assume no UID
// below UIDNEXT will appear).
func (m *mailboxState) apply(changes []mailbox.Change, whole bool) error {
	base, wake := m.current()
	if base == nil && !whole {
		// The first acquire is reading the mailbox: changes it covers
		// are skipped below, the rest applied to what it read. Past
		// catchUpWait (a failed read), read it here.
		timer := time.NewTimer(m.hub.catchUp)
		select {
		case <-wake:
			base, _ = m.current()
		case <-timer.C:
		}
		timer.Stop()
	}
	if whole || base == nil || base.gone {
		_, err := m.refresh(true)
		return err
	}
	modseq, uidNext := base.modseq, base.uidNext
	var touched []uint32
	expunged := map[uint32]bool{}
	for _, c := range changes {
		if c.ModSeq <= base.modseq {
			continue // already in base (read whole after c was applied)
		}
		modseq = max(modseq, c.ModSeq)
		switch c.Kind {
		case mailbox.MessagesAdded:
			touched = append(touched, c.UIDs...)
			if n := len(c.UIDs); n > 0 {
				uidNext = max(uidNext, slices.Max(c.UIDs)+1)
			}
		case mailbox.FlagsChanged:
			touched = append(touched, c.UIDs...)
		case mailbox.MessagesExpunged:
			for _, uid := range c.UIDs {
				expunged[uid] = true
			}
		}
	}
	if modseq == base.modseq {
		return nil
	}
	slices.Sort(touched)
	touched = slices.Compact(touched)
	if len(touched) > max(len(base.uids)/4, 64) {
		_, err := m.refresh(true)
		return err
	}
	read := make(map[uint32]*evlog.MessageRecord, len(touched))
	for _, uid := range touched {
		if expunged[uid] {
			continue
		}
		rec, err := m.hub.store.Message(m.id, uid)
		switch {
		case errors.Is(err, mailbox.ErrNotFound):
			expunged[uid] = true
		case err != nil:
			return err
		default:
			read[uid] = rec
		}
	}
	next := &snapshot{mailboxID: m.id, modseq: modseq, uidValidity: base.uidValidity, uidNext: uidNext,
		uids: make([]uint32, 0, len(base.uids)+len(read)), msgs: make([]msgState, 0, len(base.uids)+len(read))}
	for i, uid := range base.uids {
		switch rec, ok := read[uid]; {
		case expunged[uid]:
		case ok:
			next.uids = append(next.uids, uid)
			next.msgs = append(next.msgs, stateOf(rec))
			delete(read, uid)
		default:
			next.uids = append(next.uids, uid)
			next.msgs = append(next.msgs, base.msgs[i])
		}
	}
	// What is left is new; new UIDs are above every UID in base, but a
	// snapshot read whole meanwhile may hold some, so keep the order
	// whatever happens.
	added := make([]uint32, 0, len(read))
	for uid := range read {
		added = append(added, uid)
	}
	slices.Sort(added)
	for _, uid := range added {
		next.uids = append(next.uids, uid)
		next.msgs = append(next.msgs, stateOf(read[uid]))
	}
	if len(added) > 0 && len(next.uids) > len(added) && next.uids[len(next.uids)-len(added)-1] > added[0] {
		sortSnapshot(next)
	}
	m.publish(next)
	return nil
}

func stateOf(rec *evlog.MessageRecord) msgState {
	return msgState{modseq: rec.GetModseq(), flags: rec.GetFlags(), rec: rec}
}

// sortSnapshot puts s's messages in UID order.
func sortSnapshot(s *snapshot) {
	idx := make([]int, len(s.uids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return int(int64(s.uids[a]) - int64(s.uids[b])) })
	uids, msgs := make([]uint32, len(idx)), make([]msgState, len(idx))
	for i, j := range idx {
		uids[i], msgs[i] = s.uids[j], s.msgs[j]
	}
	s.uids, s.msgs = uids, msgs
}
