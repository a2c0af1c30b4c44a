package mailbox

import (
	"slices"
	"sync"
	"sync/atomic"
)

// ChangeKind says what a Change is about.
type ChangeKind uint8

// Change kinds.
const (
	// MessagesAdded: delivery, append, copy or move into the mailbox.
	MessagesAdded ChangeKind = iota + 1
	// FlagsChanged: flags of messages in the mailbox changed.
	FlagsChanged
	// MessagesExpunged: messages left the mailbox (expunge, move, INBOX
	// rename).
	MessagesExpunged
	MailboxCreated
	MailboxRenamed
	MailboxDeleted
	// SubscriptionsChanged: the user's subscription list changed.
	SubscriptionsChanged
	// UserChanged: the account (password, quota, aliases) was created,
	// changed or deleted.
	UserChanged
	// DomainsChanged: the set of local domains changed.
	DomainsChanged
	// Reset: the subscriber may have missed changes (its buffer overflowed,
	// or the store was restored from a snapshot) and must resync.
	Reset
	// ACLChanged: the mailbox's ACL changed (AclSet, or a user named in
	// it was deleted); Address is the owner. Sessions of other users that
	// show the mailbox read their rights again.
	ACLChanged
	// MetadataChanged: an annotation of the mailbox (MailboxID 0: of the
	// server) changed (RFC 5464); Address is the user who set it.
	MetadataChanged
)

var changeKindNames = [...]string{
	MessagesAdded:        "messages-added",
	FlagsChanged:         "flags-changed",
	MessagesExpunged:     "messages-expunged",
	MailboxCreated:       "mailbox-created",
	MailboxRenamed:       "mailbox-renamed",
	MailboxDeleted:       "mailbox-deleted",
	SubscriptionsChanged: "subscriptions-changed",
	UserChanged:          "user-changed",
	DomainsChanged:       "domains-changed",
	Reset:                "reset",
	ACLChanged:           "acl-changed",
	MetadataChanged:      "metadata-changed",
}

func (k ChangeKind) String() string {
	if int(k) < len(changeKindNames) && changeKindNames[k] != "" {
		return changeKindNames[k]
	}
	return "unknown"
}

// Change tells sessions that state changed at a log index (docs/DESIGN.md,
// invariant 9). MailboxID is 0 for account-level changes; ModSeq is the
// mailbox's HIGHESTMODSEQ after the change, 0 when it does not apply.
type Change struct {
	Index     uint64
	MailboxID uint64
	Address   string
	// Mailbox is the mailbox's name when MailboxID is set (for logs;
	// readers go by MailboxID).
	Mailbox string
	ModSeq  uint64
	Kind    ChangeKind
	// UIDs are the messages a MessagesAdded, FlagsChanged or
	// MessagesExpunged change is about, ascending, so that a reader can
	// bring a copy of the mailbox up to date by reading only them. Nil
	// when they are not listed: the reader must read the whole mailbox.
	UIDs []uint32
}

// changeSet collects one proposal's changes, coalescing repeats of the same
// (kind, mailbox, address) into the first one with the latest modseq.
type changeSet struct {
	list []Change
	seen map[changeKey]int // index into list; lookups only
}

type changeKey struct {
	kind      ChangeKind
	mailboxID uint64
	address   string
}

func (c *changeSet) add(ch Change) {
	if c.seen == nil {
		c.seen = map[changeKey]int{}
	}
	k := changeKey{ch.Kind, ch.MailboxID, ch.Address}
	if i, ok := c.seen[k]; ok {
		c.list[i].ModSeq = max(c.list[i].ModSeq, ch.ModSeq)
		c.list[i].UIDs = mergeUIDs(c.list[i].UIDs, ch.UIDs)
		return
	}
	c.seen[k] = len(c.list)
	c.list = append(c.list, ch)
}

// mergeUIDs is the ascending union of two UID lists; nil (not listed) when
// either is.
func mergeUIDs(a, b []uint32) []uint32 {
	if a == nil || b == nil {
		return nil
	}
	out := make([]uint32, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Subscription receives Changes on C. Publishing never blocks: when C is
// full, changes are dropped and a Reset is queued instead, so a subscriber
// never misses a change without being told to resync.
type Subscription struct {
	// C delivers changes in log order; it is closed by Close or when the
	// store closes.
	C <-chan Change

	ch         chan Change
	address    string
	feed       *feed
	mu         sync.Mutex // guards sends and closing ch
	closed     bool
	overflowed atomic.Bool
	sent       atomic.Uint64 // changes sent on ch
}

// Sent is the number of changes sent on C so far. A subscriber that
// counts what it has read can tell when it has read everything published
// before a moment: every change of an entry is sent before a proposal of
// that entry returns on this node.
func (sub *Subscription) Sent() uint64 { return sub.sent.Load() }

// Overflowed reports whether any change was dropped because C was full.
// Each drop is followed by a Reset in C.
func (sub *Subscription) Overflowed() bool { return sub.overflowed.Load() }

// Close ends the subscription and closes C.
func (sub *Subscription) Close() {
	sub.feed.remove(sub)
	sub.shut()
}

func (sub *Subscription) shut() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if !sub.closed {
		sub.closed = true
		close(sub.ch)
	}
}

// deliver queues c without blocking. C has one slot more than the buffer:
// ordinary changes use at most buffer slots, so there is always room for
// the Reset that reports a drop (or one is already queued behind the
// changes the subscriber has yet to read).
func (sub *Subscription) deliver(c Change) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.closed {
		return
	}
	// Only deliver sends on ch, under mu, so len(ch) can only shrink
	// between this check and the send.
	if c.Kind != Reset && len(sub.ch) < cap(sub.ch)-1 {
		sub.ch <- c
		sub.sent.Add(1)
		return
	}
	if c.Kind != Reset {
		sub.overflowed.Store(true)
	}
	select {
	case sub.ch <- Change{Index: c.Index, Kind: Reset}:
		sub.sent.Add(1)
	default:
		// Full, so a Reset is already queued after the changes before
		// this one; reading it happens after c was committed.
	}
}

// feed fans changes out to subscriptions.
type feed struct {
	buffer int
	mu     sync.Mutex
	subs   []*Subscription
}

// Subscribe returns a subscription to changes concerning address (a user's
// canonical address), or to all changes when address is empty. Reset
// changes reach every subscription.
func (s *Store) Subscribe(address string) *Subscription {
	ch := make(chan Change, s.feed.buffer+1)
	sub := &Subscription{C: ch, ch: ch, address: address, feed: &s.feed}
	s.feed.mu.Lock()
	s.feed.subs = append(s.feed.subs, sub)
	s.feed.mu.Unlock()
	return sub
}

func (f *feed) remove(sub *Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i := slices.Index(f.subs, sub); i >= 0 {
		f.subs = slices.Delete(f.subs, i, i+1)
	}
}

func (f *feed) publish(changes []Change) {
	if len(changes) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, sub := range f.subs {
		for _, c := range changes {
			if c.Kind == Reset || sub.address == "" || sub.address == c.Address {
				sub.deliver(c)
			}
		}
	}
}

func (f *feed) closeAll() {
	f.mu.Lock()
	subs := f.subs
	f.subs = nil
	f.mu.Unlock()
	for _, sub := range subs {
		sub.shut()
	}
}
