// Package mbox reads the message collections an operator trains the spam
// classifier with (surat spam train): mbox files, as mail clients and
// Python's mailbox module write them, and directories of .eml files (one
// RFC 5322 message each).
//
// mbox is described by RFC 4155 (application/mbox): each message starts
// with a "From " separator line at the beginning of a line, and lines of
// a message that would start with "From " are quoted with '>'. Two
// quoting dialects exist: mboxo quotes only "From " (giving ">From "),
// mboxrd also quotes lines already quoted (">From " gives ">>From ").
// Reader undoes mboxrd quoting, removing one '>' from every line matching
// ^>+From ; for mboxo files this differs only on body lines that started
// with ">From " before quoting, which does not matter to a classifier.
//
// The package only reads; it must not interpret the messages.
package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxMessageBytes bounds one message as read: the rest of a longer one is
// skipped. The classifier reads far less of each message (its tokenizer is
// bounded), so training loses nothing.
const MaxMessageBytes = 4 << 20

// maxLine bounds one line of an mbox file.
const maxLine = 1 << 20

// ErrNotMbox is returned by Reader.Next when the input does not start
// with a "From " separator line.
var ErrNotMbox = errors.New("mbox: input does not start with a \"From \" line")

// Reader reads the messages of an mbox file in order.
type Reader struct {
	br      *bufio.Reader
	started bool // the first separator was read
	done    bool
}

// NewReader reads an mbox from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// readLine returns the next line with its line ending, or io.EOF. A line
// longer than maxLine is returned in pieces of maxLine; only a piece that
// starts a line may be taken for a separator.
func (r *Reader) readLine() ([]byte, bool, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A long line: return what we have; the rest follows as lines
		// that do not start a line.
		out := slices.Clone(line)
		for len(out) < maxLine {
			more, err := r.br.ReadSlice('\n')
			out = append(out, more...)
			if err != bufio.ErrBufferFull {
				return out, true, nil
			}
		}
		return out, false, nil
	}
	if err == io.EOF && len(line) > 0 {
		return slices.Clone(line), true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return slices.Clone(line), true, nil
}

// isSeparator reports whether line is an mbox "From " line (RFC 4155 §2).
func isSeparator(line []byte) bool { return bytes.HasPrefix(line, []byte("From ")) }

// Next returns the next message, with line endings as in the file (mbox
// files usually have LF) and the '>' quoting undone, without its
// separator line and without the empty line that ends it; io.EOF after
// the last.
func (r *Reader) Next() ([]byte, error) {
	if r.done {
		return nil, io.EOF
	}
	if !r.started {
		r.started = true
		line, _, err := r.readLine()
		if err == io.EOF {
			r.done = true
			return nil, io.EOF
		}
		if err != nil {
			return nil, fmt.Errorf("mbox: %w", err)
		}
		if !isSeparator(line) {
			r.done = true
			return nil, ErrNotMbox
		}
	}
	var msg []byte
	truncated := false
	whole := true // the previous piece ended its line
	for {
		line, complete, err := r.readLine()
		if err == io.EOF {
			r.done = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("mbox: %w", err)
		}
		startsLine := whole
		whole = complete && bytes.HasSuffix(line, []byte("\n"))
		if startsLine && isSeparator(line) {
			break
		}
		if startsLine {
			line = unquote(line)
		}
		if truncated {
			continue
		}
		if len(msg)+len(line) > MaxMessageBytes {
			truncated = true
			continue
		}
		msg = append(msg, line...)
	}
	// The empty line before the next separator (or at the end of the
	// file) belongs to the mbox, not to the message (RFC 4155 §2).
	switch {
	case bytes.HasSuffix(msg, []byte("\r\n\r\n")):
		msg = msg[:len(msg)-2]
	case bytes.HasSuffix(msg, []byte("\n\n")):
		msg = msg[:len(msg)-1]
	}
	return msg, nil
}

// unquote removes one '>' from a line matching ^>+From (mboxrd).
func unquote(line []byte) []byte {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	if i > 0 && bytes.HasPrefix(line[i:], []byte("From ")) {
		return line[1:]
	}
	return line
}

// Walk calls fn with every message found at path, in order: path is an
// mbox file (its first line is a "From " line), a single message file, or
// a directory whose .eml files (or, when it holds none, whose other
// regular files, as in the SpamAssassin public corpus) are messages; names
// starting with '.' are skipped and subdirectories are not entered. The
// name given to fn says where the message came from ("FILE" or "FILE#N"
// for the Nth message of an mbox). An error from fn stops the walk and is
// returned.
func Walk(path string, fn func(name string, msg []byte) error) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return walkFile(path, fn)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var eml, other []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue
		}
		if strings.HasSuffix(strings.ToLower(name), ".eml") {
			eml = append(eml, name)
		} else {
			other = append(other, name)
		}
	}
	files := eml
	if len(files) == 0 {
		files = other
	}
	for _, name := range files { // os.ReadDir sorts by name
		if err := walkFile(filepath.Join(path, name), fn); err != nil {
			return err
		}
	}
	return nil
}

// walkFile reads one file: an mbox or a single message.
func walkFile(path string, fn func(name string, msg []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, err := br.Peek(5)
	if err != nil && err != io.EOF {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !isSeparator(head) {
		msg, err := io.ReadAll(io.LimitReader(br, MaxMessageBytes))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(msg)) == 0 {
			return nil
		}
		return fn(path, msg)
	}
	r := NewReader(br)
	for n := 1; ; n++ {
		msg, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := fn(fmt.Sprintf("%s#%d", path, n), msg); err != nil {
			return err
		}
	}
}
