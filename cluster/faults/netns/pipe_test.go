package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// stepClock advances by step on every Now and records every SleepUntil
// without sleeping.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	step   time.Duration
	reads  []time.Time // what Now returned, in order
	sleeps []time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	c.reads = append(c.reads, c.now)
	return c.now
}

func (c *stepClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, t)
	return ctx.Err()
}

// TestDelayedCopyDueTimes pins that each chunk is due D after its own
// arrival (not D after the previous chunk left) and that order is kept.
func TestDelayedCopyDueTimes(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		delay  time.Duration
		step   time.Duration
	}{
		{"burst", []string{"a", "bb", "ccc", "dddd", "e"}, 100 * time.Millisecond, time.Millisecond},
		{"spread", []string{"one", "two", "three"}, 20 * time.Millisecond, 50 * time.Millisecond},
		{"no delay", []string{"x", "y"}, 0, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srcW, src := net.Pipe()
			dst, dstR := net.Pipe()
			clk := &stepClock{now: time.Unix(1000, 0), step: tc.step}
			copied := make(chan error, 1)
			go func() {
				copied <- delayedCopy(t.Context(), dst, src, func() time.Duration { return tc.delay }, clk)
			}()
			received := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(dstR) // ends when dst is closed below
				received <- b
			}()
			var want []byte
			for _, c := range tc.chunks {
				// net.Pipe hands each write to one read, so each write is one
				// chunk.
				if _, err := srcW.Write([]byte(c)); err != nil {
					t.Fatalf("write %q: %v", c, err)
				}
				want = append(want, c...)
			}
			srcW.Close()
			if err := <-copied; err != nil {
				t.Fatalf("delayedCopy: %v", err)
			}
			dst.Close()
			if got := <-received; !bytes.Equal(got, want) {
				t.Fatalf("received %q, want %q", got, want)
			}
			clk.mu.Lock()
			defer clk.mu.Unlock()
			if len(clk.sleeps) != len(tc.chunks) || len(clk.reads) != len(tc.chunks) {
				t.Fatalf("%d arrivals and %d sleeps for %d chunks", len(clk.reads), len(clk.sleeps), len(tc.chunks))
			}
			for i := range tc.chunks {
				if want := clk.reads[i].Add(tc.delay); !clk.sleeps[i].Equal(want) {
					t.Errorf("chunk %d due %v after the first arrival, want %v (its own arrival + %v)",
						i, clk.sleeps[i].Sub(clk.reads[0]), want.Sub(clk.reads[0]), tc.delay)
				}
			}
		})
	}
}

// tcpPair is both ends of one loopback TCP connection.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestDelayedCopyStream sends a megabyte through a real delayed copy between
// two TCP connections: every byte arrives, in order, and the sender's
// half-close reaches the receiver as EOF.
func TestDelayedCopyStream(t *testing.T) {
	for _, delay := range []time.Duration{0, 2 * time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			sender, relayIn := tcpPair(t)
			relayOut, receiver := tcpPair(t)
			copied := make(chan error, 1)
			go func() {
				copied <- delayedCopy(t.Context(), relayOut, relayIn, func() time.Duration { return delay }, realClock{})
			}()
			want := make([]byte, 1<<20)
			rand.Read(want)
			go func() {
				if _, err := sender.Write(want); err != nil {
					t.Errorf("send: %v", err)
				}
				if err := sender.CloseWrite(); err != nil {
					t.Errorf("half-close: %v", err)
				}
			}()
			receiver.SetReadDeadline(time.Now().Add(time.Minute))
			got, err := io.ReadAll(receiver)
			if err != nil {
				t.Fatalf("receive: %v (got %d bytes)", err, len(got))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("received %d bytes that differ from the %d sent", len(got), len(want))
			}
			if err := <-copied; err != nil {
				t.Fatalf("delayedCopy: %v", err)
			}
		})
	}
}

// TestDelayedCopyWriteFailure: when the destination is gone the copy closes
// both ends and returns the error instead of blocking on the source.
func TestDelayedCopyWriteFailure(t *testing.T) {
	sender, relayIn := tcpPair(t)
	relayOut, receiver := tcpPair(t)
	relayOut.Close()
	receiver.Close()
	copied := make(chan error, 1)
	go func() {
		copied <- delayedCopy(t.Context(), relayOut, relayIn, func() time.Duration { return 0 }, realClock{})
	}()
	if _, err := sender.Write([]byte("lost")); err != nil {
		t.Fatalf("send: %v", err)
	}
	select {
	case err := <-copied:
		if err == nil {
			t.Fatal("delayedCopy to a closed connection returned nil")
		}
	case <-time.After(time.Minute):
		t.Fatal("delayedCopy did not return after its destination failed")
	}
	// The source was closed too, so the sender sees the connection end.
	sender.SetReadDeadline(time.Now().Add(time.Minute))
	if n, err := sender.Read(make([]byte, 1)); err == nil {
		t.Fatalf("sender read %d bytes after the abort, want EOF or reset", n)
	}
}
