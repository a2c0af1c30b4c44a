package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/sievestore"
)

// newSieveStore is the node's Sieve state (protocols/sievestore): the
// admin API's, ManageSieve's and the delivery filter's one store.
func newSieveStore(store *mailbox.Store, node propose.Proposer) (*sievestore.Store, error) {
	s, err := sievestore.New(sievestore.Config{Reader: store, Proposer: node})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return s, nil
}

// Intervals of the leader's Sieve jobs.
const (
	sievePruneInterval = time.Hour
	srsSeedInterval    = time.Second // until the first key is known: forwarded mail waits for it
	srsKeyLen          = 32
)

// sieveStateStore is what the leader's Sieve jobs read (*mailbox.Store).
type sieveStateStore interface {
	NextSieveExpiry() (time.Time, bool, error)
	SRSKeys() ([][]byte, error)
}

// sieveLeaderJobs are the Sieve jobs only the leader runs: forgetting
// expired vacation and duplicate records, and the first SRS key.
type sieveLeaderJobs struct {
	store  sieveStateStore
	node   propose.Leader
	logger *slog.Logger
	now    func() time.Time
	random func([]byte) error
}

func newSieveLeaderJobs(store sieveStateStore, node propose.Leader, logger *slog.Logger) *sieveLeaderJobs {
	return &sieveLeaderJobs{store: store, node: node, logger: logger.With("component", "sieve"), now: time.Now,
		random: func(b []byte) error { _, err := rand.Read(b); return err }}
}

// startSieveLeaderJobs runs the jobs on every node; each acts only while
// its node leads.
func startSieveLeaderJobs(store sieveStateStore, node propose.Leader, logger *slog.Logger) (*background, *background) {
	j := newSieveLeaderJobs(store, node, logger)
	pruner := goBackground(func(ctx context.Context) {
		propose.Every(ctx, sievePruneInterval, j.logger, "sieve record pruning", j.prune)
	})
	seeder := goBackground(j.seedSRS)
	return pruner, seeder
}

// prune proposes SievePruned when this node leads and a vacation or
// duplicate record has expired; it reports whether it proposed.
func (j *sieveLeaderJobs) prune(ctx context.Context) (bool, error) {
	if !j.node.IsLeader() {
		return false, nil
	}
	now := j.now()
	next, ok, err := j.store.NextSieveExpiry()
	if err != nil || !ok || next.After(now) {
		return false, err
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := propose.Submit(pctx, j.node, &evlog.Event{Kind: &evlog.Event_SievePruned{
		SievePruned: &evlog.SievePruned{BeforeUnix: now.Unix()}}}); err != nil {
		return false, fmt.Errorf("propose SievePruned: %w", err)
	}
	j.logger.Debug("expired vacation and duplicate records pruned", "before", now.UTC().Format(time.RFC3339))
	return true, nil
}

// seedSRS adds the cluster's first SRS key from the leader, then returns:
// it checks at once and every srsSeedInterval until a key is known (added
// by this node or any other). Two leaders in quick succession may each
// add one; both verify, the newer signs.
func (j *sieveLeaderJobs) seedSRS(ctx context.Context) {
	tick := time.NewTicker(srsSeedInterval)
	defer tick.Stop()
	for {
		done, err := j.seedOnce(ctx)
		if err != nil && ctx.Err() == nil {
			j.logger.Warn("SRS key seeding failed; will retry", "err", err)
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// seedOnce proposes a new SRS key when the cluster has none and this node
// leads; done is true once a key is known.
func (j *sieveLeaderJobs) seedOnce(ctx context.Context) (done bool, err error) {
	keys, err := j.store.SRSKeys()
	if err != nil || len(keys) > 0 {
		return len(keys) > 0, err
	}
	if !j.node.IsLeader() {
		return false, nil
	}
	key := make([]byte, srsKeyLen)
	if err := j.random(key); err != nil {
		return false, fmt.Errorf("random SRS key: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := propose.Submit(pctx, j.node, &evlog.Event{Kind: &evlog.Event_SrsKeyAdded{
		SrsKeyAdded: &evlog.SrsKeyAdded{Key: key, AddedUnix: j.now().Unix()}}}); err != nil {
		return false, fmt.Errorf("propose SrsKeyAdded: %w", err)
	}
	j.logger.Info("SRS key added")
	return true, nil
}
