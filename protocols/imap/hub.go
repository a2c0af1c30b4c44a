package imap

import (
	"container/list"
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surat-mail/surat/mailbox"
)

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
	// pending are the feed's changes to the mailbox not yet applied to
	// cur; whole asks for a whole read instead (a change without UIDs, a
	// rename or delete, a Reset). Both guarded by mu.
	pending []mailbox.Change
	whole   bool
	// aclGen counts the ACLChanged the feed reported for the mailbox:
	// sessions of users other than its owner read their rights again
	// when it moved (shared.go).
	aclGen atomic.Uint64
}

// current returns the latest snapshot and the channel that is closed when a
// newer one replaces it.
func (m *mailboxState) current() (*snapshot, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur, m.wake
}

// catchUpWait bounds how long refresh waits for the hub to apply the
// feed's changes up to the store's HIGHESTMODSEQ before it reads the whole
// mailbox itself. The feed is published as each entry is applied, so the
// wait is normally the hub's few microseconds of work.
const catchUpWait = 100 * time.Millisecond

// refresh brings the snapshot up to the store's state: when the mailbox's
// HIGHESTMODSEQ moved past it, it waits (briefly) for the hub to apply the
// changes the feed reported, and reads the mailbox whole if that does not
// happen; with force it always reads the mailbox whole.
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
		case !old.gone && m.tracked():
			if cur, ok := m.awaitModseq(rec.GetHighestModseq()); ok {
				return cur, nil
			}
		}
	}
	next, err := readSnapshot(m.hub.store, m.id)
	if err != nil {
		return old, err
	}
	return m.publish(next), nil
}

// tracked reports whether the hub applies the feed's changes to m (it
// does for every state in its map; a state evicted from it is on its own).
func (m *mailboxState) tracked() bool {
	m.hub.mu.Lock()
	defer m.hub.mu.Unlock()
	return m.hub.states[m.id] == m
}

// awaitModseq waits up to catchUpWait for a snapshot at modseq or later.
func (m *mailboxState) awaitModseq(modseq uint64) (*snapshot, bool) {
	timer := time.NewTimer(m.hub.catchUp)
	defer timer.Stop()
	for {
		cur, wake := m.current()
		if cur != nil && (cur.gone || cur.modseq >= modseq) {
			return cur, true
		}
		select {
		case <-wake:
		case <-timer.C:
			return nil, false
		}
	}
}

// nudge wakes whoever waits on m's snapshot without a new one: its ACL
// changed, and an idling session must read its rights again.
func (m *mailboxState) nudge() {
	m.mu.Lock()
	defer m.mu.Unlock()
	close(m.wake)
	m.wake = make(chan struct{})
}

// publish makes next the current snapshot unless the current one is newer,
// and returns the current one.
func (m *mailboxState) publish(next *snapshot) *snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Keep the newer of two concurrent refreshes: modseq only grows for a
	// mailbox that exists, and a deleted mailbox stays deleted.
	if m.cur != nil && !next.gone && !m.cur.gone && next.modseq < m.cur.modseq {
		return m.cur
	}
	if m.cur != nil && m.cur.gone {
		return m.cur
	}
	if m.cur == nil || next.modseq != m.cur.modseq || next.gone != m.cur.gone {
		m.cur = next
		close(m.wake)
		m.wake = make(chan struct{})
	}
	return m.cur
}

// defaultWarmMessages is Config.WarmMessages' default.
const defaultWarmMessages = 200_000

// hub owns the node's mailbox states and its one subscription to the
// change feed: a single goroutine reads every change and marks the affected
// mailbox states for a refresh, which runs in a goroutine per changing
// mailbox (not per session), so 10,000 idle sessions cost no goroutines of
// their own beyond those serving their connections.
//
// Changes are applied to a snapshot by reading only the messages the
// feed's Change names (snapshot.go), not the whole mailbox, so a delivery
// to a 10,000-message mailbox costs each node one record read.
//
// A mailbox no session holds any more stays "warm" for a while: its
// snapshot is kept and kept current (least recently released first out,
// up to warmLimit messages in all, counted when released), so the next
// SELECT of it reads one record (its HIGHESTMODSEQ) instead of the whole
// mailbox. A change that needs a whole read evicts a warm mailbox instead.
type hub struct {
	store     Store
	log       *slog.Logger
	warmLimit int           // messages kept in warm snapshots, in all
	catchUp   time.Duration // catchUpWait; longer in tests

	mu       sync.Mutex
	states   map[uint64]*mailboxState // held and warm
	warm     *list.List               // of *mailboxState, most recently released first
	warmMsgs int                      // messages in the warm snapshots

	sub  *mailbox.Subscription
	done chan struct{}

	recent recentFloors // \Recent claims on this node (recent.go)

	// watches are the node's NOTIFY sessions (notify.go); guarded by mu.
	watches map[*notifyWatch]struct{}

	// read counts the changes run has handled, so that a session can
	// wait until the hub has handled those of its own command
	// (awaitHandled); progress, when not nil, is closed at the next one.
	progressMu sync.Mutex
	read       uint64
	progress   chan struct{}
}

func newHub(store Store, log *slog.Logger, warmLimit int) *hub {
	h := &hub{store: store, log: log, warmLimit: warmLimit, catchUp: catchUpWait, states: map[uint64]*mailboxState{},
		warm: list.New(), done: make(chan struct{}), watches: map[*notifyWatch]struct{}{}}
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
		h.handle(c)
		h.progressMu.Lock()
		h.read++
		if h.progress != nil {
			close(h.progress)
			h.progress = nil
		}
		h.progressMu.Unlock()
	}
}

// awaitHandled waits, at most catchUpWait, until the hub has handled
// every change the feed had sent it when awaitHandled was called: after a
// command's proposal returned, the changes the command made.
func (h *hub) awaitHandled(ctx context.Context) {
	sent := h.sub.Sent()
	timer := time.NewTimer(h.catchUp)
	defer timer.Stop()
	for {
		h.progressMu.Lock()
		if h.read >= sent {
			h.progressMu.Unlock()
			return
		}
		if h.progress == nil {
			h.progress = make(chan struct{})
		}
		progress := h.progress
		h.progressMu.Unlock()
		select {
		case <-progress:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// handle hands one change of the feed to the NOTIFY sessions and to the
// snapshots it concerns.
func (h *hub) handle(c mailbox.Change) {
	h.offerWatches(c) // NOTIFY (notify.go)
	switch c.Kind {
	case mailbox.Reset:
		h.mu.Lock()
		var held []*mailboxState
		for _, m := range h.states {
			if m.refs > 0 {
				m.aclGen.Add(1) // an ACLChanged may be among the missed
				held = append(held, m)
			} else {
				h.evictLocked(m)
			}
		}
		h.mu.Unlock()
		for _, m := range held {
			h.queue(m, c)
			m.nudge() // an ACLChanged may be among the missed
		}
	case mailbox.ACLChanged:
		h.mu.Lock()
		m := h.states[c.MailboxID]
		if m != nil {
			m.aclGen.Add(1)
		}
		h.mu.Unlock()
		if m != nil {
			m.nudge() // idling sessions read their rights again
		}
	case mailbox.MessagesAdded, mailbox.FlagsChanged, mailbox.MessagesExpunged,
		mailbox.MailboxDeleted, mailbox.MailboxRenamed:
		h.mu.Lock()
		m := h.states[c.MailboxID]
		if m != nil && m.refs <= 0 && needsWholeRead(c) {
			// Warm: read whole when next acquired, if ever.
			h.evictLocked(m)
			m = nil
		}
		h.mu.Unlock()
		if m != nil {
			h.queue(m, c)
		}
	}
}

// needsWholeRead reports whether c cannot be applied to a snapshot by
// reading only the messages it names.
func needsWholeRead(c mailbox.Change) bool {
	switch c.Kind {
	case mailbox.MessagesAdded, mailbox.FlagsChanged, mailbox.MessagesExpunged:
		return c.UIDs == nil
	}
	return true
}

// queue hands c to m's refresher.
func (h *hub) queue(m *mailboxState, c mailbox.Change) {
	m.mu.Lock()
	if needsWholeRead(c) {
		m.whole, m.pending = true, nil
	} else if !m.whole {
		m.pending = append(m.pending, c)
	}
	m.mu.Unlock()
	h.kick(m)
}

// kick schedules a refresh of m; refreshes of one mailbox coalesce into
// one goroutine that applies the queued changes in order.
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
			changes, whole := m.pending, m.whole
			m.pending, m.whole = nil, false
			m.mu.Unlock()
			if err := m.apply(changes, whole); err != nil {
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
