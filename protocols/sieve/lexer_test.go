package sieve

import (
	"strings"
	"testing"
)

func lexAll(t *testing.T, src string) []token {
	t.Helper()
	l := newLexer([]byte(src))
	var out []token
	for {
		tok, err := l.next()
		if err != nil {
			t.Fatalf("lex %q: %v", src, err)
		}
		if tok.kind == tokEOF {
			return out
		}
		out = append(out, tok)
	}
}

// TestLexTokens: RFC 5228 §8.1's token classes, comments and positions.
func TestLexTokens(t *testing.T) {
	toks := lexAll(t, "# comment\nif /* bracket\ncomment */ header :IS \"a\\\"b\\\\c\\q\" [\"x\",\"y\"] 10K 2m 1G;")
	want := []struct {
		kind tokenKind
		text string
		num  int64
		line int
	}{
		{tokIdentifier, "if", 0, 2},
		{tokIdentifier, "header", 0, 3},
		{tokTag, "is", 0, 3},
		{tokString, `a"b\cq`, 0, 3},
		{tokPunct, "[", 0, 3},
		{tokString, "x", 0, 3},
		{tokPunct, ",", 0, 3},
		{tokString, "y", 0, 3},
		{tokPunct, "]", 0, 3},
		{tokNumber, "", 10 << 10, 3},
		{tokNumber, "", 2 << 20, 3},
		{tokNumber, "", 1 << 30, 3},
		{tokPunct, ";", 0, 3},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens %+v", len(toks), toks)
	}
	for i, w := range want {
		g := toks[i]
		if g.kind != w.kind || g.text != w.text || g.num != w.num || g.line != w.line {
			t.Errorf("token %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestLexMultiline: "text:" strings (RFC 5228 §2.4.2): dot-stuffing,
// the comment after "text:", CRLF and LF line ends.
func TestLexMultiline(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"text:\r\nline one\r\n..dot\r\n.\r\n", "line one\r\n.dot\r\n"},
		{"text: # why\nhello\n\n.\n", "hello\n\n"},
		{"TEXT:\n.\n", ""},
		{"text:  \nlast line\n.", "last line\n"},
	} {
		toks := lexAll(t, c.src)
		if len(toks) != 1 || toks[0].kind != tokString || toks[0].text != c.want {
			t.Errorf("lex %q = %+v, want %q", c.src, toks, c.want)
		}
	}
}

func TestLexErrors(t *testing.T) {
	for _, c := range []struct {
		src  string
		line int
	}{
		{`"unterminated`, 1},
		{"\n/* unterminated", 2},
		{"\n\ntext:\nno end\n", 3},
		{"text: x\n.\n", 1},
		{"99999999999999999999", 1},
		{"8G0", 1},
		{"\n\n  @", 3},
		{": x", 1},
		{"100Q", 1},
	} {
		l := newLexer([]byte(c.src))
		var err error
		for err == nil {
			var tok token
			tok, err = l.next()
			if tok.kind == tokEOF && err == nil {
				break
			}
		}
		ce, ok := err.(*CompileError)
		if !ok {
			t.Errorf("lex %q: error %v, want a CompileError", c.src, err)
			continue
		}
		if ce.Line != c.line {
			t.Errorf("lex %q: line %d (%v), want %d", c.src, ce.Line, ce, c.line)
		}
		if !strings.HasPrefix(ce.Error(), "line ") {
			t.Errorf("error %q does not start with the line", ce.Error())
		}
	}
}
