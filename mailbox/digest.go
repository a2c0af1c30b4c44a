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
//
// A DKIM key's record (dkk/) holds a private key, and an SRS key's (srs/)
// a secret, so the value's SHA-256 stands in for it. Nodes holding
// different keys still get different digests, while the digest's inputs
// (what a tool comparing two nodes entry by entry, or a debugging dump of
// this loop, would show) never carry the secret itself.
func (s *Store) Digest() (appliedIndex uint64, digest [32]byte, err error) {
	h := sha256.New()
	var n [8]byte
	appliedIndex, err = s.digestInputs(func(k, v []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(k)))
		h.Write(n[:])
		h.Write(k)
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write(v)
	})
	if err != nil {
		return 0, digest, err
	}
	h.Sum(digest[:0])
	return appliedIndex, digest, nil
}

// digestInputs calls fn with every key and value Digest hashes, in order,
// as of one view, and returns that view's applied index.
func (s *Store) digestInputs(fn func(k, v []byte)) (appliedIndex uint64, err error) {
	err = s.view(func(r reader) error {
		m, err := readMarker(r)
		if err != nil {
			return err
		}
		appliedIndex = m.applied()
		err = scanRange(r, nil, nil, func(k, v []byte) (bool, error) {
			if bytes.Equal(k, appliedKey()) {
				return true, nil
			}
			if bytes.HasPrefix(k, []byte(prefixDkimKey)) || bytes.HasPrefix(k, []byte(prefixSrsKey)) {
				sum := sha256.Sum256(v)
				v = sum[:]
			}
			fn(k, v)
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("mailbox: digest: %w", err)
		}
		return nil
	})
	return appliedIndex, err
}
