package filter

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// Owners of the administrators' scripts (docs/DESIGN.md, events 130–133):
// GlobalOwner's runs before every user's, DomainOwner(d)'s before the
// users' of domain d.
const GlobalOwner = "@"

// DomainOwner is the owner of domain's administrator script.
func DomainOwner(domain string) string { return "@" + strings.ToLower(domain) }

// Scripts reads the stored Sieve scripts.
type Scripts interface {
	// ActiveScript returns the owner's active script; ok is false when the
	// owner has none.
	ActiveScript(ctx context.Context, owner string) (name string, src []byte, ok bool, err error)
	// Script returns the owner's script called name, active or not (for
	// include, RFC 6609 §3.2); ok is false when there is none.
	Script(ctx context.Context, owner, name string) (src []byte, ok bool, err error)
}

// Forwarding reads a user's forwarding (`surat user forward`, event
// ForwardingSet).
type Forwarding interface {
	// Forwarding returns the addresses the user's mail goes to (none: no
	// forwarding) and whether a copy is also filed as usual.
	Forwarding(ctx context.Context, user string) (to []string, keep bool, err error)
}

// Records reads the replicated vacation and duplicate records (events
// VacationReplied, DuplicateRecorded). They only save work: apply is what
// decides, exactly, whether a reply is sent.
type Records interface {
	// VacationReplied reports whether a reply of the user's vacation
	// handle to sender is recorded and still running at now.
	VacationReplied(user, handle, sender string, now time.Time) (bool, error)
	// DuplicateSeen reports whether the duplicate test's id is recorded
	// for the user and still tracked at now (RFC 7352 §3).
	DuplicateSeen(user string, id []byte, now time.Time) (bool, error)
}

// Mailboxes reads what scripts may ask about a user's account.
type Mailboxes interface {
	// MailboxExists reports whether the user has a mailbox of that name
	// (RFC 5490 §3.1 mailboxexists).
	MailboxExists(user, name string) (bool, error)
	// Addresses are the addresses that deliver to the user besides its
	// canonical one (its aliases): vacation's own addresses (RFC 5230
	// §4.5).
	Addresses(user string) ([]string, error)
}

// Replies builds the messages the filter sends; protocols/sieve/vacation
// and protocols/sieve/mdn hold the rules.
type Replies interface {
	// ShouldReply says whether the message may get an automatic reply
	// (RFC 3834 §2, RFC 5230 §4.5: not to the null sender, lists, bulk or
	// auto-submitted mail, nor when none of the user's addresses is in a
	// recipient field), and if not why.
	ShouldReply(header []byte, envFrom string, userAddrs []string) (ok bool, reason string)
	// Vacation is the complete reply message (CRLF line ends).
	Vacation(r VacationReply) ([]byte, error)
	// Rejection is the MDN (RFC 8098, RFC 5429 §2.1.2) telling the sender
	// the recipient rejected the message.
	Rejection(r Rejection) ([]byte, error)
}

// VacationReply is what a vacation reply is made from.
type VacationReply struct {
	User      string          // the recipient on vacation (canonical)
	To        string          // the envelope sender the reply goes to
	Header    []byte          // the original message's header block
	Vacation  *sieve.Vacation // what the script asked
	Addresses []string        // the user's own addresses (not the script's :addresses)
	Now       time.Time
}

// Rejection is what a rejection MDN is made from.
type Rejection struct {
	User      string // the user whose script rejected it (canonical)
	Recipient string // the address it was sent to (the original RCPT TO)
	To        string // the envelope sender
	Reason    string
	Header    []byte // the original message's header block
	Now       time.Time
}

// Program is a compiled script (*sieve.Script).
type Program interface {
	Execute(ctx context.Context, msg sieve.Message, env sieve.Env) (*sieve.Result, error)
}

// CompileFunc compiles a script; include resolves its include commands
// (RFC 6609) at compile time.
type CompileFunc func(src []byte, include func(global bool, name string) ([]byte, error)) (Program, error)

// Defaults.
const (
	// MaxHeaderBytes bounds the header block a run keeps for the scripts:
	// a longer one is cut at a field boundary.
	MaxHeaderBytes = 256 << 10
	// DefaultCacheEntries and DefaultCacheBytes bound the compiled-script
	// cache (entries, and bytes of their sources).
	DefaultCacheEntries = 4096
	DefaultCacheBytes   = 64 << 20
	// DefaultVacationPeriod is vacation's :days when a script gives none
	// (RFC 5230 §4.1: 7 days); MinVacationPeriod and MaxVacationPeriod
	// clamp what a script asks (RFC 5230 §4.1 allows the site to; RFC 6131
	// §2 :seconds). A period shorter than an hour is allowed, down to a
	// second, for tests.
	DefaultVacationPeriod = 7 * 24 * time.Hour
	MinVacationPeriod     = time.Second
	MaxVacationPeriod     = 30 * 24 * time.Hour
	// MaxDuplicatePeriod bounds how long a duplicate id is tracked (RFC
	// 7352 §3.3 leaves it to the site).
	MaxDuplicatePeriod = 7 * 24 * time.Hour
	// DefaultReplyLifetime is how long a vacation reply or a rejection is
	// retried before it is given up.
	DefaultReplyLifetime = 5 * 24 * time.Hour
)

// Config configures the check.
type Config struct {
	Scripts Scripts // required
	// Forwarding, Records and Mailboxes may be nil: no forwarding, no
	// read-side check of the records (apply still decides), no mailbox
	// exists and only the canonical addresses.
	Forwarding Forwarding
	Records    Records
	Mailboxes  Mailboxes
	// Replies builds vacation replies and rejections; nil: none are sent
	// (a rejected copy is still dropped).
	Replies Replies
	// Limits bound each script (zero: sieve.DefaultLimits()).
	Limits sieve.Limits
	// Compile compiles a script; nil: sieve.Compile with Limits.
	Compile CompileFunc
	// CacheEntries and CacheBytes bound the compiled-script cache (zero:
	// the defaults).
	CacheEntries, CacheBytes int
	// ReplyLifetime is how long a reply is retried (zero: the default).
	ReplyLifetime time.Duration
	// Hostname is the node's mail name, the environment extension's
	// "host" (RFC 5183 §4).
	Hostname string
	// Now is the proposer's clock (nil: time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Check is the Sieve pipeline check (package doc).
type Check struct {
	cfg      Config
	cache    *cache
	limits   sieve.Limits
	log      *slog.Logger
	runs     *prometheus.CounterVec // surat_sieve_runs_total (metrics.go)
	counters map[string]prometheus.Counter
}

var (
	_ pipeline.Check       = (*Check)(nil)
	_ prometheus.Collector = (*Check)(nil)
)

// New returns the check.
func New(cfg Config) (*Check, error) {
	if cfg.Scripts == nil {
		return nil, fmt.Errorf("sieve filter: no script store")
	}
	limits := cfg.Limits
	if limits == (sieve.Limits{}) {
		limits = sieve.DefaultLimits()
	}
	if cfg.Compile == nil {
		cfg.Compile = func(src []byte, include func(bool, string) ([]byte, error)) (Program, error) {
			s, err := sieve.Compile(src, sieve.Options{Limits: limits, Include: include})
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ReplyLifetime <= 0 {
		cfg.ReplyLifetime = DefaultReplyLifetime
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	entries, bytes := cfg.CacheEntries, cfg.CacheBytes
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	if bytes <= 0 {
		bytes = DefaultCacheBytes
	}
	runs := newRunsCounter()
	return &Check{cfg: cfg, cache: newCache(entries, bytes), limits: limits, log: cfg.Logger,
		runs: runs, counters: resolveCounters(runs)}, nil
}

// Name is the check's name in logs and metrics.
func (*Check) Name() string { return "sieve" }

// Start loads the local recipients' scripts and forwarding. It returns nil
// when none of them has any: the message is not captured at all.
func (c *Check) Start(ctx context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if len(env.Local) == 0 {
		return nil, nil
	}
	r := &run{c: c, env: env}
	domains := make(map[string]*loaded) // a domain's script, read once per message
	global, err := c.load(ctx, GlobalOwner)
	if err != nil {
		return nil, err
	}
	any := false
	for _, rcpt := range env.Local {
		p := plan{rcpt: rcpt}
		if global != nil {
			p.before = append(p.before, global)
		}
		if d := domainOf(rcpt); d != "" {
			dl, seen := domains[d]
			if !seen {
				if dl, err = c.load(ctx, DomainOwner(d)); err != nil {
					return nil, err
				}
				domains[d] = dl
			}
			if dl != nil {
				p.before = append(p.before, dl)
			}
		}
		if c.cfg.Forwarding != nil {
			to, keep, err := c.cfg.Forwarding.Forwarding(ctx, rcpt)
			if err != nil {
				return nil, fmt.Errorf("sieve: forwarding of %s: %w", rcpt, err)
			}
			if len(to) > 0 {
				p.forward = &forward{to: to, keep: keep}
			}
		}
		if p.user, err = c.load(ctx, rcpt); err != nil {
			return nil, err
		}
		if p.empty() {
			continue
		}
		any = true
		for _, l := range p.scripts() {
			r.body = r.body || l.body
		}
		r.plans = append(r.plans, p)
	}
	if !any {
		return nil, nil
	}
	maxBody := 0
	if r.body {
		maxBody = c.limits.MaxBodyBytes
	}
	r.cap = newCapture(MaxHeaderBytes, maxBody)
	return r, nil
}

// loaded is one owner's active script, compiled (or not).
type loaded struct {
	owner, name string
	prog        Program
	err         error // it does not compile: it is skipped and logged
	body        bool  // it may test the body
}

// load reads and compiles the owner's active script; nil when none.
func (c *Check) load(ctx context.Context, owner string) (*loaded, error) {
	name, src, ok, err := c.cfg.Scripts.ActiveScript(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("sieve: active script of %s: %w", owner, err)
	}
	if !ok {
		return nil, nil
	}
	e := c.cache.get(ctx, c, owner, src)
	return &loaded{owner: owner, name: name, prog: e.prog, err: e.err, body: e.body}, nil
}

// plan is what runs for one recipient.
type plan struct {
	rcpt    string
	before  []*loaded // the administrators' scripts, global first
	forward *forward
	user    *loaded
}

type forward struct {
	to   []string
	keep bool
}

func (p plan) empty() bool { return len(p.before) == 0 && p.forward == nil && p.user == nil }

func (p plan) scripts() []*loaded {
	out := append([]*loaded(nil), p.before...)
	if p.user != nil {
		out = append(out, p.user)
	}
	return out
}

// domainOf is the domain of a canonical address, lower-case.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}
