package sievestore

import (
	"context"
	"fmt"
	"time"

	"github.com/surat-mail/surat/mailbox"
)

// The filter's reads (protocols/sieve/filter): what one delivery to a
// user needs to run its scripts. They read this node's projection, which
// may lag the leader by an apply; apply makes the exact decisions
// (VacationReplied queues once per period whatever a read said).

// ScriptsForDelivery returns, from one consistent view, the scripts a
// delivery to user (canonical address) runs: DeliveryScripts.Before()
// (the global, then the user's domain's administrators' script), then
// DeliveryScripts.User (the user's active script); nil ones are absent.
func (s *Store) ScriptsForDelivery(ctx context.Context, user string) (mailbox.DeliveryScripts, error) {
	if err := ctx.Err(); err != nil {
		return mailbox.DeliveryScripts{}, err
	}
	d, err := s.cfg.Reader.ScriptsForDelivery(user)
	if err != nil {
		return d, fmt.Errorf("sievestore: scripts of %s: %w", user, err)
	}
	return d, nil
}

// IncludeSource resolves a Sieve include (RFC 6609 §3.2) for owner: a
// :personal script among owner's, a :global one among "@"'s (the
// administrators' global scripts, whether or not active). Missing:
// managesieve.ErrNonexistent.
func (s *Store) IncludeSource(ctx context.Context, owner string, global bool, name string) ([]byte, error) {
	if global {
		owner = mailbox.GlobalSieveOwner
	}
	return s.Get(ctx, owner, name)
}

// VacationRunning reports whether user replied to sender under handle
// within a period still running at now (RFC 5230 §4.2).
func (s *Store) VacationRunning(ctx context.Context, user, handle, sender string, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ok, err := s.cfg.Reader.VacationRunning(user, handle, sender, now)
	if err != nil {
		return false, fmt.Errorf("sievestore: vacation record of %s: %w", user, err)
	}
	return ok, nil
}

// DuplicateSeen reports whether the duplicate test's id (RFC 7352) is
// tracked for user at now.
func (s *Store) DuplicateSeen(ctx context.Context, user string, id []byte, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ok, err := s.cfg.Reader.DuplicateSeen(user, id, now)
	if err != nil {
		return false, fmt.Errorf("sievestore: duplicate record of %s: %w", user, err)
	}
	return ok, nil
}

// SRSKeys returns the SRS secrets, newest (the signing one) first; empty
// until the leader seeded one. Secrets: never log them.
func (s *Store) SRSKeys(ctx context.Context) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, err := s.cfg.Reader.SRSKeys()
	if err != nil {
		return nil, fmt.Errorf("sievestore: SRS keys: %w", err)
	}
	return keys, nil
}
