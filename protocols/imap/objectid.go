package imap

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// Object identifiers (RFC 8474) and save dates (RFC 8514), derived from
// replicated state only, so that every node gives the same answer.
//
// MAILBOXID is "F" and 24 hex digits of SHA-256 over the mailbox's id and
// UIDVALIDITY: both are assigned by apply when the mailbox is created and
// kept by RENAME (RFC 8474 §4.1: a renamed mailbox keeps its MAILBOXID;
// INBOX's rename makes a new mailbox, and a new id), and hashing them keeps
// the id counter from showing (§9).
//
// EMAILID is "M" and 24 hex digits of the body's SHA-256 (the blob hash
// the message record names): it is the same in every mailbox the message
// is copied or moved to, on every node (§5.1), as Cyrus derives its
// EMAILID from the message's content GUID. Two deliveries of byte-for-byte
// the same message share it; their content is the same, which is what a
// client caches by EMAILID.
//
// THREADID is NIL (§5.2 allows a server without threads to return NIL),
// as Dovecot answers; SEARCH THREADID matches nothing.

// objectIDHex is how many hex digits of a hash an object id carries (96
// bits).
const objectIDHex = 24

// mailboxObjectID is the MAILBOXID of the mailbox with this id and
// UIDVALIDITY (RFC 8474 §4).
func mailboxObjectID(id uint64, uidValidity uint32) string {
	var in [len("surat mailboxid ") + 12]byte
	n := copy(in[:], "surat mailboxid ")
	binary.BigEndian.PutUint64(in[n:], id)
	binary.BigEndian.PutUint32(in[n+8:], uidValidity)
	sum := sha256.Sum256(in[:])
	return "F" + hex.EncodeToString(sum[:objectIDHex/2])
}

// mailboxIDOf is the MAILBOXID of the user's mailbox name; "" if it is
// gone.
func (s *session) mailboxIDOf(name string) string {
	mb, err := s.srv.cfg.Store.MailboxByName(s.user, name)
	if err != nil {
		return ""
	}
	return mailboxObjectID(mb.GetId(), mb.GetUidValidity())
}

// emailObjectID is the EMAILID of a message whose body has this hash
// (RFC 8474 §5.1); "" for a record without one.
func emailObjectID(blob []byte) string {
	if len(blob) < objectIDHex/2 {
		return ""
	}
	return "M" + hex.EncodeToString(blob[:objectIDHex/2])
}

// saveDate is the message's SAVEDATE (RFC 8514 §4): when it entered this
// mailbox, stamped by the proposer of the APPEND, COPY or MOVE that put it
// there; a delivered message's (and one stored before save dates were
// kept) is its internal date, the moment it arrived.
func saveDate(m *evlog.MessageRecord) time.Time {
	if t := m.GetSavedUnix(); t != 0 {
		return time.Unix(t, 0)
	}
	return internalDate(m)
}
