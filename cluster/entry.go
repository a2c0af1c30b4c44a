package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A Raft entry written by Surat carries several proposals (group commit,
// docs/DESIGN.md invariant 5); a forwarding reply carries one result per
// proposal. Both use the same framing: a version byte, a count, then each
// item length-prefixed. Varints keep small proposals small.
const entryV1 byte = 1

// maxItems bounds the count read from the wire before allocating.
const maxItems = 1 << 16

func encodeItems(items [][]byte) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, it := range items {
		size += binary.MaxVarintLen64 + len(it)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, entryV1)
	buf = binary.AppendUvarint(buf, uint64(len(items)))
	for _, it := range items {
		buf = binary.AppendUvarint(buf, uint64(len(it)))
		buf = append(buf, it...)
	}
	return buf
}

var errBadEntry = errors.New("cluster: malformed entry")

func decodeItems(buf []byte) ([][]byte, error) {
	if len(buf) == 0 || buf[0] != entryV1 {
		return nil, fmt.Errorf("%w: unknown version", errBadEntry)
	}
	buf = buf[1:]
	n, k := binary.Uvarint(buf)
	if k <= 0 || n > maxItems {
		return nil, fmt.Errorf("%w: bad count", errBadEntry)
	}
	buf = buf[k:]
	items := make([][]byte, 0, n)
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(buf)
		if k <= 0 || l > uint64(len(buf)-k) {
			return nil, fmt.Errorf("%w: item %d truncated", errBadEntry, i)
		}
		items = append(items, buf[k:k+int(l)])
		buf = buf[k+int(l):]
	}
	if len(buf) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes", errBadEntry)
	}
	return items, nil
}

// Since the idempotency keys, entries are written as version 2: the
// version byte, the proposing node's last log index when it first sent the
// entry (uvarint), a count, then each proposal as its 16-byte key followed
// by its length-prefixed bytes. Version 1 entries (no keys) are still read:
// they may sit in a log written before.
const entryV2 byte = 2

// KeyLen is the length of a proposal's idempotency key.
const KeyLen = 16

// encodeEntry frames proposals (with keys) as one Raft entry.
func encodeEntry(proposedAt uint64, proposals []Proposal) []byte {
	size := 1 + 2*binary.MaxVarintLen64
	for _, p := range proposals {
		size += KeyLen + binary.MaxVarintLen64 + len(p.Data)
	}
	buf := make([]byte, 0, size)
	buf = append(buf, entryV2)
	buf = binary.AppendUvarint(buf, proposedAt)
	buf = binary.AppendUvarint(buf, uint64(len(proposals)))
	for _, p := range proposals {
		buf = append(buf, p.Key...)
		buf = binary.AppendUvarint(buf, uint64(len(p.Data)))
		buf = append(buf, p.Data...)
	}
	return buf
}

// decodeEntry reads a version 1 or 2 entry; version 1 proposals have no
// key.
func decodeEntry(buf []byte) ([]Proposal, error) {
	if len(buf) > 0 && buf[0] == entryV1 {
		items, err := decodeItems(buf)
		if err != nil {
			return nil, err
		}
		out := make([]Proposal, len(items))
		for i, it := range items {
			out[i] = Proposal{Data: it}
		}
		return out, nil
	}
	if len(buf) == 0 || buf[0] != entryV2 {
		return nil, fmt.Errorf("%w: unknown version", errBadEntry)
	}
	buf = buf[1:]
	proposedAt, k := binary.Uvarint(buf)
	if k <= 0 {
		return nil, fmt.Errorf("%w: bad proposal index", errBadEntry)
	}
	buf = buf[k:]
	n, k := binary.Uvarint(buf)
	if k <= 0 || n > maxItems {
		return nil, fmt.Errorf("%w: bad count", errBadEntry)
	}
	buf = buf[k:]
	out := make([]Proposal, 0, n)
	for i := uint64(0); i < n; i++ {
		if len(buf) < KeyLen {
			return nil, fmt.Errorf("%w: proposal %d truncated", errBadEntry, i)
		}
		key := buf[:KeyLen:KeyLen]
		buf = buf[KeyLen:]
		l, k := binary.Uvarint(buf)
		if k <= 0 || l > uint64(len(buf)-k) {
			return nil, fmt.Errorf("%w: proposal %d truncated", errBadEntry, i)
		}
		out = append(out, Proposal{Key: key, ProposedAt: proposedAt, Data: buf[k : k+int(l) : k+int(l)]})
		buf = buf[k+int(l):]
	}
	if len(buf) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes", errBadEntry)
	}
	return out, nil
}
