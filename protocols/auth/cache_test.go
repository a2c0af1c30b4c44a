package auth

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheAnswersRepeatedSuccessesOnly(t *testing.T) {
	hash, err := HashWith(fast, "right")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCache(2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	c.verify = func(h, p string) (bool, error) { calls.Add(1); return Verify(h, p) }
	clock := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return clock }

	for i, tc := range []struct {
		password  string
		want      bool
		wantCalls int32
	}{
		{"right", true, 1},
		{"right", true, 1}, // cached
		{"wrong", false, 2},
		{"wrong", false, 3}, // failures are never cached
		{"right", true, 3},
	} {
		ok, err := c.Verify(hash, tc.password)
		if err != nil || ok != tc.want || calls.Load() != tc.wantCalls {
			t.Fatalf("step %d: ok=%v err=%v calls=%d, want ok=%v calls=%d", i, ok, err, calls.Load(), tc.want, tc.wantCalls)
		}
	}

	// After the lifetime the password is verified again.
	clock = clock.Add(2 * time.Minute)
	if ok, _ := c.Verify(hash, "right"); !ok || calls.Load() != 4 {
		t.Fatalf("expired entry: ok=%v calls=%d", ok, calls.Load())
	}

	// A changed password (new stored hash) does not match the old entry.
	newHash, _ := HashWith(fast, "new")
	if ok, _ := c.Verify(newHash, "right"); ok {
		t.Fatal("old password accepted against the new hash")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c, _ := NewCache(3, time.Minute)
	c.verify = func(h, p string) (bool, error) { return true, nil }
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		c.Verify("h", p)
	}
	if c.Len() != 3 {
		t.Fatalf("Len = %d, want 3", c.Len())
	}
}

func TestCacheConcurrentUse(t *testing.T) {
	hash, _ := HashWith(fast, "pw")
	c, _ := NewCache(16, time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				if ok, err := c.Verify(hash, "pw"); !ok || err != nil {
					t.Errorf("ok=%v err=%v", ok, err)
				}
				if ok, _ := c.Verify(hash, "nope"); ok {
					t.Error("wrong password accepted")
				}
			}
		}()
	}
	wg.Wait()
}
