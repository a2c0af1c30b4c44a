package mailbox

import (
	"encoding/binary"
	"fmt"

	evlog "github.com/surat-mail/surat/log"
)

// Greylisting (protocols/spam/greylist): triples the MX saw, each named by
// 16 bytes the proposer hashed, with when it was first seen, until when it
// is kept and whether a retry passed. Expiry, like a ban's, is stamped by
// the proposer and judged at read time; GreylistPruned, from the leader's
// pruner, only keeps the table bounded.
const (
	prefixGreylist       = "gry/"
	prefixGreylistExpiry = "gre/"
	// GreylistTripleLen is the length of a triple's name.
	GreylistTripleLen = 16
	// MaxGreylistTriples bounds the triples of one GreylistRecorded (a
	// message's recipients, and its known-sender record).
	MaxGreylistTriples = 1000
	// greylistValueLen: first-seen u64, expires u64, passed u8.
	greylistValueLen = 17
)

type greylistEntry struct {
	firstSeen, expires int64
	passed             bool
}

func (g greylistEntry) encode() []byte {
	v := make([]byte, 0, greylistValueLen)
	v = binary.BigEndian.AppendUint64(v, uint64(g.firstSeen))
	v = binary.BigEndian.AppendUint64(v, uint64(g.expires))
	if g.passed {
		return append(v, 1)
	}
	return append(v, 0)
}

func decodeGreylist(v []byte) (greylistEntry, error) {
	if len(v) != greylistValueLen || v[16] > 1 {
		return greylistEntry{}, fmt.Errorf("greylist value of %d bytes", len(v))
	}
	return greylistEntry{firstSeen: int64(binary.BigEndian.Uint64(v)), expires: int64(binary.BigEndian.Uint64(v[8:])),
		passed: v[16] == 1}, nil
}

func greylistKey(triple []byte) []byte { return append([]byte(prefixGreylist), triple...) }

func greylistExpiryKey(expires int64, triple []byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixGreylistExpiry), uint64(max(expires, 0)))
	return append(k, triple...)
}

func (t *txn) greylistRecorded(e *evlog.GreylistRecorded) (*evlog.EventResult, error) {
	seen, expires := e.GetSeenUnix(), e.GetExpiresUnix()
	switch {
	case len(e.GetTriples()) == 0 || len(e.GetTriples()) > MaxGreylistTriples:
		return nil, refuse(errInvalid, "greylist: %d triples (1 to %d)", len(e.GetTriples()), MaxGreylistTriples)
	case seen < 0 || expires <= seen:
		return nil, refuse(errInvalid, "greylist: seen %d, expires %d", seen, expires)
	}
	for _, tr := range e.GetTriples() {
		if len(tr) != GreylistTripleLen {
			return nil, refuse(errInvalid, "greylist: a triple of %d bytes", len(tr))
		}
	}
	for _, tr := range e.GetTriples() {
		cur := greylistEntry{firstSeen: seen, expires: expires, passed: e.GetPassed()}
		v, ok, err := t.get(greylistKey(tr))
		if err != nil {
			return nil, err
		}
		if ok {
			old, err := decodeGreylist(v)
			if err != nil {
				return nil, fmt.Errorf("stored %w", err)
			}
			if old.expires > seen {
				// Still known: merged, so that the order in which two
				// nodes' records commit does not matter.
				cur = greylistEntry{firstSeen: min(old.firstSeen, seen), expires: max(old.expires, expires),
					passed: old.passed || cur.passed}
			}
			if cur == old {
				continue
			}
			if err := t.del(greylistExpiryKey(old.expires, tr)); err != nil {
				return nil, err
			}
		}
		if err := t.put(greylistKey(tr), cur.encode()); err != nil {
			return nil, err
		}
		if err := t.put(greylistExpiryKey(cur.expires, tr), nil); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// greylistPruned forgets the triples that expired at or before now_unix,
// in expiry order through the gre/ index.
func (t *txn) greylistPruned(e *evlog.GreylistPruned) (*evlog.EventResult, error) {
	if e.GetNowUnix() < 0 {
		return nil, refuse(errInvalid, "prune time before the epoch")
	}
	upper := binary.BigEndian.AppendUint64([]byte(prefixGreylistExpiry), uint64(e.GetNowUnix())+1)
	expired, err := t.scan([]byte(prefixGreylistExpiry), upper)
	if err != nil {
		return nil, err
	}
	for _, x := range expired {
		if len(x.key) != prefixLen+8+GreylistTripleLen {
			return nil, fmt.Errorf("greylist expiry key %x", x.key)
		}
		if err := t.del(greylistKey(x.key[prefixLen+8:])); err != nil {
			return nil, err
		}
		if err := t.del(x.key); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
