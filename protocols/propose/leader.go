package propose

import (
	"context"
	"log/slog"
	"time"
)

// Leader is a node that proposes and knows whether it leads
// (*cluster.Node has it): what the jobs that only the leader runs (the
// pruners of bans, greylisting triples and spam models) need.
type Leader interface {
	IsLeader() bool
	Proposer
}

// Every runs job every interval until ctx ends. A job's error is logged
// at Warn as "<what> failed; will retry" and the next tick tries again:
// the leader's periodic jobs propose idempotent events, so a missed or
// repeated run only delays their effect.
func Every[T any](ctx context.Context, interval time.Duration, logger *slog.Logger, what string, job func(context.Context) (T, error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := job(ctx); err != nil && ctx.Err() == nil {
			logger.Warn(what+" failed; will retry", "err", err)
		}
	}
}
