package sieve

import (
	"fmt"
	"strconv"
	"strings"
)

// tokenKind is the lexical class of a token (RFC 5228 §8.1).
type tokenKind int

const (
	tokEOF        tokenKind = iota
	tokIdentifier           // identifier
	tokTag                  // ":" identifier
	tokNumber               // 1*DIGIT [QUANTIFIER]
	tokString               // quoted-string or multi-line
	tokPunct                // one of [ ] { } ( ) , ;
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of script"
	case tokIdentifier:
		return "identifier"
	case tokTag:
		return "tag"
	case tokNumber:
		return "number"
	case tokString:
		return "string"
	}
	return "punctuation"
}

// token is one lexical token with the position of its first character.
type token struct {
	kind      tokenKind
	text      string // identifier/tag name (tag without ':', lower-cased), string value, punctuation
	num       int64
	line, col int
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of script"
	case tokIdentifier:
		return fmt.Sprintf("identifier %q", t.text)
	case tokTag:
		return fmt.Sprintf("tag \":%s\"", t.text)
	case tokNumber:
		return fmt.Sprintf("number %d", t.num)
	case tokString:
		return "string"
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer splits a script into tokens (RFC 5228 §8.1). It reads the whole
// script at once; scripts are bounded in size by their callers.
type lexer struct {
	src       string
	pos       int
	line, col int
}

func newLexer(src []byte) *lexer {
	return &lexer{src: string(src), line: 1, col: 1}
}

func (l *lexer) errorf(line, col int, format string, args ...any) error {
	return &CompileError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// advance moves over n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.pos < len(l.src); i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

// skipSpace skips white space and both kinds of comments (RFC 5228 §2.3).
func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case c == '#':
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
		case c == '/' && strings.HasPrefix(l.src[l.pos:], "/*"):
			line, col := l.line, l.col
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errorf(line, col, "unterminated bracket comment")
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	t := token{line: l.line, col: l.col}
	if l.pos >= len(l.src) {
		t.kind = tokEOF
		return t, nil
	}
	c := l.src[l.pos]
	switch {
	case strings.IndexByte("[]{}(),;", c) >= 0:
		t.kind, t.text = tokPunct, string(c)
		l.advance(1)
		return t, nil
	case c == '"':
		s, err := l.quoted()
		t.kind, t.text = tokString, s
		return t, err
	case c == ':':
		l.advance(1)
		id := l.identifier()
		if id == "" {
			return t, l.errorf(t.line, t.col, "a tag needs a name after \":\"")
		}
		t.kind, t.text = tokTag, strings.ToLower(id)
		return t, nil
	case isDigit(c):
		return l.number(t)
	case isAlpha(c) || c == '_':
		id := l.identifier()
		if strings.EqualFold(id, "text") && l.pos < len(l.src) && l.src[l.pos] == ':' {
			l.advance(1)
			s, err := l.multiline(t)
			t.kind, t.text = tokString, s
			return t, err
		}
		t.kind, t.text = tokIdentifier, strings.ToLower(id)
		return t, nil
	}
	return t, l.errorf(t.line, t.col, "unexpected character %q", c)
}

func (l *lexer) identifier() string {
	start := l.pos
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if !(isAlpha(c) || c == '_' || (l.pos > start && isDigit(c))) {
			break
		}
		l.advance(1)
	}
	return l.src[start:l.pos]
}

// number reads 1*DIGIT [QUANTIFIER] (RFC 5228 §2.4.1): K, M and G
// multiply by 2^10, 2^20 and 2^30. Numbers that overflow 63 bits are an
// error rather than wrapping.
func (l *lexer) number(t token) (token, error) {
	start := l.pos
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.advance(1)
	}
	n, err := strconv.ParseInt(l.src[start:l.pos], 10, 64)
	if err != nil {
		return t, l.errorf(t.line, t.col, "number %s is too large", l.src[start:l.pos])
	}
	if l.pos < len(l.src) {
		var shift uint
		switch l.src[l.pos] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift > 0 {
			l.advance(1)
			if n > (1<<62)>>shift {
				return t, l.errorf(t.line, t.col, "number is too large")
			}
			n <<= shift
		}
	}
	if l.pos < len(l.src) && (isAlpha(l.src[l.pos]) || isDigit(l.src[l.pos]) || l.src[l.pos] == '_') {
		return t, l.errorf(l.line, l.col, "unexpected character %q after a number", l.src[l.pos])
	}
	t.kind, t.num = tokNumber, n
	return t, nil
}

// quoted reads a quoted-string (RFC 5228 §2.4.2): "\\" and "\"" are the
// escapes; any other backslash is dropped and the character after it kept.
func (l *lexer) quoted() (string, error) {
	line, col := l.line, l.col
	l.advance(1)
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch c {
		case '"':
			l.advance(1)
			return b.String(), nil
		case '\\':
			if l.pos+1 >= len(l.src) {
				return "", l.errorf(line, col, "unterminated string")
			}
			b.WriteByte(l.src[l.pos+1])
			l.advance(2)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
	return "", l.errorf(line, col, "unterminated string")
}

// multiline reads the rest of a "text:" string (RFC 5228 §2.4.2): the
// line after "text:" may hold only white space and a hash comment; each
// following line is taken as it is, a leading ".." loses one dot, and a
// line holding only "." ends the string. Lines keep their own line ends
// (CRLF or LF).
func (l *lexer) multiline(t token) (string, error) {
	for l.pos < len(l.src) && (l.src[l.pos] == ' ' || l.src[l.pos] == '\t') {
		l.advance(1)
	}
	if l.pos < len(l.src) && l.src[l.pos] == '#' {
		for l.pos < len(l.src) && l.src[l.pos] != '\n' {
			l.advance(1)
		}
	}
	if l.pos < len(l.src) && l.src[l.pos] == '\r' {
		l.advance(1)
	}
	if l.pos >= len(l.src) || l.src[l.pos] != '\n' {
		return "", l.errorf(l.line, l.col, "\"text:\" must be followed by the end of the line")
	}
	l.advance(1)
	var b strings.Builder
	for {
		if l.pos >= len(l.src) {
			return "", l.errorf(t.line, t.col, "multi-line string not terminated by a line holding only \".\"")
		}
		end := strings.IndexByte(l.src[l.pos:], '\n')
		var line string
		if end < 0 {
			line = l.src[l.pos:]
		} else {
			line = l.src[l.pos : l.pos+end+1]
		}
		body := strings.TrimRight(line, "\r\n")
		if body == "." {
			l.advance(len(line))
			return b.String(), nil
		}
		if end < 0 {
			return "", l.errorf(t.line, t.col, "multi-line string not terminated by a line holding only \".\"")
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:]
		}
		b.WriteString(line)
		l.advance(end + 1)
	}
}
