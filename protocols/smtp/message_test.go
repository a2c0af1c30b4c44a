package smtp

import (
	"bytes"
	"crypto/sha256"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	evlog "github.com/surat-mail/surat/log"
)

// lineReader produces a message of about size bytes of 78-octet lines
// without holding it: what the test measures is the reader's memory only.
type lineReader struct {
	left int
	line string
	pos  int
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && l.left > 0 {
		c := copy(p[n:], l.line[l.pos:])
		n, l.pos, l.left = n+c, (l.pos+c)%len(l.line), l.left-c
	}
	return n, nil
}

// TestReadMessageHoldsTheMessageOnce: reading a message without staging
// allocates about the message once, in chunk-sized blocks, not a buffer
// grown by doubling and then a copy behind the trace fields, which
// allocated about three times the message.
func TestReadMessageHoldsTheMessageOnce(t *testing.T) {
	const size = 8 << 20
	r := &lineReader{left: size, line: strings.Repeat("m", 76) + "\r\n"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b, err := readMessage(r, 25<<20, nil)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte message: %d bytes allocated (%.2f times)", size, allocated, float64(allocated)/size)
	if allocated > size+size/4 {
		t.Fatalf("reading a %d-byte message allocated %d bytes, more than 1.25 times it", size, allocated)
	}
	if b.size != size || len(b.blocks) != (b.size+(256<<10)-1)/(256<<10) {
		t.Fatalf("%d bytes in %d blocks", b.size, len(b.blocks))
	}
}

// heapReader is a lineReader that samples the live heap (after a
// collection) every MiB it produces, keeping the highest.
type heapReader struct {
	lineReader
	next, peak uint64
}

func (h *heapReader) Read(p []byte) (int, error) {
	n, err := h.lineReader.Read(p)
	if h.next += uint64(n); h.next >= 1<<20 {
		h.next = 0
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return n, err
}

// TestReadMessageStreamsTheMessage: read with a stage function that keeps
// the last chunkWindow chunks (the proposals in flight), a 16 MiB message
// never has more than a few MiB live: it streams into the log rather
// than being held whole. The staged chunks and the last block are the
// body, laid out as evlog.Chunks lays it out.
func TestReadMessageStreamsTheMessage(t *testing.T) {
	const size = 16 << 20
	r := &heapReader{lineReader: lineReader{left: size, line: strings.Repeat("m", 76) + "\r\n"}}
	var (
		inflight = make([][]byte, chunkWindow) // a ring: the proposals in flight
		staged   int
		h        = sha256.New()
	)
	stage := func(data []byte) error {
		if len(data) != evlog.ChunkSize {
			t.Errorf("staged chunk %d of %d bytes", staged, len(data))
		}
		h.Write(data)
		inflight[staged%chunkWindow] = data
		staged++
		return nil
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := readMessage(r, 25<<20, stage)
	if err != nil {
		t.Fatal(err)
	}
	held := int64(r.peak) - int64(before.HeapAlloc)
	t.Logf("%d-byte message: at most %.1f MiB live while reading (window %d x %d KiB)", size, float64(held)/(1<<20), chunkWindow, evlog.ChunkSize>>10)
	if held > 4<<20 {
		t.Fatalf("reading a %d-byte message held %d bytes live, more than 4 MiB", size, held)
	}
	total := size
	if len(b.blocks) != 1 || int(b.staged) != staged || staged != (total-1)/evlog.ChunkSize || b.size != total {
		t.Fatalf("%d staged, %d blocks kept, %d bytes", staged, len(b.blocks), b.size)
	}
	h.Write(b.blocks[0])
	if !bytes.Equal(h.Sum(nil), b.sum) {
		t.Fatal("the staged chunks and the last block do not hash to the body's name")
	}
	head := []byte("Return-Path: <>\r\n")
	if c, err := b.last(head, []byte("upload-id-16byte")); err != nil || c.Chunk != b.staged || c.Size != uint64(total+len(head)) {
		t.Fatalf("last chunk %v: %v", c, err)
	}
}

// TestHopCountOnTheStream: Received fields are counted in the header only,
// however the reads split them (RFC 5321 §6.3).
func TestHopCountOnTheStream(t *testing.T) {
	header := func(n int) string {
		return strings.Repeat("Received: from a by b; Thu, 1 Jan 1970 00:00:00 +0000\r\n", n) + "Subject: x\r\n"
	}
	for _, tc := range []struct {
		name string
		msg  string
		ok   bool
	}{
		{"at the limit", header(maxHops) + "\r\nbody\r\n", true},
		{"past the limit", header(maxHops+1) + "\r\nbody\r\n", false},
		{"past the limit, lower case", strings.ReplaceAll(header(maxHops+1), "Received", "received") + "\r\n", false},
		{"in the body", "Subject: x\r\n\r\n" + header(maxHops+1), true},
		{"folded lines are not fields", "Subject: x\r\n" + strings.Repeat(" Received: x\r\n", maxHops+1) + "\r\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readMessage(iotest.OneByteReader(strings.NewReader(tc.msg)), 1<<20, nil)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && err != errTooManyHops {
				t.Fatalf("got %v, want %v", err, errTooManyHops)
			}
		})
	}
}
