package mailbox

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	evlog "github.com/surat-mail/surat/log"
)

// MailboxSnapshot reads a mailbox record and every one of its messages from
// ONE consistent view, so that the UIDs, flags and modseqs a caller sees
// belong to the same log position as the record's HIGHESTMODSEQ. IMAP
// sessions diff successive snapshots into EXISTS, EXPUNGE and FETCH FLAGS
// updates (RFC 9051 §7.4), which is only sound when no snapshot mixes two
// states. fn is called in UID order while the store's read lock is held: it
// must not call Store methods. Returns ErrNotFound when the mailbox does not
// exist. Reads only; it is part of the read side like read.go.
func (s *Store) MailboxSnapshot(id uint64, fn func(uid uint32, m *evlog.MessageRecord)) (*evlog.MailboxRecord, error) {
	mb := new(evlog.MailboxRecord)
	err := s.view(func(r reader) error {
		if err := readRecord(r, mailboxKey(id), mb); err != nil {
			return err
		}
		return scanRange(r, messagePrefix(id), prefixEnd(messagePrefix(id)), func(k, v []byte) (bool, error) {
			uid, err := parseMessageKey(k)
			if err != nil {
				return false, err
			}
			rec := new(evlog.MessageRecord)
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, fmt.Errorf("decode message %d/%d: %w", id, uid, err)
			}
			fn(uid, rec)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return mb, nil
}

// BlobPrefix reads a complete body's chunks in order from ONE consistent
// view, calling stop with everything read so far after each chunk, and
// ends early when stop returns true: an IMAP server reads a message's
// header block without reading its whole body. complete reports that the
// whole body was read. Returns ErrNotFound like Blob. Reads only.
func (s *Store) BlobPrefix(hash []byte, stop func(prefix []byte) bool) (prefix []byte, complete bool, err error) {
	err = s.view(func(r reader) error {
		prefix, complete, err = blobPrefix(r, hash, stop)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return prefix, complete, nil
}

func blobPrefix(r reader, hash []byte, stop func(prefix []byte) bool) (prefix []byte, complete bool, err error) {
	rec := new(evlog.BlobRecord)
	if err := readRecord(r, blobKey(hash), rec); err != nil {
		return nil, false, err
	}
	if rec.GetStored() < rec.GetChunks() {
		return nil, false, fmt.Errorf("%w: blob %x has %d of %d chunks", ErrNotFound, hash, rec.GetStored(), rec.GetChunks())
	}
	for i := uint32(0); i < rec.GetChunks(); i++ {
		v, ok, err := readValue(r, chunkKey(hash, i))
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, fmt.Errorf("%w: blob %x chunk %d", ErrNotFound, hash, i)
		}
		if prefix == nil {
			prefix = v // readValue returns a copy
		} else {
			prefix = append(prefix, v...)
		}
		if i+1 < rec.GetChunks() && stop(prefix) {
			return prefix, false, nil
		}
	}
	return prefix, true, nil
}

// BlobPrefixes is BlobPrefix for several bodies under ONE consistent view
// (one Pebble snapshot for a whole FETCH batch rather than one per
// message): fn is called for each hash in order with what BlobPrefix would
// return. fn runs while the store's read lock is held: it must not call
// Store methods. Reads only.
func (s *Store) BlobPrefixes(hashes [][]byte, stop func(prefix []byte) bool, fn func(i int, prefix []byte, complete bool, err error)) error {
	return s.view(func(r reader) error {
		for i, hash := range hashes {
			prefix, complete, err := blobPrefix(r, hash, stop)
			fn(i, prefix, complete, err)
		}
		return nil
	})
}

// Bodies reads whole bodies for several hashes with ONE Pebble iterator,
// calling fn for each hash in order with the body (all its chunks) or an
// error (ErrNotFound for a body that is gone or incomplete). An IMAP FETCH
// of many small bodies uses it a batch at a time: seeking a reused
// iterator costs a fraction of a Get, which sets up its per-level
// iterators anew every time. The iterator reads one point-in-time view.
// fn runs while the store's read lock is held: it must not call Store
// methods. Reads only.
func (s *Store) Bodies(hashes [][]byte, fn func(i int, body []byte, err error)) error {
	return s.readDB(func(db *pebble.DB) (err error) {
		it, err := db.NewIter(nil)
		if err != nil {
			return fmt.Errorf("mailbox: bodies: new iterator: %w", err)
		}
		defer func() {
			if cerr := it.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("mailbox: bodies: close iterator: %w", cerr)
			}
		}()
		for i, hash := range hashes {
			body, err := iterBody(it, hash)
			fn(i, body, err)
		}
		return nil
	})
}

// seekValue positions it at key and returns a copy of its value; ok is
// false when key is absent.
func seekValue(it *pebble.Iterator, key []byte) (v []byte, ok bool, err error) {
	if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
		if err := it.Error(); err != nil {
			return nil, false, fmt.Errorf("mailbox: seek %q: %w", key, err)
		}
		return nil, false, nil
	}
	v, err = it.ValueAndErr()
	if err != nil {
		return nil, false, fmt.Errorf("mailbox: read %q: %w", key, err)
	}
	return v, true, nil
}

func iterBody(it *pebble.Iterator, hash []byte) ([]byte, error) {
	v, ok, err := seekValue(it, blobKey(hash))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: blob %x", ErrNotFound, hash)
	}
	rec := new(evlog.BlobRecord)
	if err := evlog.UnmarshalRecord(v, rec); err != nil {
		return nil, fmt.Errorf("mailbox: decode blob %x: %w", hash, err)
	}
	if rec.GetStored() < rec.GetChunks() {
		return nil, fmt.Errorf("%w: blob %x has %d of %d chunks", ErrNotFound, hash, rec.GetStored(), rec.GetChunks())
	}
	body := make([]byte, 0, rec.GetSize())
	for c := range rec.GetChunks() {
		v, ok, err := seekValue(it, chunkKey(hash, c))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: blob %x chunk %d", ErrNotFound, hash, c)
		}
		body = append(body, v...)
	}
	return body, nil
}
