package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told to (or when a Sleep
// advances it), so delays are tested without waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.Advance(d)
	return nil
}

func newTest(cfg Config) (*Limiter, *fakeClock) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	cfg.Now, cfg.Sleep = clk.Now, clk.Sleep
	return New(cfg), clk
}

func TestDelayGrowsAfterFreeFailuresAndIsCapped(t *testing.T) {
	l, _ := newTest(Config{Free: 5, Base: 250 * time.Millisecond, Max: 4 * time.Second, Decay: time.Minute})
	want := []time.Duration{
		0, 0, 0, 0, 0, // the first five failures are free
		250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
		4 * time.Second, 4 * time.Second, 4 * time.Second,
	}
	for i, w := range want {
		if got := l.Delay("ip:a"); got != w {
			t.Fatalf("after %d failures: delay %v, want %v", i, got, w)
		}
		l.Fail("ip:a")
	}
	for range 100 {
		l.Fail("ip:a")
	}
	if got := l.Delay("ip:a"); got != 4*time.Second {
		t.Fatalf("after many failures: delay %v, want the cap", got)
	}
}

func TestDelayIsTheWorstOfTheKeys(t *testing.T) {
	l, _ := newTest(Config{Free: 1, Base: time.Second, Max: 8 * time.Second, Decay: time.Hour})
	l.Fail("ip:a", "user:x")
	l.Fail("ip:a")
	if got := l.Delay("user:x"); got != time.Second {
		t.Fatalf("user:x after its one free failure: %v, want 1s", got)
	}
	if got := l.Delay("user:y"); got != 0 {
		t.Fatalf("user:y: %v, want 0", got)
	}
	if got := l.Delay("ip:a", "user:x"); got != 2*time.Second {
		t.Fatalf("ip:a with user:x: %v, want 2s", got)
	}
	if got := l.Delay("ip:other", "user:y"); got != 0 {
		t.Fatalf("other ip: %v, want 0", got)
	}
}

func TestFailuresDecay(t *testing.T) {
	l, clk := newTest(Config{Free: 5, Base: time.Second, Max: 5 * time.Second, Decay: 10 * time.Second})
	for range 20 {
		l.Fail("user:bob")
	}
	if got := l.Delay("user:bob"); got != 5*time.Second {
		t.Fatalf("after the burst: %v, want the 5s cap", got)
	}
	clk.Advance(140 * time.Second) // forgives 14 of 20
	if got := l.Failures("user:bob"); got != 6 {
		t.Fatalf("failures after 140 s: %v, want 6", got)
	}
	if got := l.Delay("user:bob"); got != 2*time.Second {
		t.Fatalf("delay after 140 s: %v, want 2s", got)
	}
	clk.Advance(time.Hour)
	if got := l.Delay("user:bob"); got != 0 {
		t.Fatalf("delay after an hour: %v, want 0", got)
	}
}

// TestCorrectPasswordAfterBurst is the acceptance check G4 in miniature:
// twenty wrong passwords, then the right one must get through within 15 s
// (it waits the capped delay, never a lockout).
func TestCorrectPasswordAfterBurst(t *testing.T) {
	l, clk := newTest(Config{})
	start := clk.Now()
	for range 20 {
		if _, err := l.Wait(context.Background(), "ip:127.0.0.1", "user:bob"); err != nil {
			t.Fatal(err)
		}
		l.Fail("ip:127.0.0.1", "user:bob")
	}
	t0 := clk.Now()
	waited, err := l.Wait(context.Background(), "ip:127.0.0.1", "user:bob")
	if err != nil {
		t.Fatal(err)
	}
	if waited <= 0 || waited > 15*time.Second {
		t.Fatalf("correct attempt waited %v: want a delay, under 15 s", waited)
	}
	if clk.Now().Sub(t0) != waited {
		t.Fatalf("Wait did not sleep its delay")
	}
	l.Reset("user:bob")
	if got := l.Delay("user:bob"); got != 0 {
		t.Fatalf("after Reset: %v", got)
	}
	if got := l.Delay("ip:127.0.0.1"); got == 0 {
		t.Fatalf("Reset of the account must not clear the IP")
	}
	t.Logf("burst took %v of fake time", clk.Now().Sub(start))
}

func TestWaitStopsWithContext(t *testing.T) {
	l := New(Config{Free: 1, Base: time.Hour, Max: time.Hour})
	l.Fail("k")
	l.Fail("k")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Wait(ctx, "k"); err == nil {
		t.Fatal("Wait ignored a cancelled context")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	l, clk := newTest(Config{MaxKeys: 100, Decay: time.Second})
	for i := range 1000 {
		l.Fail(fmt.Sprintf("ip:%d", i))
		if l.Len() > 100 {
			t.Fatalf("%d keys tracked, limit 100", l.Len())
		}
	}
	// The most recent key survives eviction of the oldest.
	if l.Failures("ip:999") == 0 {
		t.Fatal("newest key was evicted")
	}
	clk.Advance(time.Minute)
	l.Fail("ip:new")
	if l.Len() != 1 {
		t.Fatalf("decayed keys not dropped: %d tracked", l.Len())
	}
}

func TestConcurrentUse(t *testing.T) {
	l := New(Config{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				k := fmt.Sprintf("k%d", (g*i)%17)
				l.Fail(k)
				_ = l.Delay(k, "shared")
				if i%50 == 0 {
					l.Reset(k)
				}
			}
		}()
	}
	wg.Wait()
}
