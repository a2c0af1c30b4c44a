package managesieve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/surat-mail/surat/protocols/frontend"
)

// The command syntax is RFC 5804 §4: a command name (an atom), then
// arguments separated by spaces: strings (quoted, or literals "{n}" or
// "{n+}" followed by CRLF and n octets) and numbers. A literal may only end
// a line; the command goes on on the line after its octets.

// maxDiscard bounds how much of one over-long line, or of an over-large
// literal, is read and thrown away before the session gives up on the
// client.
const maxDiscard = 1 << 20

// maxArgs bounds a command's arguments: RENAMESCRIPT has the most, two
// (three for a lenient client's extra); anything more is a bad command.
const maxArgs = 4

var (
	errLineLong    = frontend.ErrLineLong
	errAbuse       = errors.New("managesieve: line or literal far too long")
	errSyntax      = errors.New("managesieve: syntax error")
	errTooManyArgs = errors.New("managesieve: too many arguments")
)

// literalTooLarge reports a literal over the limit that was read and
// discarded: the command is answered NO (QUOTA/MAXSIZE) and the session
// goes on.
type literalTooLarge struct{ size uint64 }

func (e literalTooLarge) Error() string {
	return fmt.Sprintf("managesieve: literal of %d octets too large", e.size)
}

// arg is one argument: a string (quoted or literal) or an atom (a number,
// or a word a lenient client sent unquoted).
type arg struct {
	atom bool
	s    string
}

// command is one parsed command.
type command struct {
	name string // upper case
	args []arg
}

// wireLimits bound what one command may bring.
type wireLimits struct {
	line    int    // octets of one line with its CRLF
	literal uint64 // octets of all the literals of one command
}

// readLine reads one line ending in LF (CRLF asked for by RFC 5804 §4;
// a bare LF is accepted) without its line ending. A line longer than limit
// octets is consumed and reported as errLineLong; one past maxDiscard as
// errAbuse.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	line, err := frontend.ReadLine(r, limit, maxDiscard)
	if errors.Is(err, frontend.ErrLineAbuse) {
		err = errAbuse
	}
	return line, err
}

// readCommand reads one command, its literals included. Errors: errLineLong
// (the line was skipped), literalTooLarge (the literal was skipped),
// errSyntax and errTooManyArgs (the line and its literals were read),
// errAbuse (the session must end), or the connection's error.
func readCommand(r *bufio.Reader, lim wireLimits) (command, error) {
	var cmd command
	toks, err := readTokens(r, lim)
	if err != nil {
		return cmd, err
	}
	if len(toks) == 0 || !toks[0].atom {
		return cmd, errSyntax
	}
	cmd.name = upperASCII(toks[0].s)
	cmd.args = toks[1:]
	if len(cmd.args) > maxArgs {
		return cmd, errTooManyArgs
	}
	return cmd, nil
}

// readTokens reads one logical line: its tokens, with every literal's
// octets read in place (RFC 5804 §4 literal-c2s; a synchronizing "{n}"
// needs no continuation in ManageSieve, the client sends the octets at
// once, as Pigeonhole and Cyrus take it).
func readTokens(r *bufio.Reader, lim wireLimits) ([]arg, error) {
	var toks []arg
	var literals uint64
	var syntax, tooLarge error
	for {
		line, err := readLine(r, lim.line)
		if err != nil {
			return nil, err
		}
		n, isLit, err := tokenize(line, &toks)
		if err != nil {
			// Nothing more of this command can be trusted; the line is
			// consumed.
			syntax = err
		}
		if !isLit || err != nil {
			switch {
			case syntax != nil:
				return nil, syntax
			case tooLarge != nil:
				return nil, tooLarge
			case len(toks) > maxArgs+1:
				return nil, errTooManyArgs
			}
			return toks, nil
		}
		literals += n
		if literals > lim.literal || tooLarge != nil {
			// RFC 5804 §2.6: a script over the limit is refused with
			// NO (QUOTA/MAXSIZE); the octets are read and dropped when
			// that costs little, else the session ends.
			if n > maxDiscard {
				return nil, errAbuse
			}
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return nil, err
			}
			tooLarge = literalTooLarge{size: n}
			continue
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, err
		}
		if len(toks) <= maxArgs+1 {
			toks = append(toks, arg{s: string(data)})
		}
	}
}

// tokenize appends line's tokens to toks. When the line ends with a
// literal's announcement it returns its size and isLit.
func tokenize(line []byte, toks *[]arg) (n uint64, isLit bool, err error) {
	i := 0
	for i < len(line) {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			s, j, err := unquote(line, i)
			if err != nil {
				return 0, false, err
			}
			*toks = append(*toks, arg{s: s})
			i = j
		case c == '{':
			j := bytes.IndexByte(line[i:], '}')
			if j < 0 || i+j != len(line)-1 {
				return 0, false, errSyntax // a literal ends its line
			}
			num := line[i+1 : i+j]
			num = bytes.TrimSuffix(num, []byte("+"))
			v, err := parseNumber(num)
			if err != nil {
				return 0, false, err
			}
			return v, true, nil
		case c < 0x20 || c == 0x7f || c == '(' || c == ')':
			return 0, false, errSyntax
		default:
			j := i
			for j < len(line) && isAtomChar(line[j]) {
				j++
			}
			*toks = append(*toks, arg{atom: true, s: string(line[i:j])})
			i = j
		}
	}
	return 0, false, nil
}

func isAtomChar(c byte) bool {
	return c > ' ' && c != 0x7f && c != '"' && c != '(' && c != ')' && c != '{'
}

// unquote reads the quoted string starting at line[i] (RFC 5804 §4:
// QUOTED-CHAR is a UTF-8 character other than NUL, CR, LF, '"' and '\',
// or '\' before '"' or '\'). It returns the string and the index after the
// closing quote.
func unquote(line []byte, i int) (string, int, error) {
	var b []byte
	for j := i + 1; j < len(line); j++ {
		switch c := line[j]; c {
		case '"':
			if !utf8.Valid(b) {
				return "", 0, errSyntax
			}
			return string(b), j + 1, nil
		case '\\':
			if j+1 >= len(line) || (line[j+1] != '"' && line[j+1] != '\\') {
				return "", 0, errSyntax
			}
			j++
			b = append(b, line[j])
		case 0:
			return "", 0, errSyntax
		default:
			b = append(b, c)
		}
	}
	return "", 0, errSyntax
}

// parseNumber parses RFC 5804 §4's number: 1*DIGIT below 4,294,967,296.
func parseNumber(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 10 {
		return 0, errSyntax
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
	}
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil || v >= 1<<32 {
		return 0, errSyntax
	}
	return v, nil
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// maxQuoted is RFC 5804 §4's bound on a quoted string; longer strings are
// sent as literals.
const maxQuoted = 1024

// appendString appends s as a ManageSieve string: quoted when RFC 5804 §4
// allows (valid UTF-8 of at most 1024 octets, without NUL, CR or LF), else
// as a literal "{n}" CRLF octets (literal-s2c).
func appendString(dst []byte, s []byte) []byte {
	if len(s) <= maxQuoted && utf8.Valid(s) && bytes.IndexAny(s, "\x00\r\n") < 0 {
		dst = append(dst, '"')
		for _, c := range s {
			if c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
		return append(dst, '"')
	}
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, "}\r\n"...)
	return append(dst, s...)
}
