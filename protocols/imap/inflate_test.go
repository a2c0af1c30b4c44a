package imap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// chunkReader returns one chunk per Read, then errStarved: a client that
// sent its flushed commands and waits for the answers.
type chunkReader struct{ chunks [][]byte }

var errStarved = errors.New("read past what the client sent")

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, errStarved
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// TestInflatePartialFlush: commands zlib compressed with Z_PARTIAL_FLUSH
// (as isync's mbsync sends them; made with Python's zlib, level 6): each
// is inflated whole from its own bytes, though up to 7 bits of the empty
// block that ends it come only with the next command, and the longer one
// is a dynamic block.
func TestInflatePartialFlush(t *testing.T) {
	var appendCmd strings.Builder
	appendCmd.WriteString("b APPEND INBOX {301+}\r\n")
	for i := range 5 {
		fmt.Fprintf(&appendCmd, "Line %d of a message, with words: alpha beta gamma %d\r\n", i, i*i)
	}
	appendCmd.WriteString("\r\n")
	cmds := []string{"a NOOP\r\n", appendCmd.String(), "c UID FETCH 1:* (FLAGS)\r\n", "d LOGOUT\r\n"}
	flushed := []string{
		"4a54f0f3f70fe0e50208",
		"a02405c78000573f17054f3f27ff08856a630343ed5a5e2e9fccbc54050385fc34854485dcd4e2e2c4f4541d85f2cc920c85f2fca294622b85c49c828c4485a4d4924485f4c4dcdc440503a8264352341942351991a2c904aac998144d96504d262439cf8c978b970b20",
		"809215423d5d14dc5c439c3d140cadb41434dc7c1cdd833579b90002",
		"2845c1c7dfdd3f3484970b20",
	}
	src := &chunkReader{}
	z := newInflateReader(bufio.NewReader(src))
	for i, h := range flushed {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		src.chunks = append(src.chunks, b)
		got := make([]byte, len(cmds[i]))
		if _, err := io.ReadFull(z, got); err != nil || string(got) != cmds[i] {
			t.Fatalf("command %d: %q, %v; want %q", i, got, err, cmds[i])
		}
	}
	if n, err := z.Read(make([]byte, 10)); n != 0 || !errors.Is(err, errStarved) {
		t.Fatalf("after the last command: %d, %v", n, err)
	}
}

// TestInflateMatchesFlate: streams compress/flate writes (every level,
// stored blocks included, with sync flushes between writes and a final
// block) inflate to what was written, each flushed part as soon as its
// bytes are in.
func TestInflateMatchesFlate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("FETCH UID FLAGS BODY[] Subject: Re: the quick brown fox \\Seen \\Deleted 12345 INBOX")
	for _, level := range []int{flate.NoCompression, flate.HuffmanOnly, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		var wire bytes.Buffer
		fw, _ := flate.NewWriter(&wire, level)
		var parts [][]byte
		var chunks [][]byte
		for i := range 40 {
			var p []byte
			switch i % 4 {
			case 0: // text
				for range rnd.IntN(3000) {
					p = append(p, words[rnd.IntN(len(words))]+" "...)
				}
			case 1: // random bytes, up to past the window
				p = make([]byte, rnd.IntN(70000))
				for j := range p {
					p[j] = byte(rnd.Uint32())
				}
			case 2: // long runs
				p = bytes.Repeat([]byte{byte(i)}, rnd.IntN(100000))
			default:
				p = []byte(fmt.Sprintf("t%d NOOP\r\n", i))
			}
			fw.Write(p)
			fw.Flush()
			parts = append(parts, p)
			chunks = append(chunks, bytes.Clone(wire.Bytes()))
			wire.Reset()
		}
		fw.Close()
		chunks = append(chunks, bytes.Clone(wire.Bytes()))
		src := &chunkReader{}
		z := newInflateReader(bufio.NewReader(src))
		for i, p := range parts {
			src.chunks = append(src.chunks, chunks[i])
			got := make([]byte, len(p))
			if _, err := io.ReadFull(z, got); err != nil || !bytes.Equal(got, p) {
				t.Fatalf("level %d, part %d (%d bytes): %v", level, i, len(p), err)
			}
		}
		src.chunks = append(src.chunks, chunks[len(parts)])
		if n, err := z.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Fatalf("level %d: after the final block: %d, %v", level, n, err)
		}
	}
}

// TestInflateCorrupt: a reserved block type, a stored block whose lengths
// disagree, a distance before the stream's start.
func TestInflateCorrupt(t *testing.T) {
	for name, in := range map[string][]byte{
		"reserved type":  {0x07},
		"stored lengths": {0x00, 0x05, 0x00, 0x05, 0x00},
		// A final fixed block whose first symbol is a match (length 3,
		// distance 1): bits 1 01, 0000001, 00000.
		"distance too far": {0x03, 0x02, 0x00},
	} {
		z := newInflateReader(bufio.NewReader(bytes.NewReader(in)))
		if _, err := io.ReadAll(z); !errors.Is(err, errCorruptDeflate) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A stream cut short is not a clean end.
	z := newInflateReader(bufio.NewReader(bytes.NewReader([]byte{0x4a, 0x54})))
	if _, err := io.ReadAll(z); err != io.ErrUnexpectedEOF {
		t.Errorf("cut short: %v", err)
	}
}

// FuzzInflate: any input inflates or fails without a panic, and what
// compress/flate makes of the input inflates back to it.
func FuzzInflate(f *testing.F) {
	f.Add([]byte("a NOOP\r\n"), []byte{0x4a, 0x54, 0xf0, 0xf3, 0xf7, 0x0f, 0xe0, 0xe5, 0x02, 0x08})
	f.Add(bytes.Repeat([]byte("abc"), 1000), []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, data, raw []byte) {
		z := newInflateReader(bufio.NewReader(bytes.NewReader(raw)))
		_, _ = io.Copy(io.Discard, io.LimitReader(z, 1<<20))
		var wire bytes.Buffer
		fw, _ := flate.NewWriter(&wire, flate.BestSpeed)
		fw.Write(data)
		fw.Close()
		got, err := io.ReadAll(newInflateReader(bufio.NewReader(&wire)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("round trip: %d of %d bytes, %v", len(got), len(data), err)
		}
	})
}
