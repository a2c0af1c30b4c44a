// Package feed is the bounded hand-over between a pipeline Run, fed the
// message on the SMTP session's goroutine, and the goroutine that streams
// it to an external scanner (clamd, rspamd). The session never waits on a
// scanner for long: a Feed holds a few chunks, and a Write that finds the
// scanner stalled for longer than the stall bound gives up on the scan
// (the Run then reports the failure in Finish) instead of holding up the
// message. It does no I/O itself.
package feed

import (
	"errors"
	"io"
	"sync"
	"time"
)

// ErrStalled is the reason a Feed stopped when its consumer took no data
// for longer than the stall bound.
var ErrStalled = errors.New("scanner stalled: it read nothing within the bound")

// Feed is an in-memory pipe of at most a few chunks. Write, Close are the
// producer's; Read and Next the consumer's, and Fail either side's.
type Feed struct {
	ch    chan []byte
	stop  chan struct{} // closed by Fail
	stall time.Duration

	wmu    sync.Mutex // the producer side: Write, Close
	closed bool

	fmu sync.Mutex
	err error // set by Fail, before stop is closed

	cur []byte // the consumer's partly read chunk
}

// New returns a Feed holding up to chunks chunks (each a Write's bytes)
// whose Write waits at most stall for room.
func New(chunks int, stall time.Duration) *Feed {
	return &Feed{ch: make(chan []byte, max(chunks, 1)), stop: make(chan struct{}), stall: stall}
}

// Write queues a copy of p. It never fails: once the Feed has failed (see
// Err), p is dropped. It waits for room at most the stall bound, then
// fails the Feed with ErrStalled.
func (f *Feed) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if f.closed || f.failed() {
		return len(p), nil
	}
	b := append([]byte(nil), p...)
	select {
	case f.ch <- b:
		return len(p), nil
	default:
	}
	t := time.NewTimer(f.stall)
	defer t.Stop()
	select {
	case f.ch <- b:
	case <-f.stop:
	case <-t.C:
		f.Fail(ErrStalled)
	}
	return len(p), nil
}

// Close ends the stream: the consumer reads io.EOF after the queued
// chunks. Further Writes are dropped.
func (f *Feed) Close() error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.ch)
	}
	return nil
}

// Fail stops the Feed with err (the first one counts): the producer's
// Writes are dropped from now on, and the consumer's reads return err.
func (f *Feed) Fail(err error) {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	if f.err == nil {
		f.err = err
		close(f.stop)
	}
}

// Err is the reason the Feed failed, or nil.
func (f *Feed) Err() error {
	f.fmu.Lock()
	defer f.fmu.Unlock()
	return f.err
}

func (f *Feed) failed() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// Next returns the next chunk whole, io.EOF after Close and the last
// chunk, or the Feed's error once it failed.
func (f *Feed) Next() ([]byte, error) {
	if len(f.cur) > 0 {
		b := f.cur
		f.cur = nil
		return b, nil
	}
	// A failed Feed answers its error even while chunks are queued: a
	// select with both ready would pick either.
	if f.failed() {
		return nil, f.Err()
	}
	select {
	case <-f.stop:
		return nil, f.Err()
	case b, ok := <-f.ch:
		if f.failed() {
			return nil, f.Err()
		}
		if !ok {
			if err := f.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		return b, nil
	}
}

// Read reads the stream as an io.Reader (an HTTP request body).
func (f *Feed) Read(p []byte) (int, error) {
	if len(f.cur) == 0 {
		b, err := f.Next()
		if err != nil {
			return 0, err
		}
		f.cur = b
	}
	n := copy(p, f.cur)
	f.cur = f.cur[n:]
	return n, nil
}
