package login

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBarriersAreShared: a burst of logins on a node that is behind costs
// a few read barriers, not one each.
func TestBarriersAreShared(t *testing.T) {
	var calls atomic.Int32
	a := newAuth(t, Config{Directory: newStore(t), MaxQueued: 1000, CaughtUp: func() bool { return false },
		ReadBarrier: func(ctx context.Context) error {
			calls.Add(1)
			time.Sleep(20 * time.Millisecond)
			return nil
		}})
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a.NewConn("192.0.2.1", nil).Login(context.Background(), alice, alicePass).Result == OK {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 200 || calls.Load() > 10 {
		t.Fatalf("%d of 200 logins OK with %d read barriers", ok.Load(), calls.Load())
	}
	t.Logf("200 logins, %d read barriers", calls.Load())
}

// TestBarrierJoinedOnlyIfLater: a login that arrives while a barrier is in
// flight waits for the next one, which starts after it arrived; the one in
// flight may predate a write it must see.
func TestBarrierJoinedOnlyIfLater(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	b := &barriers{timeout: time.Minute, fn: func(ctx context.Context) error {
		started.Add(1)
		<-release
		return nil
	}}
	first := make(chan error, 1)
	go func() { first <- b.wait(context.Background()) }()
	waitFor(t, func() bool { return started.Load() == 1 })
	second := make(chan error, 1)
	go func() { second <- b.wait(context.Background()) }()
	time.Sleep(10 * time.Millisecond) // the second is queued
	release <- struct{}{}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case <-second:
		t.Fatal("the second login used the barrier that started before it")
	case <-time.After(20 * time.Millisecond):
	}
	waitFor(t, func() bool { return started.Load() == 2 })
	release <- struct{}{}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
