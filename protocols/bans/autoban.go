package bans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/ratelimit"
)

// Automatic bans, fail2ban's policy over the login path's lockouts: when
// one client (an IPv4 address, or an IPv6 /64, as protocols/ratelimit
// counts clients) is refused as locked out Count times within Window on
// this node, the node proposes a replicated ban of it for Duration (source
// AutoSource), once: not again while that ban stands. Loopback addresses
// are never banned, nor addresses in Exempt, so that a local webmail or
// proxy, whose users all share its address, cannot get the cluster to ban
// itself. Lockouts are counted per node; the ban, once committed, holds
// on every node.

// AutoSource is the source an automatic ban is recorded with.
const AutoSource = "login"

// AutoConfig configures an AutoBanner.
type AutoConfig struct {
	Count    int           // lockouts within Window that ban a client; required
	Window   time.Duration // required
	Duration time.Duration // how long the ban lasts; required
	// Exempt lists prefixes never banned (loopback always is).
	Exempt   []netip.Prefix
	Proposer propose.Proposer // required
	// Bans, if set, is the ban list in force: a client it already bans
	// (from any node, or by hand) is not proposed again.
	Bans Checker
	// ProposeTimeout bounds one ban's proposal; default 10 s.
	ProposeTimeout time.Duration
	// MaxClients bounds the clients tracked; default 100,000.
	MaxClients int
	// Banned, if set, counts the bans proposed and committed.
	Banned prometheus.Counter
	Now    func() time.Time // default time.Now
	Logger *slog.Logger
}

// AutoBanner counts lockouts and bans the clients that pass the policy.
// It is safe for concurrent use.
type AutoBanner struct {
	cfg    AutoConfig
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	clients map[string]*lockouts
	closed  bool // no proposals after Close
}

// lockouts is one client's recent lockouts, oldest first (at most Count),
// and until when a ban proposed for it stands.
type lockouts struct {
	at     []time.Time
	banned time.Time
}

// NewAutoBanner checks cfg and returns an AutoBanner; Close stops it.
func NewAutoBanner(cfg AutoConfig) (*AutoBanner, error) {
	switch {
	case cfg.Count <= 0 || cfg.Window <= 0 || cfg.Duration <= 0:
		return nil, errors.New("bans: automatic bans need a count, a window and a duration above zero")
	case cfg.Proposer == nil:
		return nil, errors.New("bans: automatic bans need a proposer")
	}
	if cfg.ProposeTimeout <= 0 {
		cfg.ProposeTimeout = 10 * time.Second
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &AutoBanner{cfg: cfg, clients: map[string]*lockouts{}}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// Exempt reports whether ip is never banned automatically.
func (a *AutoBanner) Exempt(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	for _, p := range a.cfg.Exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Locked notes that ip was refused as locked out. It never blocks: a ban
// the lockout earns is proposed in the background.
func (a *AutoBanner) Locked(ip netip.Addr) {
	if a.Exempt(ip) {
		return
	}
	ip = ip.Unmap().WithZone("")
	key := ratelimit.ClientKey(ip)
	now := a.cfg.Now()
	a.mu.Lock()
	c := a.clients[key]
	if c == nil {
		if len(a.clients) >= a.cfg.MaxClients {
			a.evictLocked(now)
		}
		c = &lockouts{}
		a.clients[key] = c
	}
	if now.Before(c.banned) {
		a.mu.Unlock()
		return // proposed already; it stands
	}
	c.at = append(c.at, now)
	cut := 0
	for cut < len(c.at) && now.Sub(c.at[cut]) >= a.cfg.Window {
		cut++
	}
	c.at = c.at[cut:]
	if len(c.at) < a.cfg.Count { // so at most Count are kept
		a.mu.Unlock()
		return
	}
	n := len(c.at)
	c.at, c.banned = nil, now.Add(a.cfg.Duration)
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		if a.cfg.Bans != nil && a.cfg.Bans.Banned(ip, now) {
			return // banned already, by hand or by another node
		}
		a.ban(ip, key, n, now)
	}()
}

// ban proposes the ban and waits for its commit; a failure lets the next
// lockouts try again.
func (a *AutoBanner) ban(ip netip.Addr, key string, n int, now time.Time) {
	ctx, cancel := context.WithTimeout(a.ctx, a.cfg.ProposeTimeout)
	defer cancel()
	reason := fmt.Sprintf("%d login lockouts within %v", n, a.cfg.Window)
	err := Ban(ctx, a.cfg.Proposer, ip, reason, AutoSource, now, a.cfg.Duration)
	if err != nil {
		a.cfg.Logger.Warn("automatic ban not committed", "remote", ip.String(), "count", n, "err", err)
		a.mu.Lock()
		if c := a.clients[key]; c != nil {
			c.banned = time.Time{}
		}
		a.mu.Unlock()
		return
	}
	if a.cfg.Banned != nil {
		a.cfg.Banned.Inc()
	}
	prefix, _ := evlog.BanPrefix(ip.String()) // Ban parsed it already
	a.cfg.Logger.Warn("client banned automatically", "remote", ip.String(), "prefix", prefix.String(),
		"count", n, "duration", a.cfg.Duration, "reason", reason)
}

// evictLocked drops the clients with nothing recent, or, if none, a tenth
// of them; called with mu held.
func (a *AutoBanner) evictLocked(now time.Time) {
	for k, c := range a.clients {
		if now.After(c.banned) && (len(c.at) == 0 || now.Sub(c.at[len(c.at)-1]) >= a.cfg.Window) {
			delete(a.clients, k)
		}
	}
	for k := range a.clients {
		if len(a.clients) < a.cfg.MaxClients*9/10 {
			break
		}
		delete(a.clients, k)
	}
}

// Close gives up the proposals in flight and waits for them.
func (a *AutoBanner) Close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
}
