package login

import (
	"container/list"
	"context"
	"sync"
)

// slots is a counting semaphore with two bounded FIFO lanes of waiters:
// priority (lane 0) is always served before the rest (lane 1). A waiter
// that finds its lane full is refused at once with ErrBusy.
type slots struct {
	mu        sync.Mutex
	size      int
	free      int
	maxQueued int
	lanes     [2]*list.List // of chan struct{}
}

func newSlots(size, maxQueued int) *slots {
	return &slots{size: size, free: size, maxQueued: maxQueued, lanes: [2]*list.List{list.New(), list.New()}}
}

// acquire takes a slot, waiting in its lane until one is free or ctx ends.
func (s *slots) acquire(ctx context.Context, priority bool) error {
	lane := 1
	if priority {
		lane = 0
	}
	s.mu.Lock()
	if s.free > 0 && s.lanes[0].Len() == 0 && s.lanes[1].Len() == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	if s.lanes[lane].Len() >= s.maxQueued {
		s.mu.Unlock()
		return ErrBusy
	}
	ready := make(chan struct{})
	el := s.lanes[lane].PushBack(ready)
	s.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-ready:
			// Handed a slot as ctx ended: give it on.
			s.mu.Unlock()
			s.release()
		default:
			s.lanes[lane].Remove(el)
			s.mu.Unlock()
		}
		return ctx.Err()
	}
}

// release returns a slot: to the first waiter of the first non-empty lane,
// else to the pool.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lanes {
		if front := l.Front(); front != nil {
			l.Remove(front)
			close(front.Value.(chan struct{}))
			return
		}
	}
	s.free++
}

// inUse is the number of slots taken.
func (s *slots) inUse() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size - s.free
}

// queued is the number of waiters in both lanes.
func (s *slots) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lanes[0].Len() + s.lanes[1].Len()
}
