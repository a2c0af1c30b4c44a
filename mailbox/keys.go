package mailbox

import (
	"encoding/binary"
	"fmt"
)

// Key prefixes; the package doc documents each one, and TestKeyLayout fails
// if the store holds a key under a prefix the doc does not list.
const (
	prefixApplied         = "app/"
	prefixCounter         = "ctr/"
	prefixDomain          = "dom/"
	prefixDkimKey         = "dkk/"
	prefixUser            = "usr/"
	prefixAlias           = "als/"
	prefixAliasByTarget   = "alt/"
	prefixMailboxByName   = "mbn/"
	prefixMailbox         = "mbx/"
	prefixMessage         = "msg/"
	prefixSubscription    = "sub/"
	prefixBlob            = "blb/"
	prefixChunk           = "chk/"
	prefixUpload          = "upl/"
	prefixStaged          = "stg/"
	prefixQueue           = "que/"
	prefixQueueDue        = "qdu/"
	prefixProposalKey     = "idk/"
	prefixProposalByIndex = "idi/"
	prefixSpamToken       = "spt/"
	prefixSpamTotals      = "spm/"
	prefixLen             = 4
	counterMailboxID      = "mailbox-id"
	counterUIDValidity    = "uidvalidity"
	counterKeysForgotten  = "keys-forgotten"
	mailboxIDLen          = 8
	messageKeyLen         = prefixLen + mailboxIDLen + 4
	hashLen               = 32
	queueIDLen            = 16
	uploadIDLen           = 16
	queueDueKeyLen        = prefixLen + 8 + queueIDLen
	proposalKeyLen        = 16 // cluster.KeyLen
	proposalByIndexKeyLen = prefixLen + 8 + proposalKeyLen
	appliedMarkerValueLen = 8 + 4 + 4 + 8
)

func appliedKey() []byte { return []byte(prefixApplied) }

func counterKey(name string) []byte { return []byte(prefixCounter + name) }

func domainKey(domain string) []byte { return []byte(prefixDomain + domain) }

func dkimKeyPrefix(domain string) []byte { return []byte(prefixDkimKey + domain + "\x00") }

func dkimKeyKey(domain, selector string) []byte {
	return []byte(prefixDkimKey + domain + "\x00" + selector)
}

func userKey(address string) []byte { return []byte(prefixUser + address) }

func aliasKey(alias string) []byte { return []byte(prefixAlias + alias) }

func aliasByTargetKey(target, alias string) []byte {
	return []byte(prefixAliasByTarget + target + "\x00" + alias)
}

func aliasByTargetPrefix(target string) []byte {
	return []byte(prefixAliasByTarget + target + "\x00")
}

func mailboxByNameKey(address, name string) []byte {
	return []byte(prefixMailboxByName + address + "\x00" + name)
}

func mailboxByNamePrefix(address string) []byte {
	return []byte(prefixMailboxByName + address + "\x00")
}

func mailboxKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixMailbox), id)
}

func messagePrefix(mailboxID uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixMessage), mailboxID)
}

func messageKey(mailboxID uint64, uid uint32) []byte {
	return binary.BigEndian.AppendUint32(messagePrefix(mailboxID), uid)
}

// parseMessageKey returns the UID of a key under messagePrefix.
func parseMessageKey(k []byte) (uint32, error) {
	if len(k) != messageKeyLen {
		return 0, fmt.Errorf("message key of %d bytes", len(k))
	}
	return binary.BigEndian.Uint32(k[prefixLen+mailboxIDLen:]), nil
}

func subscriptionKey(address, name string) []byte {
	return []byte(prefixSubscription + address + "\x00" + name)
}

func subscriptionPrefix(address string) []byte {
	return []byte(prefixSubscription + address + "\x00")
}

func blobKey(hash []byte) []byte { return append([]byte(prefixBlob), hash...) }

func chunkPrefix(hash []byte) []byte { return append([]byte(prefixChunk), hash...) }

func chunkKey(hash []byte, chunk uint32) []byte {
	return binary.BigEndian.AppendUint32(chunkPrefix(hash), chunk)
}

func uploadKey(id []byte) []byte { return append([]byte(prefixUpload), id...) }

func stagedPrefix(id []byte) []byte { return append([]byte(prefixStaged), id...) }

func stagedKey(id []byte, chunk uint32) []byte {
	return binary.BigEndian.AppendUint32(stagedPrefix(id), chunk)
}

func queueKey(id []byte) []byte { return append([]byte(prefixQueue), id...) }

// queueDueKey orders entries by next attempt time, then id. Times before
// the epoch sort as 0 (apply refuses negative times anyway).
func queueDueKey(next int64, id []byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixQueueDue), uint64(max(next, 0)))
	return append(k, id...)
}

// parseQueueDueKey returns the id of a key under prefixQueueDue.
func parseQueueDueKey(k []byte) ([]byte, error) {
	if len(k) != queueDueKeyLen {
		return nil, fmt.Errorf("queue due key of %d bytes", len(k))
	}
	return k[prefixLen+8:], nil
}

// proposalKey holds a remembered proposal's entry index and outcome (see
// the package doc, "Idempotency keys").
func proposalKey(key []byte) []byte { return append([]byte(prefixProposalKey), key...) }

// proposalByIndexKey orders remembered proposals by the entry that applied
// them, for pruning.
func proposalByIndexKey(index uint64, key []byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixProposalByIndex), index)
	return append(k, key...)
}

// parseProposalByIndexKey returns the proposal key of a key under
// prefixProposalByIndex.
func parseProposalByIndexKey(k []byte) ([]byte, error) {
	if len(k) != proposalByIndexKeyLen {
		return nil, fmt.Errorf("proposal index key of %d bytes", len(k))
	}
	return k[prefixLen+8:], nil
}

// prefixEnd is the smallest key greater than every key starting with p, for
// use as an exclusive upper bound.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// keyAfter is the smallest key greater than k.
func keyAfter(k []byte) []byte {
	return append(append([]byte(nil), k...), 0)
}

// appliedMarker is the position of the last committed proposal.
type appliedMarker struct {
	Index uint64 // entry index
	Done  uint32 // proposals of that entry committed
	Total uint32 // proposals the entry has
	Prev  uint64 // last entry index finished before Index
}

// applied is the index of the last entry whose proposals are all done.
func (m appliedMarker) applied() uint64 {
	if m.Done >= m.Total {
		return m.Index
	}
	return m.Prev
}

func (m appliedMarker) encode() []byte {
	b := make([]byte, 0, appliedMarkerValueLen)
	b = binary.BigEndian.AppendUint64(b, m.Index)
	b = binary.BigEndian.AppendUint32(b, m.Done)
	b = binary.BigEndian.AppendUint32(b, m.Total)
	return binary.BigEndian.AppendUint64(b, m.Prev)
}

func decodeAppliedMarker(v []byte) (appliedMarker, error) {
	if len(v) != appliedMarkerValueLen {
		return appliedMarker{}, fmt.Errorf("applied marker of %d bytes", len(v))
	}
	return appliedMarker{
		Index: binary.BigEndian.Uint64(v[0:8]),
		Done:  binary.BigEndian.Uint32(v[8:12]),
		Total: binary.BigEndian.Uint32(v[12:16]),
		Prev:  binary.BigEndian.Uint64(v[16:24]),
	}, nil
}

// spamTokenPrefix is the start of a model's token keys; user "" is the
// global model.
func spamTokenPrefix(user string) []byte { return []byte(prefixSpamToken + user + "\x00") }

func spamTokenKey(user string, token uint64) []byte {
	return binary.BigEndian.AppendUint64(spamTokenPrefix(user), token)
}

func spamTotalsKey(user string) []byte { return []byte(prefixSpamTotals + user) }
