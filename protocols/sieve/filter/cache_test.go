package filter

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/surat-mail/surat/protocols/sieve"
)

// A script is compiled once, whatever the number of messages and users
// that run it; a broken one too.
func TestCacheCompilesOnce(t *testing.T) {
	h := newHarness(t)
	h.interp.result("s", sieve.Result{Keep: true})
	for i := range 5 {
		h.store.put(fmt.Sprintf("u%d@example.com", i), "s", "s")
		h.store.put(fmt.Sprintf("v%d@example.com", i), "s", "broken")
	}
	for range 3 {
		if _, err := h.deliver(t, mxEnv("s@remote.test", "u0@example.com", "u1@example.com", "u4@example.com", "v1@example.com"), testMessage); err != nil {
			t.Fatal(err)
		}
	}
	if h.interp.compiled != 2 {
		t.Fatalf("compiled %d times, want 2", h.interp.compiled)
	}
}

// The cache is bounded in entries and in bytes, least recently used out
// first.
func TestCacheBounds(t *testing.T) {
	h := newHarness(t)
	c := newCache(3, 100)
	ctx := context.Background()
	for i := range 5 {
		src := fmt.Sprintf("script %d", i)
		h.interp.result(src, sieve.Result{Keep: true})
		c.get(ctx, h.check, "u@example.com", []byte(src))
	}
	if c.len() != 3 {
		t.Fatalf("%d entries", c.len())
	}
	c.get(ctx, h.check, "u@example.com", []byte("script 2")) // used: stays
	big := string(make([]byte, 90))
	h.interp.result(big, sieve.Result{Keep: true})
	c.get(ctx, h.check, "u@example.com", []byte(big))
	// "script 2" (8 bytes), used last, stays beside it; the others went.
	if c.len() != 2 || c.bytes != 98 || c.lookup(sha256.Sum256([]byte("script 2"))) == nil {
		t.Fatalf("%d entries, %d bytes after a large one", c.len(), c.bytes)
	}
	compiled := h.interp.compiled
	c.get(ctx, h.check, "u@example.com", []byte(big))
	if h.interp.compiled != compiled {
		t.Fatal("a cached script was compiled again")
	}
	huge := string(make([]byte, 200))
	h.interp.result(huge, sieve.Result{Keep: true})
	if e := c.get(ctx, h.check, "u@example.com", []byte(huge)); e.err != nil || e.prog == nil {
		t.Fatal("a script larger than the cache does not run")
	}
	if c.bytes > 100 {
		t.Fatalf("%d bytes cached", c.bytes)
	}
}

// A script that includes others (RFC 6609) is compiled again when one of
// them changes; personal includes are the owner's own.
func TestCacheIncludes(t *testing.T) {
	h := newHarness(t)
	const main = "include common\ninclude :global policy\n"
	h.interp.result(main, sieve.Result{Keep: true})
	h.store.put("a@example.com", "main", main)
	h.store.put("b@example.com", "main", main)
	h.store.put("a@example.com", "common", "v1")
	h.store.put("b@example.com", "common", "v1")
	h.store.put("a@example.com", "main", main) // active again
	h.store.put("b@example.com", "main", main)
	h.store.put(GlobalOwner, "policy", "p1")
	delete(h.store.active, GlobalOwner) // a global script to include, none to run
	ctx := context.Background()
	get := func(owner string) *entry { return h.check.cache.get(ctx, h.check, owner, []byte(main)) }
	if e := get("a@example.com"); e.err != nil {
		t.Fatal(e.err)
	}
	get("a@example.com")
	if h.interp.compiled != 1 {
		t.Fatalf("compiled %d times", h.interp.compiled)
	}
	get("b@example.com") // its own personal includes: an entry of its own
	get("b@example.com")
	if h.interp.compiled != 2 {
		t.Fatalf("compiled %d times after b", h.interp.compiled)
	}
	h.store.scripts["a@example.com"]["common"] = []byte("v2")
	get("a@example.com")
	get("b@example.com")
	if h.interp.compiled != 3 {
		t.Fatalf("compiled %d times after a's include changed", h.interp.compiled)
	}
	h.store.scripts[GlobalOwner]["policy"] = []byte("p2")
	get("a@example.com")
	if h.interp.compiled != 4 {
		t.Fatalf("compiled %d times after the global include changed", h.interp.compiled)
	}
	delete(h.store.scripts["a@example.com"], "common")
	if e := get("a@example.com"); e.err == nil {
		t.Fatal("a missing include compiled")
	}
}
