package spam

import (
	"bufio"
	"bytes"
	"io"
)

// StrippedFields are the incoming header fields Check removes: a sender
// must not be able to say what our verdict was.
var StrippedFields = []string{"X-Spam-Status", "X-Spam-Flag"}

// StripFields returns a reader of r's bytes without the header fields
// named (case-insensitively), folded lines included (RFC 5322 §2.2.3).
// Only the header section (up to the first empty line) is looked at;
// everything else passes byte for byte. Memory is bounded by one buffer:
// a field is kept or dropped on its first line.
func StripFields(r io.Reader, names ...string) io.Reader {
	return &fieldStripper{br: bufio.NewReaderSize(r, 4096), names: names, start: true}
}

type fieldStripper struct {
	br       *bufio.Reader
	names    []string
	body     bool // past the header section
	start    bool // the next byte starts a line
	dropping bool // the current field is being dropped
	out      []byte
	err      error
}

func (s *fieldStripper) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.body {
			return s.br.Read(p)
		}
		piece, err := s.br.ReadSlice('\n')
		if len(piece) > 0 {
			s.process(piece)
		}
		if err == bufio.ErrBufferFull {
			err = nil
		}
		if err != nil {
			s.err = err
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// process handles a piece of a line (a whole line unless it is longer
// than the buffer).
func (s *fieldStripper) process(piece []byte) {
	startsLine := s.start
	s.start = piece[len(piece)-1] == '\n'
	if startsLine {
		switch {
		case bytes.Equal(piece, []byte("\r\n")) || bytes.Equal(piece, []byte("\n")):
			// The end of the header section (RFC 5322 §2.1).
			s.body, s.dropping = true, false
		case piece[0] == ' ' || piece[0] == '\t':
			// A continuation line: it belongs to the current field.
		default:
			s.dropping = s.named(piece)
		}
	}
	if !s.dropping {
		s.out = append(s.out, piece...)
	}
}

// named reports whether line starts one of the fields named: the name,
// optional white space (RFC 5322 §4.5.3 obsolete syntax), then ':'.
func (s *fieldStripper) named(line []byte) bool {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return false
	}
	name := bytes.TrimRight(line[:colon], " \t")
	for _, n := range s.names {
		if bytes.EqualFold(name, []byte(n)) {
			return true
		}
	}
	return false
}
