package mailbox

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	evlog "github.com/surat-mail/surat/log"
)

// Annotations (event 141, RFC 5464 METADATA). A scope is a mailbox's
// shared entries (mailbox id 0: the server's), or one user's private
// entries on a mailbox (0: the user's server entries); each holds at most
// MaxMetadataEntries entries and MaxMetadataBytes bytes of names and
// values, each value at most MaxMetadataValueBytes. These limits are part
// of apply's semantics: every node refuses alike, and raising them later
// changes nothing for entries already applied.
const (
	prefixMetadataShared  = "mds/"
	prefixMetadataPrivate = "mdp/"

	// MaxMetadataValueBytes bounds one value (METADATA_MAXSIZE past it:
	// the dispatcher answers NO [METADATA MAXSIZE 65536], RFC 5464 §4.3).
	MaxMetadataValueBytes = 64 << 10
	// MaxMetadataEntries and MaxMetadataBytes bound a scope
	// (METADATA_TOOMANY: NO [METADATA TOOMANY]).
	MaxMetadataEntries = 128
	MaxMetadataBytes   = 256 << 10
	// MaxMetadataEntryLen bounds an entry name.
	MaxMetadataEntryLen = 512

	metadataPrivate = "/private/"
	metadataShared  = "/shared/"
)

var (
	errMetadataMaxSize = evlog.ErrorCode_ERROR_CODE_METADATA_MAXSIZE
	errMetadataTooMany = evlog.ErrorCode_ERROR_CODE_METADATA_TOOMANY
)

func metadataSharedPrefix(mailboxID uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixMetadataShared), mailboxID)
}

func metadataUserPrefix(user string) []byte {
	return []byte(prefixMetadataPrivate + user + "\x00")
}

func metadataPrivatePrefix(user string, mailboxID uint64) []byte {
	return binary.BigEndian.AppendUint64(metadataUserPrefix(user), mailboxID)
}

// metadataScope is the prefix of the scope an entry belongs to.
func metadataScope(user string, mailboxID uint64, entry string) []byte {
	if strings.HasPrefix(entry, metadataPrivate) {
		return metadataPrivatePrefix(user, mailboxID)
	}
	return metadataSharedPrefix(mailboxID)
}

// CanonicalMetadataEntry checks an entry name as RFC 5464 §3.2 requires
// and returns its stored form, ASCII letters lower-cased (entry names
// are compared case-insensitively, as Dovecot does): "/private/" or
// "/shared/" then one or more components separated by "/", none empty,
// no "*" or "%" (LIST wildcards), no control character, UTF-8, at most
// MaxMetadataEntryLen octets.
func CanonicalMetadataEntry(entry string) (string, error) {
	if len(entry) > MaxMetadataEntryLen || !utf8.ValidString(entry) {
		return "", fmt.Errorf("metadata entry %q: at most %d octets of UTF-8", entry, MaxMetadataEntryLen)
	}
	b := []byte(entry)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c < 0x20 || c == 0x7f || c == '*' || c == '%':
			return "", fmt.Errorf("metadata entry %q holds %q (RFC 5464 §3.2)", entry, c)
		}
	}
	canon := string(b)
	rest, ok := strings.CutPrefix(canon, metadataPrivate)
	if !ok {
		rest, ok = strings.CutPrefix(canon, metadataShared)
	}
	if !ok || rest == "" || strings.HasPrefix(rest, "/") || strings.HasSuffix(rest, "/") || strings.Contains(rest, "//") {
		return "", fmt.Errorf("metadata entry %q: /private/ or /shared/ then names separated by single slashes (RFC 5464 §3.2)", entry)
	}
	return canon, nil
}

// metadataSet implements SETMETADATA for one entry (RFC 5464 §4.3).
func (t *txn) metadataSet(e *evlog.MetadataSet) (*evlog.EventResult, error) {
	entry, err := CanonicalMetadataEntry(e.GetEntry())
	if err != nil {
		return nil, refuse(errInvalid, "%v", err)
	}
	user := e.GetUser()
	if user != "" {
		if _, err := t.loadUser(user); err != nil {
			return nil, err
		}
	} else if strings.HasPrefix(entry, metadataPrivate) {
		return nil, refuse(errInvalid, "private metadata entry %q without a user", entry)
	}
	res := &evlog.EventResult{}
	owner := user
	if id := e.GetMailboxId(); id != 0 {
		mb, err := t.loadMailbox(id)
		if err != nil {
			return nil, err
		}
		res.MailboxId, res.UidValidity, res.Modseq = id, mb.GetUidValidity(), mb.GetHighestModseq()
		owner = mb.GetAddress()
	}
	scope := metadataScope(user, e.GetMailboxId(), entry)
	key := append(scope, entry...)
	if e.Value == nil {
		if err := t.del(key); err != nil {
			return nil, err
		}
	} else {
		if len(e.GetValue()) > MaxMetadataValueBytes {
			return nil, refuse(errMetadataMaxSize, "metadata value of %d bytes, at most %d", len(e.GetValue()), MaxMetadataValueBytes)
		}
		entries, err := t.scan(scope, prefixEnd(scope))
		if err != nil {
			return nil, err
		}
		count, size := 1, len(entry)+len(e.GetValue())
		for _, x := range entries {
			if string(x.key) == string(key) {
				continue
			}
			count++
			size += len(x.key) - len(scope) + len(x.value)
		}
		if count > MaxMetadataEntries || size > MaxMetadataBytes {
			return nil, refuse(errMetadataTooMany, "metadata scope would hold %d entries, %d bytes: at most %d, %d", count, size, MaxMetadataEntries, MaxMetadataBytes)
		}
		if err := t.put(key, e.GetValue()); err != nil {
			return nil, err
		}
	}
	t.changes.add(Change{Index: t.index, MailboxID: e.GetMailboxId(), Address: owner, Kind: MetadataChanged})
	return res, nil
}
