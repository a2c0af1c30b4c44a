package pop3

import (
	"slices"
	"strconv"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// seenFlag is the IMAP system flag RETR sets (RFC 9051 §2.3.2).
const seenFlag = `\Seen`

// maxRangesPerBatch keeps one proposal well under cluster.MaxProposalSize
// (1 MiB): a range encodes in at most 14 bytes.
const maxRangesPerBatch = 50_000

// entry is one message of the maildrop, as of login.
type entry struct {
	uid     uint32
	size    uint64
	blob    []byte // SHA-256 of the body
	seen    bool   // \Seen at login, or retrieved since
	deleted bool   // marked by DELE
}

// maildrop is the user's INBOX as of login (RFC 1939 §4): message numbers
// are indexes into msgs plus one, fixed for the session.
type maildrop struct {
	mailboxID   uint64
	uidValidity uint32
	msgs        []entry

	count int    // messages not marked deleted
	size  uint64 // their octets

	pendingSeen []uint32  // retrieved, \Seen not yet proposed
	firstSeen   time.Time // when the oldest pending change was made
}

// loadMaildrop reads the user's INBOX with one Messages scan.
func loadMaildrop(st Store, addr string) (*maildrop, error) {
	mb, err := st.MailboxByName(addr, "INBOX")
	if err != nil {
		return nil, err
	}
	md := &maildrop{mailboxID: mb.GetId(), uidValidity: mb.GetUidValidity(),
		msgs: make([]entry, 0, mb.GetMessages())}
	err = st.Messages(mb.GetId(), func(uid uint32, m *evlog.MessageRecord) bool {
		_, seen := slices.BinarySearch(m.GetFlags(), seenFlag) // stored flags are sorted
		md.msgs = append(md.msgs, entry{uid: uid, size: m.GetSize(), blob: m.GetBlob(), seen: seen})
		md.size += m.GetSize()
		return true
	})
	if err != nil {
		return nil, err
	}
	md.count = len(md.msgs)
	return md, nil
}

// get returns message number n (1-based) or the -ERR reply.
func (md *maildrop) get(n uint64, allowDeleted bool) (*entry, string) {
	if n < 1 || n > uint64(len(md.msgs)) {
		return nil, errNoSuchMessage
	}
	e := &md.msgs[n-1]
	if e.deleted && !allowDeleted {
		return nil, errDeleted
	}
	return e, ""
}

func (md *maildrop) markDeleted(e *entry) {
	e.deleted = true
	md.count--
	md.size -= e.size
}

// reset unmarks every deleted message (RSET, RFC 1939 §5).
func (md *maildrop) reset() {
	for i := range md.msgs {
		md.msgs[i].deleted = false
	}
	md.count = len(md.msgs)
	md.size = 0
	for _, e := range md.msgs {
		md.size += e.size
	}
}

// markSeen records that e was retrieved.
func (md *maildrop) markSeen(e *entry, now time.Time) {
	if e.seen {
		return
	}
	e.seen = true
	if len(md.pendingSeen) == 0 {
		md.firstSeen = now
	}
	md.pendingSeen = append(md.pendingSeen, e.uid)
}

// appendUIDL appends message e's unique-id (RFC 1939 §7: 1 to 70
// characters in 0x21..0x7E): "<uidvalidity>.<uid>", the same on every node
// and never reused.
func (md *maildrop) appendUIDL(b []byte, e *entry) []byte {
	b = strconv.AppendUint(b, uint64(md.uidValidity), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(e.uid), 10)
}

// seenRanges are the pending \Seen changes minus the UIDs in skip (about
// to be expunged in the same batch).
func (md *maildrop) seenRanges(skip map[uint32]bool) []*evlog.UidRange {
	var uids []uint32
	for _, u := range md.pendingSeen {
		if !skip[u] {
			uids = append(uids, u)
		}
	}
	return evlog.RangesOf(uids)
}

// deleted lists the UIDs marked deleted, in UID order.
func (md *maildrop) deleted() []uint32 {
	var out []uint32
	for _, e := range md.msgs {
		if e.deleted {
			out = append(out, e.uid)
		}
	}
	return out
}

func (md *maildrop) seenEvent(r []*evlog.UidRange) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_FlagsChanged{FlagsChanged: &evlog.FlagsChanged{
		MailboxId: md.mailboxID, Uids: r, Op: evlog.FlagOp_FLAG_OP_ADD, Flags: []string{seenFlag},
	}}}
}

func (md *maildrop) expungeEvent(r []*evlog.UidRange) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_Expunged{Expunged: &evlog.Expunged{MailboxId: md.mailboxID, Uids: r}}}
}

// seenBatches are the proposals of a \Seen flush.
func (md *maildrop) seenBatches() [][]*evlog.Event {
	return packBatches(md.seenRanges(nil), nil, md.seenEvent, md.expungeEvent)
}

// updateBatches are the proposals of the UPDATE state (RFC 1939 §6): the
// \Seen changes and one Expunged of every deleted message, as ONE batch;
// more only when the ranges would not fit one proposal.
func (md *maildrop) updateBatches() [][]*evlog.Event {
	del := md.deleted()
	skip := make(map[uint32]bool, len(del))
	for _, u := range del {
		skip[u] = true
	}
	return packBatches(md.seenRanges(skip), evlog.RangesOf(del), md.seenEvent, md.expungeEvent)
}

// packBatches puts the \Seen ranges and then the expunged ranges into as
// few batches as fit maxRangesPerBatch ranges each; nil if both are empty.
func packBatches(seen, expunged []*evlog.UidRange, seenEv, expungeEv func([]*evlog.UidRange) *evlog.Event) [][]*evlog.Event {
	var batches [][]*evlog.Event
	room := 0
	for _, part := range []struct {
		ranges []*evlog.UidRange
		mk     func([]*evlog.UidRange) *evlog.Event
	}{{seen, seenEv}, {expunged, expungeEv}} {
		for r := part.ranges; len(r) > 0; {
			if room == 0 {
				batches = append(batches, nil)
				room = maxRangesPerBatch
			}
			n := min(len(r), room)
			batches[len(batches)-1] = append(batches[len(batches)-1], part.mk(r[:n]))
			room -= n
			r = r[n:]
		}
	}
	return batches
}
