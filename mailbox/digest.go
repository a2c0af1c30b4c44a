package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Digest hashes the replicated state as of one consistent view: SHA-256
// over every key and value in key order, each preceded by its length (u64
// big-endian), leaving out only the applied marker, which is local. Stores
// that applied the same entries have equal digests (docs/DESIGN.md, invariant
// 2); the applied index returned is the one of the same view.
func (s *Store) Digest() (appliedIndex uint64, digest [32]byte, err error) {
	err = s.view(func(r reader) error {
		m, err := readMarker(r)
		if err != nil {
			return err
		}
		appliedIndex = m.applied()
		h := sha256.New()
		var n [8]byte
		err = scanRange(r, nil, nil, func(k, v []byte) (bool, error) {
			if bytes.Equal(k, appliedKey()) {
				return true, nil
			}
			binary.BigEndian.PutUint64(n[:], uint64(len(k)))
			h.Write(n[:])
			h.Write(k)
			binary.BigEndian.PutUint64(n[:], uint64(len(v)))
			h.Write(n[:])
			h.Write(v)
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("mailbox: digest: %w", err)
		}
		h.Sum(digest[:0])
		return nil
	})
	return appliedIndex, digest, err
}
