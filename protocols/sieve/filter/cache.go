package filter

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"fmt"
	"sync"

	"github.com/surat-mail/surat/protocols/sieve"
)

// cache holds compiled scripts by the SHA-256 of their source, least
// recently used out first, bounded in entries and in source bytes. A
// script that includes others (RFC 6609) is valid only while they are the
// same: its entry remembers each one's SHA-256 and is checked against the
// stored scripts on every use; one with personal includes (resolved in its
// owner's scripts) is kept per owner. A script that does not compile is
// cached too, with its error, so that a broken stored script costs one
// compilation, not one per message.
type cache struct {
	maxEntries, maxBytes int

	mu    sync.Mutex
	lru   *list.List // of *entry, most recent first
	index map[[32]byte]*list.Element
	bytes int
}

type entry struct {
	key      [32]byte
	prog     Program
	err      error
	body     bool // the script (or an include) may test the body
	personal bool // it includes personal scripts: see the per-owner entry
	includes []included
	size     int
}

// included is one script an entry's compilation read.
type included struct {
	global bool
	name   string
	sum    [32]byte // zero: it did not exist
}

func newCache(maxEntries, maxBytes int) *cache {
	return &cache{maxEntries: maxEntries, maxBytes: maxBytes, lru: list.New(), index: make(map[[32]byte]*list.Element)}
}

// ownerKey is the key of an entry whose personal includes are owner's.
func ownerKey(src []byte, owner string) [32]byte {
	h := sha256.New()
	h.Write([]byte("surat sieve personal\x00"))
	h.Write([]byte(owner))
	h.Write([]byte{0})
	h.Write(src)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// get returns the compiled owner's script src, compiling it when needed.
func (c *cache) get(ctx context.Context, chk *Check, owner string, src []byte) *entry {
	key := sha256.Sum256(src)
	e := c.lookup(key)
	if e != nil && e.personal {
		e = c.lookup(ownerKey(src, owner))
	}
	if e != nil && c.current(ctx, chk, owner, e) {
		return e
	}
	e = compile(ctx, chk, owner, src)
	if e.personal {
		// The plain key says "look per owner".
		c.put(&entry{key: key, personal: true, size: len(src)})
		e.key = ownerKey(src, owner)
	} else {
		e.key = key
	}
	c.put(e)
	return e
}

// current reports whether the scripts e included are still the same.
func (c *cache) current(ctx context.Context, chk *Check, owner string, e *entry) bool {
	for _, in := range e.includes {
		src, ok, err := chk.readInclude(ctx, owner, in.global, in.name)
		if err != nil {
			return false
		}
		var sum [32]byte
		if ok {
			sum = sha256.Sum256(src)
		}
		if sum != in.sum {
			return false
		}
	}
	return true
}

func (c *cache) lookup(key [32]byte) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*entry)
}

func (c *cache) put(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[e.key]; ok {
		c.bytes -= el.Value.(*entry).size
		c.lru.Remove(el)
		delete(c.index, e.key)
	}
	if e.size > c.maxBytes {
		return
	}
	c.index[e.key] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		last := c.lru.Back()
		old := last.Value.(*entry)
		c.lru.Remove(last)
		delete(c.index, old.key)
		c.bytes -= old.size
	}
}

// len is the number of entries, for tests.
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// bodyUser is implemented by a compiled script that knows whether it
// tests the body (RFC 5173).
type bodyUser interface{ UsesBody() bool }

// compile compiles src for owner, recording the scripts it includes.
func compile(ctx context.Context, chk *Check, owner string, src []byte) *entry {
	e := &entry{size: len(src)}
	srcs := [][]byte{src}
	include := func(global bool, name string) ([]byte, error) {
		s, ok, err := chk.readInclude(ctx, owner, global, name)
		if err != nil {
			return nil, err
		}
		in := included{global: global, name: name}
		e.personal = e.personal || !global
		if ok {
			in.sum = sha256.Sum256(s)
			e.size += len(s)
			srcs = append(srcs, s)
		}
		e.includes = append(e.includes, in)
		if !ok {
			// RFC 6609 §3.2: an error unless :optional, which the
			// interpreter decides.
			return nil, fmt.Errorf("include %q: %w", name, sieve.ErrIncludeNotFound)
		}
		return s, nil
	}
	e.prog, e.err = chk.cfg.Compile(src, include)
	if e.err == nil {
		if bu, ok := e.prog.(bodyUser); ok {
			e.body = bu.UsesBody()
		} else {
			// Without the interpreter's word, any script naming "body"
			// may test it.
			for _, s := range srcs {
				e.body = e.body || bytes.Contains(bytes.ToLower(s), []byte("body"))
			}
		}
	}
	return e
}

// readInclude reads an included script: a global one from the global
// administrator's scripts, a personal one from the owner's (RFC 6609 §3.2).
func (chk *Check) readInclude(ctx context.Context, owner string, global bool, name string) ([]byte, bool, error) {
	if global {
		owner = GlobalOwner
	}
	return chk.cfg.Scripts.Script(ctx, owner, name)
}
