package frontend

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadLine(t *testing.T) {
	in := "USER a\r\n" + "bare\n" + strings.Repeat("x", 300) + "\r\n" + "after\r\n" +
		strings.Repeat("z", 5000) + "\r\nlost\r\n"
	r := bufio.NewReaderSize(strings.NewReader(in), 16)
	for i, want := range []struct {
		line string
		err  error
	}{
		{"USER a", nil},
		{"bare", nil},
		{"", ErrLineLong}, // consumed, and the next line reads cleanly
		{"after", nil},
		{"", ErrLineAbuse},
	} {
		line, err := ReadLine(r, 255, 4096)
		if string(line) != want.line || !errors.Is(err, want.err) {
			t.Fatalf("line %d: ReadLine = %.20q, %v; want %q, %v", i, line, err, want.line, want.err)
		}
	}
	if _, err := ReadLine(bufio.NewReader(strings.NewReader("partial")), 100, 4096); !errors.Is(err, io.EOF) {
		t.Fatalf("partial last line: err = %v, want EOF", err)
	}
	// A line longer than the buffer but within the limit is whole.
	long := strings.Repeat("y", 200)
	if line, err := ReadLine(bufio.NewReaderSize(strings.NewReader(long+"\r\n"), 16), 255, 4096); err != nil || string(line) != long {
		t.Fatalf("long line = %d octets, %v", len(line), err)
	}
}

func TestLineBuffered(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("NOOP\r\nSTAT"))
	if _, err := ReadLine(r, 255, 4096); err != nil {
		t.Fatal(err)
	}
	if LineBuffered(r) {
		t.Fatal("a partial line counts as buffered")
	}
	r = bufio.NewReader(strings.NewReader("NOOP\r\nSTAT\r\n"))
	if _, err := ReadLine(r, 255, 4096); err != nil {
		t.Fatal(err)
	}
	if !LineBuffered(r) {
		t.Fatal("a pipelined line not seen")
	}
}

// FuzzReadLine: ReadLine never returns a line over the limit, never one
// with a line ending, and never more than the input held.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("USER a\r\nPASS b c\r\n"), 255)
	f.Add([]byte(strings.Repeat("x", 600)+"\n"), 255)
	f.Add([]byte("\r\r\n\n"), 2)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		if limit < 1 || limit > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(bytes.NewReader(in), 16)
		total := 0
		for range len(in) + 1 {
			line, err := ReadLine(r, limit, 4096)
			if err != nil {
				if errors.Is(err, ErrLineLong) {
					continue
				}
				return
			}
			total += len(line)
			if len(line) > limit || bytes.HasSuffix(line, []byte("\n")) || total > len(in) {
				t.Fatalf("ReadLine(%q, %d) = %q", in, limit, line)
			}
		}
	})
}
