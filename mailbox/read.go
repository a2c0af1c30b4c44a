package mailbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// messagePage is how many messages Messages reads per consistent view.
const messagePage = 512

// reader is a consistent view of the store (a Pebble snapshot).
type reader interface {
	getter
	iterable
}

// point runs fn, which reads ONE key, on the database itself: a single Get
// is atomic without a snapshot, and a Pebble snapshot is not free (opening
// and closing one takes the database mutex, and closing one may schedule a
// compaction), which matters for FETCH's thousands of record and chunk reads.
func (s *Store) point(fn func(r getter) error) error {
	return s.readDB(func(db *pebble.DB) error { return fn(db) })
}

// view runs fn on a snapshot, so multi-key reads agree with each other.
func (s *Store) view(fn func(r reader) error) error {
	return s.readDB(func(db *pebble.DB) error {
		snap := db.NewSnapshot()
		defer snap.Close()
		return fn(snap)
	})
}

func readValue(r getter, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("mailbox: get %q: %w", key, err)
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}

// readRecord decodes the record at key, or returns ErrNotFound.
func readRecord(r getter, key []byte, m proto.Message) error {
	v, ok, err := readValue(r, key)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	if err := evlog.UnmarshalRecord(v, m); err != nil {
		return fmt.Errorf("mailbox: decode %q: %w", key, err)
	}
	return nil
}

// suffixes lists the rest of every key under prefix, in key order.
func suffixes(r iterable, prefix []byte) ([]string, error) {
	var out []string
	err := scanRange(r, prefix, prefixEnd(prefix), func(k, _ []byte) (bool, error) {
		out = append(out, string(bytes.TrimPrefix(k, prefix)))
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: list %q: %w", prefix, err)
	}
	return out, nil
}

// Domains lists the local domains in order.
func (s *Store) Domains() (out []string, err error) {
	err = s.view(func(r reader) error {
		out, err = suffixes(r, []byte(prefixDomain))
		return err
	})
	return out, err
}

// IsLocalDomain reports whether mail for domain is delivered here.
func (s *Store) IsLocalDomain(domain string) (ok bool, err error) {
	err = s.view(func(r reader) error {
		_, ok, err = readValue(r, domainKey(domain))
		return err
	})
	return ok, err
}

// User returns the account with the canonical address, or ErrNotFound.
func (s *Store) User(address string) (*evlog.UserRecord, error) {
	u := new(evlog.UserRecord)
	if err := s.point(func(r getter) error { return readRecord(r, userKey(address), u) }); err != nil {
		return nil, err
	}
	return u, nil
}

// Users lists every account's address in order.
func (s *Store) Users() (out []string, err error) {
	err = s.view(func(r reader) error {
		out, err = suffixes(r, []byte(prefixUser))
		return err
	})
	return out, err
}

// ResolveAddress maps a canonical address to the user that receives its
// mail: an alias to its target, a user to itself; else ErrNotFound.
func (s *Store) ResolveAddress(address string) (user string, err error) {
	err = s.view(func(r reader) error {
		if _, ok, err := readValue(r, userKey(address)); err != nil || ok {
			user = address
			return err
		}
		target, ok, err := readValue(r, aliasKey(address))
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		user = string(target)
		return nil
	})
	if err != nil {
		return "", err
	}
	return user, nil
}

// Aliases lists the aliases that point at user, in order.
func (s *Store) Aliases(user string) (out []string, err error) {
	err = s.view(func(r reader) error {
		out, err = suffixes(r, aliasByTargetPrefix(user))
		return err
	})
	return out, err
}

// Mailboxes lists the user's mailboxes sorted by name (bytewise).
func (s *Store) Mailboxes(address string) (out []*evlog.MailboxRecord, err error) {
	err = s.view(func(r reader) error {
		var ids []uint64
		err := scanRange(r, mailboxByNamePrefix(address), prefixEnd(mailboxByNamePrefix(address)), func(_, v []byte) (bool, error) {
			ids = append(ids, decodeMailboxID(v))
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("mailbox: list mailboxes of %s: %w", address, err)
		}
		for _, id := range ids {
			mb := new(evlog.MailboxRecord)
			if err := readRecord(r, mailboxKey(id), mb); err != nil {
				return fmt.Errorf("mailbox %d of %s: %w", id, address, err)
			}
			out = append(out, mb)
		}
		return nil
	})
	return out, err
}

// MailboxByName returns the user's mailbox with the name (INBOX is
// case-insensitive, RFC 9051 §5.1), or ErrNotFound.
func (s *Store) MailboxByName(address, name string) (*evlog.MailboxRecord, error) {
	canon, err := canonicalMailboxName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	mb := new(evlog.MailboxRecord)
	err = s.view(func(r reader) error {
		v, ok, err := readValue(r, mailboxByNameKey(address, canon))
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		return readRecord(r, mailboxKey(decodeMailboxID(v)), mb)
	})
	if err != nil {
		return nil, err
	}
	return mb, nil
}

// Mailbox returns the mailbox with the id, or ErrNotFound.
func (s *Store) Mailbox(id uint64) (*evlog.MailboxRecord, error) {
	mb := new(evlog.MailboxRecord)
	if err := s.point(func(r getter) error { return readRecord(r, mailboxKey(id), mb) }); err != nil {
		return nil, err
	}
	return mb, nil
}

// Subscriptions lists the user's subscribed names in order; they need not
// exist as mailboxes (RFC 9051 §6.3.7).
func (s *Store) Subscriptions(address string) (out []string, err error) {
	err = s.view(func(r reader) error {
		out, err = suffixes(r, subscriptionPrefix(address))
		return err
	})
	return out, err
}

// Message returns one message, or ErrNotFound.
func (s *Store) Message(mailboxID uint64, uid uint32) (*evlog.MessageRecord, error) {
	m := new(evlog.MessageRecord)
	if err := s.point(func(r getter) error { return readRecord(r, messageKey(mailboxID, uid), m) }); err != nil {
		return nil, err
	}
	return m, nil
}

// Messages calls fn for each message of the mailbox in UID order until fn
// returns false. fn runs without the store's lock, so it may call other
// Store methods. Messages are read in pages, each from one consistent
// view; a change applied between pages shows in the later pages only.
func (s *Store) Messages(mailboxID uint64, fn func(uid uint32, m *evlog.MessageRecord) bool) error {
	return s.messagesBetween(mailboxID, 1, ^uint32(0), fn)
}

// MessagesInRange is Messages restricted to the UID ranges; it scans only
// the messages that exist, however wide the ranges.
func (s *Store) MessagesInRange(mailboxID uint64, ranges []*evlog.UidRange, fn func(uid uint32, m *evlog.MessageRecord) bool) error {
	if len(ranges) == 0 {
		return nil
	}
	spans, err := normalizeRanges(ranges)
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	for _, sp := range spans {
		stop := false
		err := s.messagesBetween(mailboxID, sp.first, sp.last, func(uid uint32, m *evlog.MessageRecord) bool {
			if !fn(uid, m) {
				stop = true
			}
			return !stop
		})
		if err != nil || stop {
			return err
		}
	}
	return nil
}

func (s *Store) messagesBetween(mailboxID uint64, first, last uint32, fn func(uint32, *evlog.MessageRecord) bool) error {
	upper := keyAfter(messageKey(mailboxID, last))
	for next := uint64(first); next <= uint64(last); {
		var page []message
		err := s.view(func(r reader) error {
			return scanRange(r, messageKey(mailboxID, uint32(next)), upper, func(k, v []byte) (bool, error) {
				uid, err := parseMessageKey(k)
				if err != nil {
					return false, err
				}
				rec := new(evlog.MessageRecord)
				if err := evlog.UnmarshalRecord(v, rec); err != nil {
					return false, fmt.Errorf("decode message %d/%d: %w", mailboxID, uid, err)
				}
				page = append(page, message{uid, rec})
				return len(page) < messagePage, nil
			})
		})
		if err != nil {
			return fmt.Errorf("mailbox: messages of %d: %w", mailboxID, err)
		}
		for _, m := range page {
			if !fn(m.uid, m.rec) {
				return nil
			}
		}
		if len(page) < messagePage {
			return nil
		}
		next = uint64(page[len(page)-1].uid) + 1
	}
	return nil
}

// BlobInfo returns a body's record (size, chunks, references), or
// ErrNotFound.
func (s *Store) BlobInfo(hash []byte) (*evlog.BlobRecord, error) {
	rec := new(evlog.BlobRecord)
	if err := s.point(func(r getter) error { return readRecord(r, blobKey(hash), rec) }); err != nil {
		return nil, err
	}
	return rec, nil
}

// UnreferencedBlobs lists up to limit hashes of bodies that no message
// references, that were last stored or dereferenced before the index and
// that are not pinned at now (Unix seconds): the candidates a collector
// names in BlobsCollected.
func (s *Store) UnreferencedBlobs(touchedBefore uint64, now int64, limit int) (out [][]byte, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixBlob), prefixEnd([]byte(prefixBlob)), func(k, v []byte) (bool, error) {
			rec := new(evlog.BlobRecord)
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, fmt.Errorf("decode %q: %w", k, err)
			}
			if rec.GetRefs() == 0 && rec.GetTouchedIndex() < touchedBefore && !pinnedAt(rec, now) {
				out = append(out, bytes.Clone(k[prefixLen:]))
			}
			return limit <= 0 || len(out) < limit, nil
		})
	})
	return out, err
}

// UploadsPinnedBefore counts the staged uploads (ChunkStaged) pinned
// until before the time (Unix seconds): those a collector with that clock
// expires. math.MaxInt64 counts every upload in progress.
func (s *Store) UploadsPinnedBefore(before int64) (n int, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixUpload), prefixEnd([]byte(prefixUpload)), func(k, v []byte) (bool, error) {
			rec := new(evlog.UploadRecord)
			if err := evlog.UnmarshalRecord(v, rec); err != nil {
				return false, fmt.Errorf("decode %q: %w", k, err)
			}
			if rec.GetPinnedUntilUnix() < before {
				n++
			}
			return true, nil
		})
	})
	return n, err
}

// Blob returns a complete body, or ErrNotFound.
func (s *Store) Blob(hash []byte) (body []byte, err error) {
	err = s.view(func(r reader) error {
		rec := new(evlog.BlobRecord)
		if err := readRecord(r, blobKey(hash), rec); err != nil {
			return err
		}
		if rec.GetStored() < rec.GetChunks() {
			return fmt.Errorf("%w: blob %x has %d of %d chunks", ErrNotFound, hash, rec.GetStored(), rec.GetChunks())
		}
		body = make([]byte, 0, rec.GetSize())
		return scanRange(r, chunkPrefix(hash), prefixEnd(chunkPrefix(hash)), func(_, v []byte) (bool, error) {
			body = append(body, v...)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return body, nil
}

// BlobReader streams a complete body chunk by chunk, reading each chunk
// when needed; it fails if the body is collected while being read.
func (s *Store) BlobReader(hash []byte) (io.ReadCloser, error) {
	rec, err := s.BlobInfo(hash)
	if err != nil {
		return nil, err
	}
	if rec.GetStored() < rec.GetChunks() {
		return nil, fmt.Errorf("%w: blob %x has %d of %d chunks", ErrNotFound, hash, rec.GetStored(), rec.GetChunks())
	}
	return &blobReader{s: s, hash: bytes.Clone(hash), chunks: rec.GetChunks()}, nil
}

type blobReader struct {
	s      *Store
	hash   []byte
	chunks uint32
	next   uint32
	buf    []byte
}

func (b *blobReader) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.next >= b.chunks {
			return 0, io.EOF
		}
		err := b.s.point(func(r getter) error {
			v, ok, err := readValue(r, chunkKey(b.hash, b.next))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: blob %x chunk %d", ErrNotFound, b.hash, b.next)
			}
			b.buf = v
			return nil
		})
		if err != nil {
			return 0, err
		}
		b.next++
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *blobReader) Close() error { return nil }

// Domain returns the local domain's record with its DKIM keys (in
// selector order), or ErrNotFound. The keys hold private keys: callers
// must not log them nor pass them on.
func (s *Store) Domain(name string) (*evlog.DomainRecord, error) {
	rec := new(evlog.DomainRecord)
	err := s.view(func(r reader) error {
		if err := readRecord(r, domainKey(name), rec); err != nil {
			return err
		}
		rec.Domain = name // a domain added before records has an empty value
		rec.DkimKeys = nil
		p := dkimKeyPrefix(name)
		return scanRange(r, p, prefixEnd(p), func(k, v []byte) (bool, error) {
			key := new(evlog.DkimKey)
			if err := evlog.UnmarshalRecord(v, key); err != nil {
				return false, fmt.Errorf("mailbox: decode %q: %w", k, err)
			}
			rec.DkimKeys = append(rec.DkimKeys, key)
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// DomainSettings returns the local domain's record without its keys (one
// read, for per-message questions such as DMARC enforcement), or
// ErrNotFound.
func (s *Store) DomainSettings(name string) (*evlog.DomainRecord, error) {
	rec := new(evlog.DomainRecord)
	if err := s.point(func(r getter) error { return readRecord(r, domainKey(name), rec) }); err != nil {
		return nil, err
	}
	rec.Domain = name // a domain added before records has an empty value
	return rec, nil
}
