package bayes

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
)

// Model size bounds: a model with more distinct tokens than its limit is
// pruned down to PruneTarget of it (the margin keeps the pruner from
// proposing at every check while training goes on).
const (
	DefaultGlobalLimit = 1_000_000
	DefaultUserLimit   = 100_000
	PruneTarget        = 0.8
	// pruneMaxCount is the largest max_count the pruner proposes: tokens
	// seen more often are the model's knowledge, kept whatever the size.
	pruneMaxCount = 16
)

// pruneAges are the last-seen ages the pruner tries, oldest first: it
// drops old tokens before recent ones.
var pruneAges = []time.Duration{90 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, 0}

// PrunerStore is the store's view of the models (*mailbox.Store has it).
type PrunerStore interface {
	SpamModels() ([]mailbox.SpamModelStatus, error)
	SpamPruneHistogram(user string, maxCount uint32, cuts []int64) ([][]uint64, error)
}

// Leader is what the pruner needs from the node (*cluster.Node has it).
type Leader = propose.Leader

// PrunerConfig configures a Pruner.
type PrunerConfig struct {
	Store   PrunerStore // required
	Cluster Leader      // required
	// GlobalLimit and UserLimit bound the distinct tokens of the global
	// model and of each user's; defaults DefaultGlobalLimit and
	// DefaultUserLimit.
	GlobalLimit, UserLimit uint64
	// Interval between checks; default 10 min.
	Interval time.Duration
	// ProposeTimeout bounds one SpamPruned; default 30 s.
	ProposeTimeout time.Duration
	Now            func() time.Time // the proposer's clock; default time.Now
	Logger         *slog.Logger
}

// Pruner proposes SpamPruned, while its node leads, for each model over its
// token limit: the rarest tokens not seen for the longest go first
// (docs/DESIGN.md, "Spam filtering"). Pruning late or twice is harmless:
// it only bounds the model.
type Pruner struct {
	cfg PrunerConfig
}

// NewPruner builds a Pruner; Run starts it.
func NewPruner(cfg PrunerConfig) *Pruner {
	if cfg.GlobalLimit == 0 {
		cfg.GlobalLimit = DefaultGlobalLimit
	}
	if cfg.UserLimit == 0 {
		cfg.UserLimit = DefaultUserLimit
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Minute
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
	propose.Every(ctx, p.cfg.Interval, p.cfg.Logger, "spam model pruning", p.Prune)
}

// Prune proposes one SpamPruned for each model over its limit when this
// node leads; it returns how many it proposed.
func (p *Pruner) Prune(ctx context.Context) (int, error) {
	if !p.cfg.Cluster.IsLeader() {
		return 0, nil
	}
	models, err := p.cfg.Store.SpamModels()
	if err != nil {
		return 0, fmt.Errorf("bayes: pruner: %w", err)
	}
	n := 0
	for _, m := range models {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		limit := p.cfg.UserLimit
		if m.User == "" {
			limit = p.cfg.GlobalLimit
		}
		if m.Tokens <= limit {
			continue
		}
		if err := p.pruneModel(ctx, m, limit); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// pruneModel chooses the bounds that bring a model under PruneTarget of
// its limit with the fewest and oldest tokens: the smallest max_count,
// then the oldest last-seen cut, that drop enough. When none does, it
// drops all it may (max pruneMaxCount, seen before now).
func (p *Pruner) pruneModel(ctx context.Context, m mailbox.SpamModelStatus, limit uint64) error {
	now := p.cfg.Now()
	cuts := make([]int64, len(pruneAges))
	for i, age := range pruneAges {
		cuts[i] = now.Add(-age).Unix()
	}
	hist, err := p.cfg.Store.SpamPruneHistogram(m.User, pruneMaxCount, cuts)
	if err != nil {
		return fmt.Errorf("bayes: pruner: %w", err)
	}
	need := m.Tokens - uint64(float64(limit)*PruneTarget)
	maxCount, cut, drop := choosePrune(hist, cuts, need)
	pctx, cancel := context.WithTimeout(ctx, p.cfg.ProposeTimeout)
	defer cancel()
	if _, err := propose.Submit(pctx, p.cfg.Cluster, PruneEvent(m.User, maxCount, time.Unix(cut, 0))); err != nil {
		return fmt.Errorf("bayes: pruner: proposing SpamPruned: %w", err)
	}
	level := slog.LevelInfo
	if drop < need {
		level = slog.LevelWarn // still over the target: common tokens dominate
	}
	p.cfg.Logger.Log(ctx, level, "spam model pruned", "user", m.User, "count", drop, "limit", limit,
		"max_count", maxCount, "before", time.Unix(cut, 0).UTC().Format(time.RFC3339))
	return nil
}

// choosePrune picks (max_count, cut) from a histogram (hist[c-1][i]:
// tokens counted c times, seen before cuts[i], cuts oldest first) and
// says how many tokens that drops.
func choosePrune(hist [][]uint64, cuts []int64, need uint64) (maxCount uint32, cut int64, drop uint64) {
	cum := make([]uint64, len(cuts))
	for c := range hist {
		for i := range cuts {
			cum[i] += hist[c][i]
			if cum[i] >= need {
				return uint32(c + 1), cuts[i], cum[i]
			}
		}
	}
	last := len(cuts) - 1
	return uint32(len(hist)), cuts[last], cum[last]
}
