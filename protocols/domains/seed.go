package domains

import (
	"context"
	"log/slog"
	"slices"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// Lister lists the local domains in the replicated state (*mailbox.Store
// has it).
type Lister interface {
	Domains() ([]string, error)
}

// SeedConfig configures Seed.
type SeedConfig struct {
	// Domains are the node's --domain values, canonical.
	Domains []string
	Store   Lister
	Cluster propose.Proposer
	// Now stamps the keys' dates; defaults to time.Now.
	Now func() time.Time
	// Retry is the pause after a failed proposal (default 2 s): no leader
	// yet, no quorum.
	Retry time.Duration
	// ProposeTimeout bounds one proposal (default 15 s).
	ProposeTimeout time.Duration
	Logger         *slog.Logger
}

// Seed adds to the replicated state, with new keys, every --domain value
// it lacks, and returns once all are there or ctx ends. Every node runs
// it at start: a domain another node added meanwhile is refused with
// DOMAIN_EXISTS, which counts as done, so the keys of exactly one
// proposal are kept.
func Seed(ctx context.Context, cfg SeedConfig) error {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 2 * time.Second
	}
	if cfg.ProposeTimeout <= 0 {
		cfg.ProposeTimeout = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pending := slices.Clone(cfg.Domains)
	for len(pending) > 0 {
		known, err := cfg.Store.Domains()
		if err != nil {
			cfg.Logger.WarnContext(ctx, "domain seeding: list domains", "err", err)
		} else {
			pending = slices.DeleteFunc(pending, func(d string) bool { return slices.Contains(known, d) })
		}
		for len(pending) > 0 && err == nil {
			d := pending[0]
			err = seedOne(ctx, cfg, d)
			if err == nil {
				pending = pending[1:]
			}
		}
		if len(pending) == 0 {
			return nil
		}
		cfg.Logger.InfoContext(ctx, "domain seeding: will retry", "domain", pending[0], "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.Retry):
		}
	}
	return nil
}

func seedOne(ctx context.Context, cfg SeedConfig, d string) error {
	ev, err := Added(d, cfg.Now())
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.ProposeTimeout)
	defer cancel()
	_, err = propose.Submit(pctx, cfg.Cluster, ev)
	switch {
	case err == nil:
		sels := make([]string, 0, 2)
		for _, k := range ev.GetDomainAdded().GetDkimKeys() {
			sels = append(sels, k.GetSelector())
		}
		cfg.Logger.InfoContext(ctx, "domain added from --domain", "domain", d, "dkim_selectors", sels)
		return nil
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS):
		return nil // another node seeded it first
	case propose.Code(err) != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED:
		// Refused for good (a domain apply finds invalid): retrying
		// would be refused alike.
		cfg.Logger.ErrorContext(ctx, "domain seeding: refused", "domain", d, "err", err)
		return nil
	}
	return err
}
