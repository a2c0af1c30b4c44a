package domains

import (
	"context"
	"log/slog"
	"slices"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// Lister reads the local domains in the replicated state (*mailbox.Store
// has it).
type Lister interface {
	Domains() ([]string, error)
	// Domain returns one with its keys.
	Domain(name string) (*evlog.DomainRecord, error)
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
// it lacks, then gives keys to every domain that has none (one added
// before domains had keys), and returns once all is done or ctx ends.
// Every node runs it at start: a domain another node added meanwhile is
// refused with DOMAIN_EXISTS, and keys another node gave it with
// DKIM_KEY_EXISTS (both make the same dated selectors), which count as
// done, so the keys of exactly one proposal are kept.
func Seed(ctx context.Context, cfg SeedConfig) error {
	if err := seedDomains(ctx, &cfg); err != nil {
		return err
	}
	return seedKeys(ctx, &cfg)
}

func seedDomains(ctx context.Context, cfg *SeedConfig) error {
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
			err = seedOne(ctx, *cfg, d)
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

// seedKeys gives keys to the domains without any, retrying on cluster
// errors until ctx ends.
func seedKeys(ctx context.Context, cfg *SeedConfig) error {
	for {
		err := keyless(ctx, cfg)
		if err == nil {
			return nil
		}
		cfg.Logger.InfoContext(ctx, "domain seeding: keys: will retry", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(cfg.Retry):
		}
	}
}

func keyless(ctx context.Context, cfg *SeedConfig) error {
	known, err := cfg.Store.Domains()
	if err != nil {
		return err
	}
	for _, d := range known {
		rec, err := cfg.Store.Domain(d)
		if err != nil {
			return err
		}
		if len(rec.GetDkimKeys()) > 0 {
			continue
		}
		evs, err := Rotated(rec, cfg.Now())
		if err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, cfg.ProposeTimeout)
		_, err = propose.Submit(pctx, cfg.Cluster, evs...)
		cancel()
		switch {
		case err == nil:
			cfg.Logger.InfoContext(ctx, "DKIM keys made for a domain without any", "domain", d)
		case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_DKIM_KEY_EXISTS),
			propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN):
			// Another node gave it keys first, or it was removed.
		case propose.Code(err) != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED:
			cfg.Logger.ErrorContext(ctx, "domain seeding: keys refused", "domain", d, "err", err)
		default:
			return err
		}
	}
	return nil
}
