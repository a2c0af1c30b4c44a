package mailbox

import (
	"bytes"
	"encoding/binary"
	"fmt"

	evlog "github.com/surat-mail/surat/log"
)

// QueueEntry returns the outbound queue entry with the id, or ErrNotFound.
func (s *Store) QueueEntry(id []byte) (*evlog.QueueRecord, error) {
	if len(id) != queueIDLen {
		return nil, fmt.Errorf("%w: queue id of %d bytes", ErrNotFound, len(id))
	}
	rec := new(evlog.QueueRecord)
	if err := s.point(func(r getter) error { return readRecord(r, queueKey(id), rec) }); err != nil {
		return nil, err
	}
	return rec, nil
}

// QueueEntries lists up to limit outbound queue entries (limit <= 0: all)
// in id order.
func (s *Store) QueueEntries(limit int) (out []*evlog.QueueRecord, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixQueue), prefixEnd([]byte(prefixQueue)), func(k, v []byte) (bool, error) {
			rec := new(evlog.QueueRecord)
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, fmt.Errorf("decode %q: %w", k, err)
			}
			out = append(out, rec)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: queue entries: %w", err)
	}
	return out, nil
}

// QueueLength counts the outbound queue entries.
func (s *Store) QueueLength() (n int, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixQueueDue), prefixEnd([]byte(prefixQueueDue)), func(_, _ []byte) (bool, error) {
			n++
			return true, nil
		})
	})
	return n, err
}

// DueQueueEntries lists up to limit entries whose next attempt is at or
// before now, earliest first (limit <= 0: all), from one consistent view.
func (s *Store) DueQueueEntries(now int64, limit int) (out []*evlog.QueueRecord, err error) {
	upper := binary.BigEndian.AppendUint64([]byte(prefixQueueDue), uint64(max(now, 0))+1)
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixQueueDue), upper, func(k, _ []byte) (bool, error) {
			id, err := parseQueueDueKey(k)
			if err != nil {
				return false, err
			}
			rec := new(evlog.QueueRecord)
			if err := readRecord(r, queueKey(bytes.Clone(id)), rec); err != nil {
				return false, fmt.Errorf("due entry %x: %w", id, err)
			}
			out = append(out, rec)
			return limit <= 0 || len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: due queue entries: %w", err)
	}
	return out, nil
}
