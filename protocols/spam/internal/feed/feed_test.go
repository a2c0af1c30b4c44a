package feed

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// TestFeedCarriesTheStream: what is written is read back in order, then
// io.EOF after Close; the writer's buffer may be reused at once.
func TestFeedCarriesTheStream(t *testing.T) {
	f := New(2, time.Minute)
	want := bytes.Repeat([]byte("0123456789"), 1000)
	done := make(chan []byte)
	go func() {
		got, err := io.ReadAll(f)
		if err != nil {
			t.Errorf("ReadAll: %v", err)
		}
		done <- got
	}()
	buf := make([]byte, 7)
	for p := want; len(p) > 0; {
		n := copy(buf, p)
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] = 'x' // reused by the caller
		}
		p = p[n:]
	}
	if _, err := f.Write(nil); err != nil { // an empty write is no chunk
		t.Fatal(err)
	}
	f.Close()
	if got := <-done; !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d equal bytes", len(got), len(want))
	}
}

// TestFeedStallFails: a consumer that reads nothing fails the Feed after
// the stall bound; later writes return at once and the consumer sees the
// reason.
func TestFeedStallFails(t *testing.T) {
	f := New(1, 10*time.Millisecond)
	for range 3 {
		if n, err := f.Write([]byte("abc")); n != 3 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if !errors.Is(f.Err(), ErrStalled) {
		t.Fatalf("Err = %v, want ErrStalled", f.Err())
	}
	if _, err := f.Next(); !errors.Is(err, ErrStalled) {
		t.Fatalf("Next = %v, want ErrStalled", err)
	}
	f.Close()
}

// TestFeedFailByConsumer: the consumer's failure unblocks a waiting
// writer and drops what follows.
func TestFeedFailByConsumer(t *testing.T) {
	f := New(1, time.Hour)
	f.Write([]byte("a"))
	boom := errors.New("boom")
	go func() {
		time.Sleep(5 * time.Millisecond)
		f.Fail(boom)
	}()
	f.Write([]byte("b")) // waits for room until Fail
	f.Write([]byte("c"))
	if !errors.Is(f.Err(), boom) {
		t.Fatalf("Err = %v", f.Err())
	}
	f.Fail(errors.New("second")) // the first reason stays
	if !errors.Is(f.Err(), boom) {
		t.Fatalf("Err = %v after a second Fail", f.Err())
	}
}
