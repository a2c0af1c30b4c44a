package imap

import (
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
)

// \Recent (RFC 3501 §2.3.2, IMAP4rev1; RFC 9051 dropped it): a message is
// recent in the first session notified of it, and "if it is not possible
// to determine whether or not this session is the first session to be
// notified about a message, then that message SHOULD be considered
// recent". A replicated record of who saw what would cost a Raft write per
// SELECT; instead each node keeps, per mailbox, the highest UID a
// read-write session on it has claimed (recentFloors). A message is
// claimed by the first read-write session on the node that SELECTs the
// mailbox or is told of the message by a poll; sessions on other nodes,
// and every session after a restart or once the floor is forgotten, see
// it recent too, which the RFC's SHOULD allows. EXAMINE and STATUS count
// without claiming. Sessions that enabled IMAP4rev2 are not shown \Recent.

// maxRecentFloors bounds the floors a node keeps; past it one is
// forgotten (its mailbox's messages count as recent again).
const maxRecentFloors = 100_000

// recentFloors is the node's per-mailbox claimed-up-to UID.
type recentFloors struct {
	mu sync.Mutex
	m  map[uint64]uint32
}

// claim returns the mailbox's floor (0 when unknown) and raises it to
// upTo.
func (r *recentFloors) claim(mailboxID uint64, upTo uint32) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[uint64]uint32{}
	}
	prev, ok := r.m[mailboxID]
	if !ok && len(r.m) >= maxRecentFloors {
		for k := range r.m {
			delete(r.m, k)
			break
		}
	}
	if upTo > prev || !ok {
		r.m[mailboxID] = max(prev, upTo)
	}
	return prev
}

// floor is the mailbox's floor, 0 when unknown.
func (r *recentFloors) floor(mailboxID uint64) uint32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[mailboxID]
}

// recentSpan is the UIDs lo < uid <= hi.
type recentSpan struct{ lo, hi uint32 }

// recentSet is a session's recent UIDs, as the spans it claimed or saw.
type recentSet []recentSpan

func (r recentSet) has(uid uint32) bool {
	for _, s := range r {
		if uid > s.lo && uid <= s.hi {
			return true
		}
	}
	return false
}

// count is how many of uids are recent.
func (r recentSet) count(uids []uint32) uint32 {
	if len(r) == 0 {
		return 0
	}
	var n uint32
	for _, u := range uids {
		if r.has(u) {
			n++
		}
	}
	return n
}

// noteRecent records the UIDs above from up to upTo as recent for the
// session: for a read-write session it claims them on the node first, so
// only those no other session here claimed before are its own.
func (sel *selected) noteRecent(floors *recentFloors, from, upTo uint32) {
	if upTo <= from {
		return
	}
	lo := from
	if !sel.readOnly {
		lo = max(lo, floors.claim(sel.state.id, upTo))
	} else {
		lo = max(lo, floors.floor(sel.state.id))
	}
	if upTo > lo {
		sel.recent = append(sel.recent, recentSpan{lo, upTo})
	}
}

// withRecent adds \Recent to flags when uid is recent in the session.
func (sel *selected) withRecent(uid uint32, flags []imap.Flag) []imap.Flag {
	if sel.showRecent && sel.recent.has(uid) {
		return append(flags, `\Recent`)
	}
	return flags
}

// hasFlag is the SEARCH flag test: \Recent from the session's recent set
// (RECENT, NEW and OLD, RFC 3501 §6.4.4), the rest from the record.
func (c *candidate) hasFlag(f imap.Flag) bool {
	if strings.EqualFold(string(f), `\Recent`) {
		return c.sel.recent.has(c.uid)
	}
	return hasFlag(c.rec.GetFlags(), f)
}

// statusRecent is STATUS RECENT: the messages above the node's floor for
// mb, counted from UIDNEXT (exact unless messages above the floor were
// expunged, then at most MESSAGES).
func statusRecent(floors *recentFloors, mb *evlog.MailboxRecord) uint32 {
	top := mb.GetUidNext() - 1
	floor := floors.floor(mb.GetId())
	if mb.GetUidNext() == 0 || floor >= top {
		return 0
	}
	return min(top-floor, mb.GetMessages())
}
