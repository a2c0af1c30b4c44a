package mtasts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
)

// DefaultMaxEntries bounds the cache: the domains this node delivers to
// most recently, and no more.
const DefaultMaxEntries = 10000

// Cache finds and keeps domains' policies (RFC 8461 §3, §5.1).
type Cache struct {
	Resolver   dns.Resolver // TXT look-ups; required
	Fetcher    *Fetcher     // required
	Now        func() time.Time
	MaxEntries int // 0: DefaultMaxEntries

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	id      string
	policy  *Policy
	expires time.Time
}

// Result is what Lookup found for a domain.
type Result struct {
	// Policy applies to the delivery (mode enforce or testing); nil: no
	// policy (none published, withdrawn with mode none, or not fetched).
	Policy *Policy
	// ID is the TXT record's id the policy was fetched under.
	ID string
	// Cached: the policy came from the cache without a fetch.
	Cached bool
	// FetchErr, when set, is why a published policy (a valid TXT record)
	// could not be had and none was cached: RFC 8460's
	// sts-policy-fetch-error, or sts-policy-invalid when it is an
	// *InvalidPolicyError. Delivery goes on without a policy.
	FetchErr error
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Lookup returns the policy that applies to mail for domain.
func (c *Cache) Lookup(ctx context.Context, domain string) Result {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	now := c.now()
	cached := c.get(domain, now)
	rec, err := c.record(ctx, domain)
	if err != nil {
		// No (valid) record, or DNS trouble: a policy in the cache stays
		// in force until its max_age (RFC 8461 §5.1: an attacker who
		// suppresses the TXT record must not downgrade a known policy).
		return c.fromCache(cached)
	}
	if cached != nil && cached.id == rec.ID {
		return c.fromCache(cached)
	}
	// New domain, changed id, or an expired policy: fetch (§5.1).
	p, err := c.Fetcher.Fetch(ctx, domain)
	if err != nil {
		if cached != nil {
			// §5.1: keep the cached policy when the update fails.
			return c.fromCache(cached)
		}
		return Result{FetchErr: err}
	}
	c.put(domain, &entry{id: rec.ID, policy: p, expires: now.Add(p.MaxAge)}, now)
	return result(p, rec.ID, false)
}

func (c *Cache) fromCache(e *entry) Result {
	if e == nil {
		return Result{}
	}
	return result(e.policy, e.id, true)
}

func result(p *Policy, id string, cached bool) Result {
	if p.Mode == None {
		return Result{ID: id, Cached: cached} // §5: as if there were no policy
	}
	return Result{Policy: p, ID: id, Cached: cached}
}

var errNoRecord = errors.New("mta-sts: no _mta-sts record")

// record reads _mta-sts.DOMAIN (RFC 8461 §3.1): records that do not start
// with v=STSv1 are ignored; not exactly one left, or one that does not
// parse, means no policy.
func (c *Cache) record(ctx context.Context, domain string) (Record, error) {
	txts, err := c.Resolver.LookupTXT(ctx, "_mta-sts."+domain)
	if err != nil {
		return Record{}, fmt.Errorf("mta-sts: TXT _mta-sts.%s: %w", domain, err)
	}
	var sts []string
	for _, t := range txts {
		if strings.HasPrefix(t, "v=STSv1") {
			sts = append(sts, t)
		}
	}
	if len(sts) != 1 {
		return Record{}, errNoRecord
	}
	return ParseRecord(sts[0])
}

func (c *Cache) get(domain string, now time.Time) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[domain]
	if e == nil {
		return nil
	}
	if !now.Before(e.expires) {
		delete(c.entries, domain) // §5.1: never used past max_age
		return nil
	}
	return e
}

func (c *Cache) put(domain string, e *entry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*entry{}
	}
	limit := c.MaxEntries
	if limit <= 0 {
		limit = DefaultMaxEntries
	}
	if _, ok := c.entries[domain]; !ok && len(c.entries) >= limit {
		// Drop what has expired; if that frees nothing, the entry that
		// expires first.
		var soonest string
		for d, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, d)
			} else if soonest == "" || old.expires.Before(c.entries[soonest].expires) {
				soonest = d
			}
		}
		if len(c.entries) >= limit && soonest != "" {
			delete(c.entries, soonest)
		}
	}
	c.entries[domain] = e
}

// Len is the number of cached policies.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
