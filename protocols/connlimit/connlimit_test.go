package connlimit

import (
	"sync"
	"testing"
)

func TestLimits(t *testing.T) {
	l := New[int](3, 2)
	steps := []struct {
		conn int
		ip   string
		want bool
	}{
		{1, "a", true},
		{2, "a", true},
		{3, "a", false}, // per-IP limit
		{3, "b", true},
		{4, "c", false}, // total limit
	}
	for _, s := range steps {
		if got := l.Acquire(s.conn, s.ip); got != s.want {
			t.Fatalf("Acquire(%d, %s) = %v, want %v", s.conn, s.ip, got, s.want)
		}
	}
	l.Release(1)
	l.Release(1) // twice: no effect
	l.Release(99)
	if l.Open() != 2 {
		t.Fatalf("Open = %d, want 2", l.Open())
	}
	if !l.Acquire(5, "a") || l.Acquire(6, "a") {
		t.Fatal("per-IP slot not freed exactly once")
	}
	if got := len(l.Conns()); got != 3 {
		t.Fatalf("Conns = %d, want 3", got)
	}
}

func TestConcurrent(t *testing.T) {
	l := New[int](1000, 1000)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				c := g*1000 + i
				if l.Acquire(c, "ip") {
					l.Release(c)
				}
			}
		}()
	}
	wg.Wait()
	if l.Open() != 0 {
		t.Fatalf("Open = %d after all released", l.Open())
	}
}
