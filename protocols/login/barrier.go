package login

import (
	"context"
	"sync"
	"time"
)

// barriers shares read barriers among concurrent logins: a node that is
// behind and sees a burst of logins asks the leader once per round, not
// once per login. A login joins only a barrier that starts after it
// arrived (the one queued behind the barrier in flight), so it still sees
// every write acknowledged before it began.
type barriers struct {
	fn      func(ctx context.Context) error
	timeout time.Duration

	mu       sync.Mutex
	inFlight bool
	next     *barrierCall // starts when the one in flight ends
}

type barrierCall struct {
	done chan struct{}
	err  error
}

// wait runs, or joins, a barrier that starts no earlier than now, and
// waits for it or for ctx.
func (b *barriers) wait(ctx context.Context) error {
	b.mu.Lock()
	if b.next == nil {
		b.next = &barrierCall{done: make(chan struct{})}
	}
	c := b.next
	if !b.inFlight {
		b.start()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// start runs b.next; called with mu held.
func (b *barriers) start() {
	c := b.next
	b.next, b.inFlight = nil, true
	go func() {
		// The barrier is shared, so no one caller's context bounds it;
		// the timeout does.
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		c.err = b.fn(ctx)
		cancel()
		close(c.done)
		b.mu.Lock()
		b.inFlight = false
		if b.next != nil {
			b.start()
		}
		b.mu.Unlock()
	}()
}
