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
