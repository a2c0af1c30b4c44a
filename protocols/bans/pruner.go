package bans

import (
	"context"
	"log/slog"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// Expiries is the store's view of ban expiry (*mailbox.Store has it).
type Expiries interface {
	// NextBanExpiry is the earliest expiry of a stored ban, expired ones
	// included until pruned.
	NextBanExpiry() (at time.Time, ok bool, err error)
}

// Leader is what the pruner needs from the node (*cluster.Node has it).
type Leader = propose.Leader

// PrunerConfig configures a Pruner.
type PrunerConfig struct {
	Store   Expiries // required
	Cluster Leader   // required
	// Interval between checks; default 1 min.
	Interval time.Duration
	// ProposeTimeout bounds one BansPruned; default 30 s.
	ProposeTimeout time.Duration
	Now            func() time.Time // the proposer's clock; default time.Now
	Logger         *slog.Logger
}

// Pruner proposes BansPruned, while its node leads, once a stored ban has
// expired. Expired bans stop counting at read time on every node whether
// or not they are pruned, so pruning late or twice is harmless: it only
// keeps the list bounded.
type Pruner struct {
	cfg PrunerConfig
}

// NewPruner builds a Pruner; Run starts it.
func NewPruner(cfg PrunerConfig) *Pruner {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.ProposeTimeout <= 0 {
		cfg.ProposeTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Pruner{cfg: cfg}
}

// Run checks every Interval until ctx ends.
func (p *Pruner) Run(ctx context.Context) {
	propose.Every(ctx, p.cfg.Interval, p.cfg.Logger, "ban pruning", p.Prune)
}

// Prune proposes BansPruned when this node leads and a ban has expired; it
// reports whether it proposed.
func (p *Pruner) Prune(ctx context.Context) (bool, error) {
	if !p.cfg.Cluster.IsLeader() {
		return false, nil
	}
	now := p.cfg.Now()
	next, ok, err := p.cfg.Store.NextBanExpiry()
	if err != nil || !ok || next.After(now) {
		return false, err
	}
	pctx, cancel := context.WithTimeout(ctx, p.cfg.ProposeTimeout)
	defer cancel()
	_, err = propose.Submit(pctx, p.cfg.Cluster, &evlog.Event{Kind: &evlog.Event_BansPruned{
		BansPruned: &evlog.BansPruned{NowUnix: now.Unix()}}})
	if err != nil {
		return false, err
	}
	p.cfg.Logger.Info("expired bans pruned", "before", now.UTC().Format(time.RFC3339))
	return true, nil
}
