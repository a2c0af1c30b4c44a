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
	_, value, _ := bytes.Cut(s.pending, []byte(":"))
	ours, known := authservIs(value, s.id, complete)
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

// authservIs reads the authserv-id at the start of an Authentication-
// Results value (RFC 8601 §2.2: [CFWS] authserv-id, where authserv-id is a
// token or quoted-string) and compares it with id. known is false when v
// ends before the authserv-id does and more may come.
func authservIs(v []byte, id string, complete bool) (ours, known bool) {
	i := skipCFWS(v, 0)
	if i < 0 || i == len(v) {
		return false, complete
	}
	var got []byte
	if v[i] == '"' {
		i++
		for ; i < len(v) && v[i] != '"'; i++ {
			switch {
			case v[i] == '\\' && i+1 < len(v):
				i++
				got = append(got, v[i])
			case v[i] == '\r' || v[i] == '\n':
			default:
				got = append(got, v[i])
			}
		}
		if i == len(v) {
			return false, complete
		}
	} else {
		j := i
		for j < len(v) && !isDelim(v[j]) {
			j++
		}
		if j == len(v) && !complete {
			return false, false // the token may go on
		}
		got = v[i:j]
	}
	return strings.EqualFold(strings.TrimSuffix(string(got), "."), id), true
}

// isDelim ends a token: white space, a comment, ';', or a tspecial that
// cannot be in a host name.
func isDelim(c byte) bool {
	return c <= ' ' || c == ';' || c == '(' || c == ')' || c == '"' || c == 0x7f
}

// skipCFWS skips folding white space and (nested) comments (RFC 5322
// §3.2.2); -1 when v ends inside a comment.
func skipCFWS(v []byte, i int) int {
	depth := 0
	for ; i < len(v); i++ {
		c := v[i]
		switch {
		case depth > 0 && c == '\\':
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0, c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return i
		}
	}
	if depth > 0 {
		return -1
	}
	return i
}
