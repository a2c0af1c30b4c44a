package auth

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// Cache remembers successful verifications for a short time, as Dovecot's
// auth_cache does: an argon2id verification costs ~20 ms of CPU and ~19 MiB
// of memory, and mail clients log in again and again (IMAP clients open
// several connections; POP3 pollers every few minutes).
//
// Only successes are cached, so a wrong password always pays the full
// verification (and the login limiter's delay). Entries are keyed by an
// HMAC, under a key made at start and never stored, of the stored hash and
// the password: the cache holds no password, and a password change (a new
// stored hash) makes old entries unreachable at once.
type Cache struct {
	key    [32]byte
	ttl    time.Duration
	max    int
	now    func() time.Time
	verify func(hash, password string) (bool, error)

	mu      sync.Mutex
	order   *list.List // front: most recently used
	entries map[[32]byte]*list.Element
}

type cacheEntry struct {
	id      [32]byte
	expires time.Time
}

// NewCache returns a cache of at most max entries, each valid for ttl,
// in front of Verify.
func NewCache(max int, ttl time.Duration) (*Cache, error) {
	c := &Cache{ttl: ttl, max: max, now: time.Now, verify: Verify,
		order: list.New(), entries: map[[32]byte]*list.Element{}}
	if max <= 0 || ttl <= 0 {
		return nil, fmt.Errorf("auth cache: size and lifetime must be positive")
	}
	if _, err := rand.Read(c.key[:]); err != nil {
		return nil, fmt.Errorf("auth cache: %w", err)
	}
	return c, nil
}

func (c *Cache) id(hash, password string) [32]byte {
	mac := hmac.New(sha256.New, c.key[:])
	mac.Write([]byte(hash))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var id [32]byte
	copy(id[:], mac.Sum(nil))
	return id
}

// Verify is Verify with the cache in front: a success seen within the
// lifetime is answered without hashing again.
func (c *Cache) Verify(hash, password string) (bool, error) {
	if c.Cached(hash, password) {
		return true, nil
	}
	ok, err := c.verify(hash, password)
	if err != nil || !ok {
		return ok, err
	}
	c.Remember(hash, password)
	return true, nil
}

// Cached reports whether password was verified against hash within the
// lifetime. A caller that bounds its own verifications (protocols/login)
// asks this first, and Remembers a success it verified itself.
func (c *Cache) Cached(hash, password string) bool {
	id := c.id(hash, password)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[id]
	if !ok {
		return false
	}
	if now.Before(el.Value.(*cacheEntry).expires) {
		c.order.MoveToFront(el)
		return true
	}
	c.order.Remove(el)
	delete(c.entries, id)
	return false
}

// Remember records that password matched hash (only ever call it after a
// successful verification).
func (c *Cache) Remember(hash, password string) {
	id := c.id(hash, password)
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.entries[id]; found {
		el.Value.(*cacheEntry).expires = now.Add(c.ttl)
		c.order.MoveToFront(el)
		return
	}
	c.entries[id] = c.order.PushFront(&cacheEntry{id: id, expires: now.Add(c.ttl)})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*cacheEntry).id)
	}
}

// Len is the number of cached successes.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
