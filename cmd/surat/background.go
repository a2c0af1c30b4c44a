package main

import (
	"context"
	"sync"
)

// background is a job of the node's that runs in its own goroutine until
// the node stops: the leader's pruners, the domain seeder.
type background struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// goBackground starts job with a context that stop cancels.
func goBackground(job func(ctx context.Context)) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		job(ctx)
	}()
	return b
}

// stop cancels the job and waits for it to return; a nil background
// (no job) does nothing.
func (b *background) stop() {
	if b == nil {
		return
	}
	b.cancel()
	b.wg.Wait()
}
