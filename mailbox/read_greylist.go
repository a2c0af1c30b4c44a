package mailbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// GreylistEntry is what the store knows of one greylisting triple.
type GreylistEntry struct {
	FirstSeen time.Time // the proposer's clock
	Expires   time.Time
	Passed    bool // a retry came after the delay
}

// Greylisted returns what is known of triple (16 bytes) at now; a triple
// that expired at or before now is unknown, whether or not it was pruned,
// so that every node judges it alike.
func (s *Store) Greylisted(triple []byte, now time.Time) (e GreylistEntry, ok bool, err error) {
	if len(triple) != GreylistTripleLen {
		return GreylistEntry{}, false, fmt.Errorf("mailbox: greylist triple of %d bytes", len(triple))
	}
	err = s.readDB(func(db *pebble.DB) error {
		v, closer, err := db.Get(greylistKey(triple))
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("mailbox: greylist look-up: %w", err)
		}
		defer closer.Close()
		g, err := decodeGreylist(v)
		if err != nil {
			return fmt.Errorf("mailbox: %w", err)
		}
		if g.expires <= now.Unix() {
			return nil
		}
		e, ok = GreylistEntry{FirstSeen: time.Unix(g.firstSeen, 0).UTC(), Expires: time.Unix(g.expires, 0).UTC(), Passed: g.passed}, true
		return nil
	})
	return e, ok, err
}

// NextGreylistExpiry is the earliest expiry of a stored triple (expired
// ones included until pruned); ok is false when there is none.
func (s *Store) NextGreylistExpiry() (at time.Time, ok bool, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixGreylistExpiry), prefixEnd([]byte(prefixGreylistExpiry)), func(k, _ []byte) (bool, error) {
			if len(k) < prefixLen+8 {
				return false, fmt.Errorf("mailbox: greylist expiry key %x", k)
			}
			at, ok = time.Unix(int64(binary.BigEndian.Uint64(k[prefixLen:])), 0).UTC(), true
			return false, nil
		})
	})
	return at, ok, err
}
