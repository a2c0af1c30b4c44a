package imap

import (
	"container/list"
	"errors"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// snapshot is one consistent state of a mailbox: its UIDs in order with
// each message's modseq and flags. Snapshots are immutable once built and
// shared by every session of the node that selected the mailbox, so an
// idle session costs a pointer, not a copy of its mailbox.
type snapshot struct {
	mailboxID   uint64
	modseq      uint64 // the mailbox's HIGHESTMODSEQ when read
	uidValidity uint32
	uidNext     uint32
	gone        bool // the mailbox was deleted
	uids        []uint32
	msgs        []msgState // parallel to uids
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

// mailboxState is the node's current snapshot of one mailbox, shared by the
// sessions that selected it. The hub replaces the snapshot when the change
// feed reports a change to the mailbox; sessions may also refresh it
// synchronously (after their own writes, and cheaply at the end of every
// command) so that a session always sees its own changes at once.
type mailboxState struct {
	id   uint64
	hub  *hub
	refs int           // guarded by hub.mu
	warm *list.Element // in hub.warm while refs == 0; guarded by hub.mu
	// warmSize is the messages counted for m in hub.warmMsgs while warm;
	// guarded by hub.mu.
	warmSize int
	mu       sync.Mutex
	cur      *snapshot
	wake     chan struct{} // closed and replaced when cur changes
	dirty    bool          // a refresh is wanted; guarded by mu
	busy     bool          // a background refresh runs; guarded by mu
}

// current returns the latest snapshot and the channel that is closed when a
// newer one replaces it.
func (m *mailboxState) current() (*snapshot, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur, m.wake
}

// refresh re-reads the mailbox if its HIGHESTMODSEQ moved (or always, with
// force) and publishes the new snapshot.
func (m *mailboxState) refresh(force bool) (*snapshot, error) {
	old, _ := m.current()
	if !force && old != nil {
		rec, err := m.hub.store.Mailbox(m.id)
		switch {
		case errors.Is(err, mailbox.ErrNotFound):
			if old.gone {
				return old, nil
			}
		case err != nil:
			return old, err
		case rec.GetHighestModseq() == old.modseq && !old.gone:
			return old, nil
		}
	}
	next, err := readSnapshot(m.hub.store, m.id)
	if err != nil {
		return old, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// Keep the newer of two concurrent refreshes: modseq only grows for a
	// mailbox that exists, and a deleted mailbox stays deleted.
	if m.cur != nil && !next.gone && !m.cur.gone && next.modseq < m.cur.modseq {
		return m.cur, nil
	}
	if m.cur != nil && m.cur.gone {
		return m.cur, nil
	}
	if m.cur == nil || next.modseq != m.cur.modseq || next.gone != m.cur.gone {
		m.cur = next
		close(m.wake)
		m.wake = make(chan struct{})
	}
	return m.cur, nil
}

// readSnapshot reads the mailbox from one consistent view of the store.
func readSnapshot(store Store, id uint64) (*snapshot, error) {
	s := &snapshot{mailboxID: id}
	rec, err := store.MailboxSnapshot(id, func(uid uint32, m *evlog.MessageRecord) {
		s.uids = append(s.uids, uid)
		s.msgs = append(s.msgs, msgState{modseq: m.GetModseq(), flags: m.GetFlags(), rec: m})
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

// defaultWarmMessages is Config.WarmMessages' default.
const defaultWarmMessages = 200_000

// hub owns the node's mailbox states and its one subscription to the
// change feed: a single goroutine reads every change and marks the affected
// mailbox states for a refresh, which runs in a goroutine per changing
// mailbox (not per session), so 10,000 idle sessions cost no goroutines of
// their own beyond go-imap's.
//
// A mailbox no session holds any more stays "warm" for a while: its last
// snapshot is kept (least recently released first out, up to warmLimit
// messages in all) but no longer refreshed on changes, so the next SELECT
// of it reads one record (its HIGHESTMODSEQ) instead of the whole mailbox
// when nothing changed meanwhile, as a client reopening a mailbox usually
// finds. A warm snapshot that is out of date is read again whole on
// acquire.
type hub struct {
	store     Store
	log       *slog.Logger
	warmLimit int // messages kept in warm snapshots, in all

	mu       sync.Mutex
	states   map[uint64]*mailboxState // held and warm
	warm     *list.List               // of *mailboxState, most recently released first
	warmMsgs int                      // messages in the warm snapshots

	sub  *mailbox.Subscription
	done chan struct{}
}

func newHub(store Store, log *slog.Logger, warmLimit int) *hub {
	h := &hub{store: store, log: log, warmLimit: warmLimit, states: map[uint64]*mailboxState{},
		warm: list.New(), done: make(chan struct{})}
	h.sub = store.Subscribe("")
	go h.run()
	return h
}

func (h *hub) close() {
	h.sub.Close()
	<-h.done
}

func (h *hub) run() {
	defer close(h.done)
	for c := range h.sub.C {
		switch c.Kind {
		case mailbox.Reset:
			h.mu.Lock()
			held := make([]*mailboxState, 0, len(h.states))
			for _, m := range h.states {
				if m.refs > 0 {
					held = append(held, m)
				}
			}
			h.mu.Unlock()
			for _, m := range held {
				h.kick(m)
			}
		case mailbox.MessagesAdded, mailbox.FlagsChanged, mailbox.MessagesExpunged,
			mailbox.MailboxDeleted, mailbox.MailboxRenamed:
			h.mu.Lock()
			m := h.states[c.MailboxID]
			if m != nil && m.refs <= 0 && c.Kind == mailbox.MailboxDeleted {
				h.evictLocked(m)
			}
			if m != nil && m.refs <= 0 {
				m = nil // warm: checked when next acquired
			}
			h.mu.Unlock()
			if m != nil {
				h.kick(m)
			}
		}
	}
}

// kick schedules a refresh of m; refreshes of one mailbox coalesce.
func (h *hub) kick(m *mailboxState) {
	m.mu.Lock()
	m.dirty = true
	if m.busy {
		m.mu.Unlock()
		return
	}
	m.busy = true
	m.mu.Unlock()
	go func() {
		defer func() {
			if v := recover(); v != nil {
				h.log.Error("imap mailbox refresh panicked", "mailbox_id", m.id, "panic", v, "stack", string(debug.Stack()))
				m.mu.Lock()
				m.busy = false
				m.mu.Unlock()
			}
		}()
		for {
			m.mu.Lock()
			if !m.dirty {
				m.busy = false
				m.mu.Unlock()
				return
			}
			m.dirty = false
			m.mu.Unlock()
			if _, err := m.refresh(false); err != nil {
				h.log.Warn("imap mailbox refresh failed", "mailbox_id", m.id, "err", err)
			}
		}
	}()
}

// acquire returns the state of mailbox id, read from the store when no
// session holds it yet. Each acquire is paired with a release.
func (h *hub) acquire(id uint64) (*mailboxState, error) {
	h.mu.Lock()
	m := h.states[id]
	if m == nil {
		m = &mailboxState{id: id, hub: h, wake: make(chan struct{})}
		h.states[id] = m
	}
	if m.warm != nil {
		h.warm.Remove(m.warm)
		m.warm = nil
		h.warmMsgs -= m.warmSize
	}
	m.refs++
	h.mu.Unlock()
	if _, err := m.refresh(false); err != nil {
		h.release(m)
		return nil, err
	}
	return m, nil
}

func (h *hub) release(m *mailboxState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m.refs--
	if m.refs > 0 || h.states[m.id] != m {
		return
	}
	if cur, _ := m.current(); cur == nil || cur.gone || h.warmLimit <= 0 {
		delete(h.states, m.id)
		return
	}
	m.warm = h.warm.PushFront(m)
	m.warmSize = m.size()
	h.warmMsgs += m.warmSize
	for h.warmMsgs > h.warmLimit {
		h.evictLocked(h.warm.Back().Value.(*mailboxState))
	}
}

// evictLocked forgets the warm state m.
func (h *hub) evictLocked(m *mailboxState) {
	h.warm.Remove(m.warm)
	m.warm = nil
	h.warmMsgs -= m.warmSize
	delete(h.states, m.id)
}

// size is how many messages m's snapshot holds.
func (m *mailboxState) size() int {
	cur, _ := m.current()
	if cur == nil {
		return 0
	}
	return len(cur.uids)
}
