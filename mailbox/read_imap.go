package mailbox

import (
	"fmt"

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
