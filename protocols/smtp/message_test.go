package smtp

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
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

// TestReadMessageHoldsTheMessageOnce: reading a message allocates about
// the message once, in chunk-sized blocks (the blocks are proposed as
// they are), not a buffer grown by doubling and then a copy behind the
// trace fields, which allocated about three times the message.
func TestReadMessageHoldsTheMessageOnce(t *testing.T) {
	const size = 8 << 20
	r := &lineReader{left: size, line: strings.Repeat("m", 76) + "\r\n"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b, err := readMessage(r, 25<<20, []byte("Return-Path: <>\r\n"))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte message: %d bytes allocated (%.2f times)", size, allocated, float64(allocated)/size)
	if allocated > size+size/4 {
		t.Fatalf("reading a %d-byte message allocated %d bytes, more than 1.25 times it", size, allocated)
	}
	if b.size != size+len("Return-Path: <>\r\n") || len(b.blocks) != (b.size+(256<<10)-1)/(256<<10) {
		t.Fatalf("%d bytes in %d blocks", b.size, len(b.blocks))
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
