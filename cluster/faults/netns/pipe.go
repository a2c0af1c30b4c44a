package netns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

const (
	// pipeChunk is the largest read the relay makes at once.
	pipeChunk = 32 << 10
	// pipeQueue bounds the chunks waiting out their delay in one direction.
	// When it is full the relay stops reading, TCP's window fills and the
	// sender slows down: memory stays bounded, and data only waits longer.
	pipeQueue = 64
)

// clock lets tests check when chunks are due without waiting for them.
type clock interface {
	Now() time.Time
	// SleepUntil returns at t, or early with ctx's error.
	SleepUntil(ctx context.Context, t time.Time) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// chunk is data read from the source and the time it may be written.
type chunk struct {
	data []byte
	due  time.Time
}

// delayedCopy copies src to dst, writing each chunk delay() after it was
// read. A reader stamps chunks as they arrive and a writer waits for each
// stamp in turn, so order is kept and delays do not add up: ten chunks that
// arrive together all leave D later, not 10×D.
//
// At EOF from src it writes what is queued, half-closes dst and returns nil;
// the other direction goes on. On any other failure it closes both
// connections (the connection is dead both ways) and returns the error. It
// returns only once its reader goroutine has finished.
func delayedCopy(ctx context.Context, dst, src net.Conn, delay func() time.Duration, clk clock) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan chunk, pipeQueue)
	readErr := make(chan error, 1)
	go func() {
		defer close(queue)
		buf := make([]byte, pipeChunk)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				c := chunk{data: append([]byte(nil), buf[:n]...), due: clk.Now().Add(delay())}
				select {
				case queue <- c:
				case <-ctx.Done():
					readErr <- ctx.Err()
					return
				}
			}
			if err != nil {
				readErr <- err
				return
			}
		}
	}()
	abort := func(err error) error {
		cancel()
		src.Close()
		dst.Close()
		for range queue {
			// Drain so the reader, if blocked on a send, can finish.
		}
		<-readErr
		return err
	}
	for c := range queue {
		if err := clk.SleepUntil(ctx, c.due); err != nil {
			return abort(err)
		}
		if _, err := dst.Write(c.data); err != nil {
			return abort(fmt.Errorf("netns: relay write: %w", err))
		}
	}
	err := <-readErr
	if !errors.Is(err, io.EOF) {
		src.Close()
		dst.Close()
		return fmt.Errorf("netns: relay read: %w", err)
	}
	if hc, ok := dst.(interface{ CloseWrite() error }); ok {
		if err := hc.CloseWrite(); err != nil {
			return fmt.Errorf("netns: relay half-close: %w", err)
		}
	}
	return nil
}
