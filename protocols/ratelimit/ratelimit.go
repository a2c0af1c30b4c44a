// Package ratelimit slows repeated failures (wrong passwords) per key, such
// as a client IP ("ip:192.0.2.1") or an account ("user:alice@example.org"),
// for every login path (SMTP AUTH, IMAP LOGIN, POP3 PASS).
//
// Policy: a key may fail Free times without consequence. From then on, every
// attempt involving the key waits before it is even checked: Base after the
// Free-th failure, doubling per further failure, capped at
// Max. Failures decay: one is forgiven per Decay of quiet, so a key that
// stops failing returns to no delay by itself, and a correct password typed
// after a brute-force burst is still accepted, only later (no lockout that an
// attacker could use to deny the real user; RFC 4954 §9 and RFC 9051 §11.4
// ask servers to slow, not block). The wait comes before the verification,
// for right and wrong passwords alike, so its length tells an attacker
// nothing about the guess.
//
// Memory is bounded: at most MaxKeys keys are tracked; when full, keys that
// have decayed to zero are dropped first, then the least recently failed.
// The clock and the sleep are injectable for tests. The package does no I/O
// and knows nothing of protocols.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Config tunes a Limiter; zero fields take the defaults noted.
type Config struct {
	Free    int           // failures per key before delays start; default 5
	Base    time.Duration // first delay; default 250 ms
	Max     time.Duration // delay cap; default 5 s
	Decay   time.Duration // quiet time that forgives one failure; default 10 s
	MaxKeys int           // keys tracked at most; default 100,000

	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; default a timer. Tests inject one
	// that advances their fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Limiter counts failures per key. It is safe for concurrent use.
type Limiter struct {
	cfg     Config
	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	failures float64   // as of last
	last     time.Time // last update
}

// New returns a Limiter with cfg's defaults filled in.
func New(cfg Config) *Limiter {
	if cfg.Free <= 0 {
		cfg.Free = 5
	}
	if cfg.Base <= 0 {
		cfg.Base = 250 * time.Millisecond
	}
	if cfg.Max <= 0 {
		cfg.Max = 5 * time.Second
	}
	if cfg.Decay <= 0 {
		cfg.Decay = 10 * time.Second
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
	return &Limiter{cfg: cfg, entries: make(map[string]*entry)}
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

// current is e's failure count decayed to now.
func (l *Limiter) current(e *entry, now time.Time) float64 {
	elapsed := now.Sub(e.last)
	if elapsed <= 0 {
		return e.failures
	}
	return math.Max(0, e.failures-float64(elapsed)/float64(l.cfg.Decay))
}

// Failures is key's failure count now (decayed), for logs and tests.
func (l *Limiter) Failures(key string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return 0
	}
	return l.current(e, l.cfg.Now())
}

// Delay is how long an attempt involving keys must wait: the longest of
// the keys' delays.
func (l *Limiter) Delay(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	var worst time.Duration
	for _, k := range keys {
		e := l.entries[k]
		if e == nil {
			continue
		}
		worst = max(worst, l.delayFor(l.current(e, now)))
	}
	return worst
}

func (l *Limiter) delayFor(failures float64) time.Duration {
	// A partly forgiven failure still counts; the attempt after the
	// Free-th failure is the first to wait.
	over := int(math.Ceil(failures)) - l.cfg.Free + 1
	if over <= 0 {
		return 0
	}
	if over > 30 { // 2^30 * Base overflows nothing yet but is past any cap
		return l.cfg.Max
	}
	return min(l.cfg.Base<<(over-1), l.cfg.Max)
}

// Wait sleeps for Delay(keys...) and returns how long it waited; it
// returns early with ctx's error if ctx ends first.
func (l *Limiter) Wait(ctx context.Context, keys ...string) (time.Duration, error) {
	d := l.Delay(keys...)
	if d <= 0 {
		return 0, nil
	}
	return d, l.cfg.Sleep(ctx, d)
}

// Fail records one failure against each key.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.cfg.Now()
	for _, k := range keys {
		e := l.entries[k]
		if e == nil {
			if len(l.entries) >= l.cfg.MaxKeys {
				l.evict(now)
			}
			e = &entry{}
			l.entries[k] = e
		}
		e.failures = l.current(e, now) + 1
		e.last = now
	}
}

// Reset forgets key (an account after a successful login). Client IPs are
// not reset on success: one valid account must not clear an IP that is
// guessing others.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// Len is the number of keys tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// evict makes room: drop every key that decayed to zero; if none did, the
// least recently failed one. Called with mu held, only when full, so the
// linear scan is paid once per MaxKeys insertions at worst in steady state.
func (l *Limiter) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, e := range l.entries {
		if l.current(e, now) == 0 {
			delete(l.entries, k)
			continue
		}
		if oldestKey == "" || e.last.Before(oldest) {
			oldestKey, oldest = k, e.last
		}
	}
	if len(l.entries) >= l.cfg.MaxKeys && oldestKey != "" {
		delete(l.entries, oldestKey)
	}
}
