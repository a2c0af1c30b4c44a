package mailheader

import (
	"strings"
	"unicode/utf8"
)

const (
	// SoftLimit is the line length, CRLF excluded, that folding keeps to
	// where white space allows (RFC 5322 §2.1.1 SHOULD).
	SoftLimit = 78
	// HardLimit is the line length, CRLF excluded, that no line exceeds
	// (RFC 5322 §2.1.1 MUST).
	HardLimit = 998
	// minBase64Piece keeps Base64 from putting a few octets at the end
	// of a nearly full line.
	minBase64Piece = 8
)

// Fold returns the field "name: value" folded to lines of at most
// SoftLimit octets where the value's white space allows, ending in CRLF.
// A word (a run of octets without white space) is never split unless it
// cannot fit a line of HardLimit octets (see Field.Add). Line breaks
// already in value are removed first, as Unfold does, so a value cannot
// end the field early or start another one. name must be a field name
// (RFC 5322 §3.6.8: printable ASCII but ':'); Fold does not check it.
//
// Unless a word had to be broken, Unfold(Fold(name, value)) is
// name + ": " + Unfold(value).
func Fold(name, value string) string {
	f := NewField(name)
	f.Add(" " + value)
	return f.String()
}

// Unfold removes the line breaks of folding (RFC 5322 §2.2.3): every
// CRLF, and every bare CR or LF, which mail from elsewhere carries, so a
// field read whole (its continuation lines and its final line break
// included) becomes its one-line form. The white space after each break
// stays: RFC 5322 §2.2.3 removes the CRLF only.
func Unfold(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", "", "\r", "", "\n", "").Replace(s)
}

// Field builds one folded header field. Make it with NewField.
type Field struct {
	b strings.Builder
	// col is the number of octets on the current line.
	col int
	// word is whether the current line holds a word after its head
	// ("Name:" on the first line, white space on the others): a fold
	// before that would leave a line of nothing, and a continuation
	// line of white space only is obsolete syntax (RFC 5322 §4.2).
	word bool
}

// NewField starts the field "name:". name must be a field name (RFC 5322
// §3.6.8); NewField does not check it.
func NewField(name string) *Field {
	f := &Field{}
	f.b.WriteString(name)
	f.b.WriteByte(':')
	f.col = len(name) + 1
	return f
}

// Add appends s to the field's value, folding in front of white space in
// s where the line would pass SoftLimit otherwise (RFC 5322 §2.2.3). s
// joins what was added before it: Add("a") then Add("b") is Add("ab"), so
// the value's first white space (after the colon) is the caller's. Line
// breaks in s are removed.
//
// A word that cannot fit a line of HardLimit octets is broken where the
// limit falls, on a UTF-8 boundary, and its rest goes on a new line after
// a space, which unfolding keeps: a line over HardLimit is not mail (RFC
// 5322 §2.1.1 MUST), and such a word has no meaning to keep. At that
// limit too, white space at the end of s that would pass it is dropped,
// and a run of white space longer than a line leaves a line of white
// space only.
func (f *Field) Add(s string) {
	s = Unfold(s)
	for len(s) > 0 {
		// One segment: a run of white space, then the word after it.
		i := 0
		for i < len(s) && isWSP(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isWSP(s[j]) {
			j++
		}
		if strings.Trim(s[j:], " \t") == "" {
			// White space at the end goes with the last word, so that a
			// break it forces can go in front of the word.
			j = len(s)
		}
		seg := s[:j]
		s = s[j:]
		// RFC 5322 §2.2.3: a fold is a CRLF put in front of white space.
		// A segment too long for any line is left to write, which
		// breaks it inside its white space first.
		if i > 0 && j > i && f.word && f.col+len(seg) > SoftLimit && len(seg) <= HardLimit {
			f.newLine()
		}
		f.write(seg)
	}
}

// Line starts a new line with s: a fold the caller places at a syntactic
// boundary, as RFC 5322 §2.2.3 advises for structured fields (after the
// ";" of each Authentication-Results result, say). s should start with
// white space; a space is put in front of it if it does not, since a
// continuation line must.
func (f *Field) Line(s string) {
	s = Unfold(s)
	f.newLine()
	if s == "" || !isWSP(s[0]) {
		s = " " + s
	}
	f.Add(s)
}

// Base64 appends s, a base64 value that may be broken anywhere, filling
// each line to SoftLimit: FWS is allowed between any two characters of
// the base64 values of DKIM and ARC tags and ignored by verifiers (RFC
// 6376 §3.5, b= and bh=; RFC 8617 §4.1). Each break is CRLF and a space,
// so unfolding leaves a space in the value where a line was broken.
func (f *Field) Base64(s string) {
	s = Unfold(s)
	for len(s) > 0 {
		room := SoftLimit - f.col
		if room < minBase64Piece && room < len(s) {
			f.newLine()
			f.write(" ")
			continue
		}
		n := min(max(room, minBase64Piece), len(s))
		f.write(s[:n])
		s = s[n:]
	}
}

// String returns the field as built so far, ending in CRLF. The Field can
// be added to after it.
func (f *Field) String() string {
	return f.b.String() + "\r\n"
}

// newLine ends the current line; what is written next must start with
// white space.
func (f *Field) newLine() {
	f.b.WriteString("\r\n")
	f.col = 0
	f.word = false
}

// write appends s to the current line, breaking it where HardLimit
// forces a break (RFC 5322 §2.1.1): in front of the last white space
// that fits, which changes nothing, or else inside a word.
func (f *Field) write(s string) {
	for f.col+len(s) > HardLimit {
		limit := max(HardLimit-f.col, 0)
		// A break in front of trailing white space would leave a line
		// of white space only.
		last := strings.LastIndexFunc(s, func(r rune) bool { return r != ' ' && r != '\t' })
		n := strings.LastIndexAny(s[:max(min(limit, last), 0)+1], " \t")
		if n < 0 || n == 0 && f.col == 0 || last+1-n > HardLimit {
			// No white space to break at that would help (a break at 0
			// on an empty line would not advance; a word too long for
			// any line is broken anyway): break between characters.
			n = limit
			// Not inside a UTF-8 sequence, if s is UTF-8 (a sequence
			// is at most UTFMax octets long).
			for p := n - 1; p > 0 && p > n-utf8.UTFMax && !utf8.RuneStart(s[n]); p-- {
				if utf8.RuneStart(s[p]) {
					n = p
				}
			}
		}
		if strings.Trim(s[:n], " \t") != "" {
			f.word = true
		}
		f.b.WriteString(s[:n])
		f.col += n
		s = s[n:]
		if f.word && strings.Trim(s, " \t") == "" {
			// Trailing white space past the limit: a line of it alone
			// would be obsolete syntax (RFC 5322 §4.2), and it means
			// nothing.
			return
		}
		f.newLine()
		if !isWSP(s[0]) {
			// Inside a word longer than a line: the only place Add
			// changes the unfolded value.
			f.b.WriteByte(' ')
			f.col = 1
		}
	}
	f.b.WriteString(s)
	f.col += len(s)
	if strings.Trim(s, " \t") != "" {
		f.word = true
	}
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }
