package mailauth

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// MaxPendingField is how much of an Authentication-Results field
// StripResults holds while it cannot yet tell whose it is. The authserv-id
// comes first in the field (RFC 8601 §2.2), so only a field with more than
// this much white space and comments before its authserv-id is ever
// undecided at this point: it then passes through unchanged, without being
// held further. A field of ours larger than this is still removed, since
// its authserv-id is read well before.
const MaxPendingField = 64 << 10

// StripResults returns a reader of r's bytes without the
// Authentication-Results fields whose authserv-id is authservID (RFC 8601
// §5: a receiver removes, or renders harmless, fields claiming to be its
// own). Field names and the authserv-id compare case-insensitively; the
// authserv-id may be quoted, preceded by comments and folding white space,
// and followed by a version. Everything else passes byte for byte, and
// nothing after the end of the header section (the first empty line) is
// looked at. Memory is bounded: see MaxPendingField.
func StripResults(r io.Reader, authservID string) io.Reader {
	return newStripper(r, authservID, MaxPendingField)
}

type fieldState int

const (
	noField   fieldState = iota
	buffering            // an Authentication-Results field not yet decided
	passing              // the current field goes out
	dropping             // the current field is ours: it goes nowhere
)

type stripper struct {
	br      *bufio.Reader
	id      string
	max     int
	body    bool // past the header section
	start   bool // the next byte starts a line
	state   fieldState
	pending []byte
	value   int // where the field's value starts in pending
	scan    idScan
	out     []byte
	err     error
}

func newStripper(r io.Reader, id string, max int) *stripper {
	return &stripper{br: bufio.NewReaderSize(r, 4096), id: strings.TrimSuffix(id, "."), max: max, start: true}
}

func (s *stripper) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.body && s.state == noField {
			// Past the header: no more copying through out.
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
			s.finishField()
			s.err = err
		}
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// process handles one piece: a whole line, or part of a long one.
func (s *stripper) process(piece []byte) {
	lineStart := s.start
	s.start = piece[len(piece)-1] == '\n'
	switch {
	case s.body:
		s.emit(piece)
	case lineStart && (string(piece) == "\r\n" || string(piece) == "\n"):
		// RFC 5322 §2.1: the empty line ends the header section.
		s.finishField()
		s.emit(piece)
		s.body = true
	case !lineStart || piece[0] == ' ' || piece[0] == '\t':
		s.more(piece) // continuation (RFC 5322 §2.2.3) or the rest of a long line
	default:
		s.finishField()
		if isResultsField(piece) {
			s.state = buffering
			s.pending = append(s.pending[:0], piece...)
			s.value = bytes.IndexByte(piece, ':') + 1
			s.scan = newIDScan()
			s.decide(false)
		} else {
			s.state = passing
			s.emit(piece)
		}
	}
}

func (s *stripper) more(piece []byte) {
	switch s.state {
	case noField, passing:
		s.emit(piece)
	case dropping:
	case buffering:
		s.pending = append(s.pending, piece...)
		s.decide(false)
	}
}

// decide settles a buffered field when its authserv-id can be read, or
// lets it pass when it has grown past the cap.
func (s *stripper) decide(complete bool) {
	ours, known := s.scan.step(s.pending[s.value:], s.id, complete)
	switch {
	case known && ours:
		s.state = dropping
		s.pending = s.pending[:0]
	case known || complete || len(s.pending) > s.max:
		s.state = passing
		s.emit(s.pending)
		s.pending = s.pending[:0]
	}
}

func (s *stripper) finishField() {
	if s.state == buffering {
		s.decide(true)
	}
	s.state = noField
}

func (s *stripper) emit(b []byte) {
	s.out = append(s.out, b...)
}

// isResultsField reports whether line starts an Authentication-Results
// field: the name in any case, optional WSP (RFC 5322 §4.5.8), a colon.
func isResultsField(line []byte) bool {
	const name = "authentication-results"
	if len(line) < len(name) || !strings.EqualFold(string(line[:len(name)]), name) {
		return false
	}
	rest := bytes.TrimLeft(line[len(name):], " \t")
	return len(rest) > 0 && rest[0] == ':'
}

// idScan reads the authserv-id at the start of an Authentication-Results
// value (RFC 8601 §2.2: [CFWS] authserv-id, a token or a quoted-string),
// resuming where it stopped as the value grows, so that a field arriving
// in many short lines costs time in proportion to its length.
type idScan struct {
	off    int  // where the scan resumes
	depth  int  // comment nesting (RFC 5322 §3.2.2)
	escape bool // the byte before off was a backslash, in a comment or quoted-string
	quoted bool // inside a quoted authserv-id
	got    []byte
	start  int // where a token authserv-id starts; -1 before
}

func newIDScan() idScan { return idScan{start: -1} }

// step scans v (the value so far; it only ever grows) and compares the
// authserv-id with id once it is whole. known is false while v ends before
// the authserv-id does and complete is false.
func (s *idScan) step(v []byte, id string, complete bool) (ours, known bool) {
	eq := func(b []byte) bool { return strings.EqualFold(strings.TrimSuffix(string(b), "."), id) }
	i := s.off
	for i < len(v) {
		c := v[i]
		switch {
		case s.start >= 0:
			if isDelim(c) {
				return eq(v[s.start:i]), true
			}
		case s.quoted:
			switch {
			case s.escape:
				s.got, s.escape = append(s.got, c), false
			case c == '\\':
				s.escape = true
			case c == '"':
				return eq(s.got), true
			case c != '\r' && c != '\n':
				s.got = append(s.got, c)
			}
		case s.depth > 0:
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '(':
				s.depth++
			case c == ')':
				s.depth--
			}
		default:
			switch c {
			case ' ', '\t', '\r', '\n':
			case '(':
				s.depth++
			case '"':
				s.quoted = true
			default:
				s.start = i
				continue // the token's first byte is read as part of it
			}
		}
		i++
	}
	s.off = i
	if !complete {
		return false, false
	}
	if s.start >= 0 {
		return eq(v[s.start:]), true
	}
	return false, true // no authserv-id at all, or an unterminated comment or quote
}

// authservIs reports whether the value v starts with the authserv-id id;
// see idScan.
func authservIs(v []byte, id string, complete bool) (ours, known bool) {
	s := newIDScan()
	return s.step(v, id, complete)
}

// isDelim ends a token: white space, a comment, ';', a quote.
func isDelim(c byte) bool {
	return c <= ' ' || c == ';' || c == '(' || c == ')' || c == '"' || c == 0x7f
}
