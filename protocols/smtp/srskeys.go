package smtp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/surat-mail/surat/protocols/srs"
)

// SRSKeyReader reads the cluster's SRS secrets, newest first
// (*mailbox.Store has it: SrsKeyAdded events, seeded by the leader).
type SRSKeyReader interface {
	SRSKeys() ([][]byte, error)
}

// errNoSRSKey: the leader has not seeded a key yet.
var errNoSRSKey = errors.New("smtp: no SRS key yet")

// ReplicatedSRS is Config.SRS over the replicated keys: every node signs
// with the newest and verifies with all, so a bounce to an address one
// node made is taken back by any other, and a key added later (rotation)
// is used as soon as this node has applied it. Without a key, Forward and
// Reverse fail (redirects keep their sender; SRS addresses are unknown).
type ReplicatedSRS struct {
	keys   SRSKeyReader
	domain string
	now    func() time.Time

	mu   sync.Mutex
	seen [][]byte // the keys rw was made with
	rw   *srs.Rewriter
}

// NewReplicatedSRS makes SRS addresses at domain (a local domain whose MX
// is this cluster), with keys from r; now is the clock (nil: time.Now).
func NewReplicatedSRS(r SRSKeyReader, domain string, now func() time.Time) *ReplicatedSRS {
	return &ReplicatedSRS{keys: r, domain: domain, now: now}
}

// rewriter returns a Rewriter for the keys as this node has them now.
func (s *ReplicatedSRS) rewriter() (*srs.Rewriter, error) {
	keys, err := s.keys.SRSKeys()
	if err != nil {
		return nil, fmt.Errorf("smtp: read SRS keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errNoSRSKey
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rw != nil && slices.EqualFunc(keys, s.seen, bytes.Equal) {
		return s.rw, nil
	}
	rw, err := srs.New(keys, s.domain, s.now)
	if err != nil {
		return nil, err
	}
	s.rw, s.seen = rw, keys
	return rw, nil
}

// Forward implements SRS.
func (s *ReplicatedSRS) Forward(sender string) (string, error) {
	if sender == "" {
		return "", nil
	}
	rw, err := s.rewriter()
	if err != nil {
		return "", err
	}
	return rw.Forward(sender)
}

// Reverse implements SRS.
func (s *ReplicatedSRS) Reverse(addr string) (string, error) {
	rw, err := s.rewriter()
	if err != nil {
		return "", err
	}
	return rw.Reverse(addr)
}
