// Package ratelimit is the node's failure limiter for everything a client
// can guess: passwords (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS
// and AUTH) and addresses (SMTP RCPT to unknown users, which harvesters
// use to learn who exists).
//
// # Policy
//
// Failures are counted under three keys, each with its own Policy:
//
//   - the client: an IPv4 address, or the /64 an IPv6 address is in (one
//     customer is usually given a whole /64, so counting single IPv6
//     addresses would let one host use 2^64 of them). Every failure counts
//     here, wrong passwords and unknown recipients alike, whatever the
//     account. Default: 20 free, then 1 s doubling to 15 min, one failure
//     forgiven per 10 min of quiet.
//   - the pair (account, client): one client guessing one account.
//     Default: 5 free, then 1 s doubling to 15 min, one forgiven per 15 min.
//     This is the lockout that stops a guesser; it touches nobody else.
//   - the account, from anywhere: a distributed guess. Looser, so that an
//     attacker cannot lock the real user out (RFC 4954 §9, RFC 9051 §11.4):
//     20 free, then 1 s doubling to 5 min, one forgiven per 5 min; and a
//     client from which the account logged in successfully in the last
//     week (a trusted pair) is exempt from it, and from the client key
//     too, so a user behind a NAT shared with a guesser keeps working. A
//     trusted pair still has its own pair limit.
//
// After a key's Free-th failure, each attempt involving it must wait the
// key's delay after the previous attempt (Base, doubling per further
// failure, capped at Max); failures decay, one forgiven per Decay, so a key
// that goes quiet returns to no delay by itself. A guesser that comes back
// whenever told settles at about one attempt per Decay (refusals are not
// failures): with the defaults, some 100 guesses a day on one account from
// one client, 150 a day from one client over all accounts, 300 a day on
// one account from everywhere, against fail2ban's default of 5 per 10 min. An admitted attempt on a
// penalised key reserves its slot at once, so concurrent connections from
// one client get one try per delay, not one each.
//
// A wait of at most MaxWait is slept before the password is checked, for
// right and wrong passwords alike, so its length tells nothing; a longer
// one is not slept: the attempt is refused at once as locked, with the
// time left, so a locked-out client holds no connection slot and costs no
// password verification. This is Dovecot's auth_penalty with fail2ban's
// escalation, without either's blind spots (no per-account key in the
// first, no IPv6 prefix in the second).
//
// Memory is bounded: at most MaxKeys keys per table; when full, keys that
// decayed to nothing go first, then the least recently failed, a tenth of
// the table at a time. The clock
// and the sleep are injectable for tests. The package does no I/O and knows
// nothing of protocols; state is per node (a replicated ban list is the
// cluster-wide answer).
package ratelimit

import (
	"context"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Policy is how one kind of key is slowed.
type Policy struct {
	Free  int           // failures before delays start
	Base  time.Duration // first delay
	Max   time.Duration // delay cap
	Decay time.Duration // quiet time that forgives one failure
}

// The default policies (package doc).
var (
	DefaultClient  = Policy{Free: 20, Base: time.Second, Max: 15 * time.Minute, Decay: 10 * time.Minute}
	DefaultPair    = Policy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Decay: 15 * time.Minute}
	DefaultAccount = Policy{Free: 20, Base: time.Second, Max: 5 * time.Minute, Decay: 5 * time.Minute}
)

// Config tunes a Limiter; zero fields take the defaults.
type Config struct {
	Client, Pair, Account Policy
	// MaxWait is the longest delay slept before a check; longer ones
	// refuse the attempt as locked. Default 2 s.
	MaxWait time.Duration
	// TrustFor is how long a successful (account, client) pair stays
	// exempt from the client and account keys. Default 7 days.
	TrustFor time.Duration
	// MaxKeys bounds each table; default 100,000.
	MaxKeys int

	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; default a timer. Tests inject one
	// that advances their fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p *Policy) setDefaults(def Policy) {
	if p.Free <= 0 {
		p.Free = def.Free
	}
	if p.Base <= 0 {
		p.Base = def.Base
	}
	if p.Max <= 0 {
		p.Max = def.Max
	}
	if p.Decay <= 0 {
		p.Decay = def.Decay
	}
}

// Limiter counts failures under the three keys of the package doc. It is
// safe for concurrent use.
type Limiter struct {
	cfg Config

	mu                    sync.Mutex
	client, pair, account *table
	trusted               map[string]time.Time // pair key → trusted until
}

// New returns a Limiter with cfg's defaults filled in.
func New(cfg Config) *Limiter {
	cfg.Client.setDefaults(DefaultClient)
	cfg.Pair.setDefaults(DefaultPair)
	cfg.Account.setDefaults(DefaultAccount)
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Second
	}
	if cfg.TrustFor <= 0 {
		cfg.TrustFor = 7 * 24 * time.Hour
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &Limiter{
		cfg:     cfg,
		client:  newTable(cfg.Client, cfg.MaxKeys),
		pair:    newTable(cfg.Pair, cfg.MaxKeys),
		account: newTable(cfg.Account, cfg.MaxKeys),
		trusted: map[string]time.Time{},
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ClientKey names a client: its IPv4 address, or its IPv6 /64. IPv4
// addresses mapped into IPv6 count as IPv4.
func ClientKey(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "ip:unknown"
	case ip.Is4():
		return "ip:" + ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return "ip:" + p.String()
}

func pairKey(client, account string) string { return account + "\x00" + client }

// Decision is the answer to Admit.
type Decision struct {
	// Waited is how long the attempt was delayed before it was admitted.
	Waited time.Duration
	// Locked, when positive, means the attempt was refused without a
	// check: the client or the account may try again after this long.
	Locked time.Duration
}

// Admit decides whether a login for account (canonical; "" when the name
// was not an address) from ip may be checked now. It sleeps a short delay
// (at most MaxWait) and admits; it refuses a longer one at once (Locked).
// The error is ctx's, when it ended during the wait.
func (l *Limiter) Admit(ctx context.Context, ip netip.Addr, account string) (Decision, error) {
	client := ClientKey(ip)
	pair := pairKey(client, account)
	l.mu.Lock()
	now := l.cfg.Now()
	keys := []keyed{{l.pair, pair}}
	if !l.isTrusted(pair, now) {
		keys = append(keys, keyed{l.client, client})
		if account != "" {
			keys = append(keys, keyed{l.account, account})
		}
	}
	start := now
	for _, k := range keys {
		if u := k.t.until(k.key); u.After(start) {
			start = u
		}
	}
	wait := start.Sub(now)
	if wait > l.cfg.MaxWait {
		l.mu.Unlock()
		return Decision{Locked: wait}, nil
	}
	// Reserve this attempt's slot on every penalised key, so that
	// concurrent attempts queue behind it instead of all going at once.
	for _, k := range keys {
		k.t.reserve(k.key, start)
	}
	l.mu.Unlock()
	if wait <= 0 {
		return Decision{}, nil
	}
	return Decision{Waited: wait}, l.cfg.Sleep(ctx, wait)
}

type keyed struct {
	t   *table
	key string
}

// Failed records a failed login for account ("" when the name was not an
// address) from ip.
func (l *Limiter) Failed(ip netip.Addr, account string) {
	client := ClientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	l.pair.fail(pairKey(client, account), now)
	l.client.fail(client, now)
	if account != "" {
		l.account.fail(account, now)
	}
}

// Succeeded records a successful login: the pair's failures are forgotten
// and the pair is trusted for TrustFor. The client's and the account's
// failures are not: one valid login must not clear a client that guesses
// other accounts, nor an account that others are guessing.
func (l *Limiter) Succeeded(ip netip.Addr, account string) {
	pair := pairKey(ClientKey(ip), account)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	l.pair.forget(pair)
	if len(l.trusted) >= l.cfg.MaxKeys {
		l.evictTrusted(now)
	}
	l.trusted[pair] = now.Add(l.cfg.TrustFor)
}

// Trusted reports whether account logged in successfully from ip within
// TrustFor: such attempts go first when verifications are queued.
func (l *Limiter) Trusted(ip netip.Addr, account string) bool {
	pair := pairKey(ClientKey(ip), account)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.isTrusted(pair, l.cfg.Now())
}

// ClientLocked is how long the client must wait before its next attempt
// at anything (0: it may go on). It reserves nothing: it is for checks
// that cost nothing to repeat, such as an SMTP RCPT.
func (l *Limiter) ClientLocked(ip netip.Addr) time.Duration {
	client := ClientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(0, l.client.until(client).Sub(l.cfg.Now()))
}

// ClientFailed records a failure that involves no account, such as an
// SMTP RCPT to an unknown user (address harvesting).
func (l *Limiter) ClientFailed(ip netip.Addr) {
	client := ClientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.client.fail(client, l.cfg.Now())
}

// Failures reports the decayed failure counts of the client, the pair and
// the account, for logs and tests.
func (l *Limiter) Failures(ip netip.Addr, account string) (client, pair, acct float64) {
	c := ClientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	return l.client.failures(c, now), l.pair.failures(pairKey(c, account), now), l.account.failures(account, now)
}

// Len is the number of keys tracked, over all tables.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.client.entries) + len(l.pair.entries) + len(l.account.entries)
}

func (l *Limiter) isTrusted(pair string, now time.Time) bool {
	until, ok := l.trusted[pair]
	if ok && !now.Before(until) {
		delete(l.trusted, pair)
		return false
	}
	return ok
}

// evictTrusted drops expired trust, or the trust that ends soonest.
func (l *Limiter) evictTrusted(now time.Time) {
	var soonestKey string
	var soonest time.Time
	for k, until := range l.trusted {
		if !now.Before(until) {
			delete(l.trusted, k)
			continue
		}
		if soonestKey == "" || until.Before(soonest) {
			soonestKey, soonest = k, until
		}
	}
	if len(l.trusted) >= l.cfg.MaxKeys && soonestKey != "" {
		delete(l.trusted, soonestKey)
	}
}

// table counts failures per key under one policy. Its caller holds the
// Limiter's lock.
type table struct {
	p       Policy
	max     int
	entries map[string]*entry
	evicted int // evict calls (tests)
}

type entry struct {
	failures float64   // as of last
	last     time.Time // last failure
	next     time.Time // earliest time of the next attempt
}

func newTable(p Policy, max int) *table {
	return &table{p: p, max: max, entries: map[string]*entry{}}
}

// current is e's failure count decayed to now.
func (t *table) current(e *entry, now time.Time) float64 {
	elapsed := now.Sub(e.last)
	if elapsed <= 0 {
		return e.failures
	}
	return math.Max(0, e.failures-float64(elapsed)/float64(t.p.Decay))
}

func (t *table) failures(key string, now time.Time) float64 {
	if e := t.entries[key]; e != nil {
		return t.current(e, now)
	}
	return 0
}

// delay is the wait between attempts after failures failures.
func (t *table) delay(failures float64) time.Duration {
	// A partly forgiven failure still counts; the attempt after the
	// Free-th failure is the first to wait.
	over := int(math.Ceil(failures)) - t.p.Free + 1
	switch {
	case over <= 0:
		return 0
	case over > 30: // past any sensible cap; avoids overflow
		return t.p.Max
	}
	return min(t.p.Base<<(over-1), t.p.Max)
}

func (t *table) until(key string) time.Time {
	if e := t.entries[key]; e != nil {
		return e.next
	}
	return time.Time{}
}

// reserve books an attempt at start on a penalised key: the next one waits
// its delay after it.
func (t *table) reserve(key string, start time.Time) {
	e := t.entries[key]
	if e == nil {
		return
	}
	if d := t.delay(t.current(e, start)); d > 0 {
		e.next = start.Add(d)
	}
}

func (t *table) fail(key string, now time.Time) {
	e := t.entries[key]
	if e == nil {
		if len(t.entries) >= t.max {
			t.evict(now)
		}
		e = &entry{}
		t.entries[key] = e
	}
	e.failures = t.current(e, now) + 1
	e.last = now
	if next := now.Add(t.delay(e.failures)); next.After(e.next) {
		e.next = next
	}
}

func (t *table) forget(key string) { delete(t.entries, key) }

// evict makes room: drop every key that decayed to nothing and is not
// locked; if that frees less than a tenth of the table, also the least
// recently failed keys until a tenth is free. Called only when full, so
// its sort is paid once per max/10 insertions at most, even when an
// attacker keeps every key fresh.
func (t *table) evict(now time.Time) {
	t.evicted++
	type aged struct {
		key  string
		last time.Time
	}
	var live []aged
	for k, e := range t.entries {
		if t.current(e, now) == 0 && !e.next.After(now) {
			delete(t.entries, k)
			continue
		}
		live = append(live, aged{k, e.last})
	}
	target := t.max - max(1, t.max/10)
	if len(t.entries) <= target {
		return
	}
	slices.SortFunc(live, func(a, b aged) int { return a.last.Compare(b.last) })
	for _, a := range live[:len(t.entries)-target] {
		delete(t.entries, a.key)
	}
}
