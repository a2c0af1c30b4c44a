package sortthread

import (
	"slices"
	"strings"
)

// Key is a SORT criterion (RFC 5256 §3, RFC 5957 §3).
type Key uint8

const (
	Arrival     Key = iota + 1 // INTERNALDATE
	Cc                         // addr-mailbox of the first Cc address
	Date                       // sent date (§2.2)
	From                       // addr-mailbox of the first From address
	Size                       // RFC822.SIZE
	Subject                    // base subject (§2.1)
	To                         // addr-mailbox of the first To address
	DisplayFrom                // display name of the first From address (RFC 5957)
	DisplayTo                  // display name of the first To address (RFC 5957)
)

var keyNames = map[string]Key{
	"ARRIVAL": Arrival, "CC": Cc, "DATE": Date, "FROM": From, "SIZE": Size,
	"SUBJECT": Subject, "TO": To, "DISPLAYFROM": DisplayFrom, "DISPLAYTO": DisplayTo,
}

// ParseKey returns the Key named name (case-insensitive).
func ParseKey(name string) (Key, bool) {
	k, ok := keyNames[strings.ToUpper(name)]
	return k, ok
}

func (k Key) String() string {
	for name, v := range keyNames {
		if v == k {
			return name
		}
	}
	return "?"
}

// NeedsHeader reports whether sorting by k reads the message header.
func (k Key) NeedsHeader() bool { return k != Arrival && k != Size }

// Criterion is one sort key, REVERSE or not.
type Criterion struct {
	Key     Key
	Reverse bool
}

// Message is one message to sort or thread. Messages are given in
// mailbox order, which breaks ties.
type Message struct {
	// ID is what the answer holds: a sequence number or a UID.
	ID uint32
	// Arrival is the INTERNALDATE, Unix seconds.
	Arrival int64
	Size    uint64
	// Summary is the header's; nil is an empty header (it may be nil
	// when no criterion reads the header).
	Summary *Summary
}

var emptySummary = &Summary{}

func (m *Message) summary() *Summary {
	if m.Summary == nil {
		return emptySummary
	}
	return m.Summary
}

// sent is the sent date, or the internal date when there is none (RFC
// 5256 §2.2).
func (m *Message) sent() int64 {
	if s := m.summary(); s.HasSent {
		return s.Sent
	}
	return m.Arrival
}

// Sort returns the IDs of msgs ordered by criteria (RFC 5256 §3, SORT):
// each criterion breaks the ties of the ones before it, REVERSE reverses
// its own criterion only, and messages equal by every criterion keep
// their order in msgs (their mailbox order).
func Sort(msgs []Message, criteria []Criterion) []uint32 {
	order := make([]int32, len(msgs))
	for i := range order {
		order[i] = int32(i)
	}
	// Keys are taken out of the messages first, into arrays per
	// criterion, so that comparing touches no pointers.
	type column struct {
		nums    []int64
		strs    []string
		reverse bool
	}
	cols := make([]column, 0, len(criteria))
	for _, c := range criteria {
		col := column{reverse: c.Reverse}
		switch c.Key {
		case Arrival, Date, Size:
			col.nums = make([]int64, len(msgs))
			for i := range msgs {
				m := &msgs[i]
				switch c.Key {
				case Arrival:
					col.nums[i] = m.Arrival
				case Date:
					col.nums[i] = m.sent()
				default:
					col.nums[i] = int64(min(m.Size, 1<<62))
				}
			}
		default:
			col.strs = make([]string, len(msgs))
			for i := range msgs {
				s := msgs[i].summary()
				switch c.Key {
				case Cc:
					col.strs[i] = s.Cc
				case From:
					col.strs[i] = s.From
				case Subject:
					col.strs[i] = s.Subject
				case To:
					col.strs[i] = s.To
				case DisplayFrom:
					col.strs[i] = s.DisplayFrom
				case DisplayTo:
					col.strs[i] = s.DisplayTo
				}
			}
		}
		cols = append(cols, col)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		for _, col := range cols {
			r := 0
			if col.nums != nil {
				r = cmpInt(col.nums[a], col.nums[b])
			} else {
				r = strings.Compare(col.strs[a], col.strs[b])
			}
			if r != 0 {
				if col.reverse {
					return -r
				}
				return r
			}
		}
		return 0 // stable: mailbox order
	})
	ids := make([]uint32, len(order))
	for i, j := range order {
		ids[i] = msgs[j].ID
	}
	return ids
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
