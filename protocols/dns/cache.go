package dns

import (
	"container/list"
	"sync"
	"time"
)

// cacheKey is one question: a canonical (lower-case, absolute) name and a
// type. The class is always IN.
type cacheKey struct {
	name  string
	qtype uint16
}

type cacheEntry struct {
	key     cacheKey
	ans     Answer
	err     error // a not-found *net.DNSError, or nil
	expires time.Time
}

// cache holds answers until their TTL runs out, at most max entries; the
// least recently used goes first when it is full. Only positive answers
// and not-found answers are kept: a temporary failure is never cached, so
// the next look-up asks again.
type cache struct {
	max int

	mu      sync.Mutex
	entries map[cacheKey]*list.Element // of *cacheEntry
	lru     list.List                  // front: most recently used
}

func newCache(max int) *cache {
	return &cache{max: max, entries: make(map[cacheKey]*list.Element)}
}

// get returns the answer for key if it has not expired at now.
func (c *cache) get(key cacheKey, now time.Time) (Answer, error, bool) {
	if c == nil {
		return Answer{}, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return Answer{}, nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.lru.Remove(el)
		delete(c.entries, key)
		return Answer{}, nil, false
	}
	c.lru.MoveToFront(el)
	return e.ans, e.err, true
}

// put keeps an answer until expires.
func (c *cache) put(key cacheKey, ans Answer, err error, expires time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		e.ans, e.err, e.expires = ans, err, expires
		c.lru.MoveToFront(el)
		return
	}
	for c.lru.Len() >= c.max {
		oldest := c.lru.Back()
		c.lru.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).key)
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, ans: ans, err: err, expires: expires})
}

// len is the number of entries, expired ones included until met.
func (c *cache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
