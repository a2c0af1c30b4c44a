package wire

import (
	"bufio"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Decoder reads IMAP commands from a client (RFC 9051 §2.2.1, §9), one at
// a time: Begin reads a command's tag and name, the command's grammar
// reads its arguments with the token methods, and End reads the CRLF that
// closes it. On an error, the dispatcher calls Discard to skip what is
// left of the command (literals included) before answering BAD.
//
// A Decoder is not safe for concurrent use. It never panics on input.
type Decoder struct {
	r      *bufio.Reader
	limits Limits

	// Continue is called when the decoder accepts a synchronising literal,
	// before it reads the literal's data: the dispatcher writes a
	// continuation request ("+ Ready", RFC 9051 §7.5) and flushes it. A
	// literal the decoder refuses (over Limits.MaxLiteralSize) is refused
	// before Continue, so the client sends nothing of it. nil: nothing is
	// sent (tests).
	Continue func(size int64) error
	// LiteralMinus applies LITERAL- instead of LITERAL+ (RFC 7888 §5): a
	// non-synchronising literal over 4,096 octets is refused (BAD
	// [TOOBIG]) and its data discarded.
	LiteralMinus bool
	// UTF8Accept is set once the client enabled UTF8=ACCEPT (RFC 6855 §3):
	// mailbox names are then UTF-8 as sent, not modified UTF-7.
	UTF8Accept bool

	inCommand bool
	text      int   // command text read for this command (literal data excluded)
	size      int64 // command text and in-command literal data
	depth     int
	scan      litScan
	pending   *Literal // a literal header read, its data not yet accepted
	litLeft   int64    // data left of an accepted literal handed out as a reader
	app       appendState
}

// NewDecoder returns a decoder reading from r with the limits l (zero
// fields take DefaultLimits).
func NewDecoder(r *bufio.Reader, l Limits) *Decoder {
	return &Decoder{r: r, limits: l.withDefaults()}
}

// Reset makes the decoder read from r, between commands: after STARTTLS
// (RFC 9051 §6.2.1) or COMPRESS (RFC 4978 §3). Check Buffered first: a
// client that sent data after STARTTLS before the TLS handshake is
// attempting command injection and must be disconnected.
func (d *Decoder) Reset(r *bufio.Reader) {
	d.r = r
	d.inCommand = false
	d.pending, d.litLeft = nil, 0
}

// Buffered returns how many bytes are read from the connection but not
// yet decoded.
func (d *Decoder) Buffered() int { return d.r.Buffered() }

// Limits returns the decoder's limits, defaults filled in.
func (d *Decoder) Limits() Limits { return d.limits }

// Begin reads the start of the next command: its tag and, after a space,
// its name in upper case. "UID" and the command it prefixes are returned
// as one name ("UID FETCH", RFC 9051 §6.4.9). Empty lines before a command
// are skipped. If the previous command was not read to its end, Begin
// discards the rest of it first. On a *SyntaxError, tag is what was read
// of the tag ("" if none): answer "tag BAD" or, with no tag, "* BAD".
func (d *Decoder) Begin() (tag, name string, err error) {
	if d.inCommand {
		if err := d.Discard(); err != nil {
			return "", "", err
		}
	}
	for {
		b, err := d.peekRaw()
		if err != nil {
			return "", "", err
		}
		if b != '\r' && b != '\n' {
			break
		}
		_, _ = d.r.ReadByte()
	}
	d.inCommand = true
	d.text, d.size, d.depth = 0, 0, 0
	d.scan = litScan{}
	d.pending, d.litLeft = nil, 0
	d.app = appendState{}

	tag, err = d.readWhile(isTagChar)
	if err != nil {
		return "", "", err
	}
	if tag == "" {
		return "", "", syntaxf("Missing tag")
	}
	if err := d.SP(); err != nil {
		return tag, "", err
	}
	name, err = d.Atom()
	if err != nil {
		return tag, "", err
	}
	name = strings.ToUpper(name)
	if name == "UID" {
		if err := d.SP(); err != nil {
			return tag, "", err
		}
		sub, err := d.Atom()
		if err != nil {
			return tag, "", err
		}
		name = "UID " + strings.ToUpper(sub)
	}
	return tag, name, nil
}

// InCommand reports whether a command has begun and not ended.
func (d *Decoder) InCommand() bool { return d.inCommand }

// End reads the CRLF that ends the command (a bare LF is accepted, as
// Dovecot does). After End the next Begin reads a new command.
func (d *Decoder) End() error {
	b, err := d.peek()
	if err != nil {
		return err
	}
	if b == '\r' {
		_, _ = d.readByte()
		if b, err = d.peek(); err != nil {
			return err
		}
	}
	if b != '\n' {
		return syntaxf("Expected end of command, got %s", describe(b))
	}
	_, _ = d.readByte()
	d.inCommand = false
	return nil
}

// AtEnd reports whether the next byte ends the command (CR or LF),
// without reading it.
func (d *Decoder) AtEnd() (bool, error) {
	b, err := d.peek()
	if err != nil {
		return false, err
	}
	return b == '\r' || b == '\n', nil
}

// Peek returns the next byte without reading it.
func (d *Decoder) Peek() (byte, error) { return d.peek() }

// Maybe reads the next byte if it is c and reports whether it did.
func (d *Decoder) Maybe(c byte) (bool, error) {
	b, err := d.peek()
	if err != nil {
		return false, err
	}
	if b != c {
		return false, nil
	}
	_, err = d.readByte()
	return err == nil, err
}

// Expect reads the byte c, or fails with a *SyntaxError.
func (d *Decoder) Expect(c byte) error {
	ok, err := d.Maybe(c)
	if err != nil {
		return err
	}
	if !ok {
		b, _ := d.peek()
		return syntaxf("Expected %s, got %s", describe(c), describe(b))
	}
	return nil
}

// SP reads one space.
func (d *Decoder) SP() error { return d.Expect(' ') }

// Atom reads an atom (RFC 9051 §9: 1*ATOM-CHAR) as sent.
func (d *Decoder) Atom() (string, error) {
	s, err := d.readWhile(isAtomChar)
	if err != nil {
		return "", err
	}
	if s == "" {
		b, _ := d.peek()
		return "", syntaxf("Expected an atom, got %s", describe(b))
	}
	return s, nil
}

// Keyword reads an atom and returns it in upper case, for the grammars'
// case-insensitive keywords.
func (d *Decoder) Keyword() (string, error) {
	s, err := d.Atom()
	return strings.ToUpper(s), err
}

// ExpectKeyword reads an atom that must equal kw (case-insensitively).
func (d *Decoder) ExpectKeyword(kw string) error {
	s, err := d.Atom()
	if err != nil {
		return err
	}
	if !strings.EqualFold(s, kw) {
		return syntaxf("Expected %s, got %q", kw, s)
	}
	return nil
}

// Quoted reads a quoted string (RFC 9051 §4.3; UTF-8 is accepted in it,
// as IMAP4rev2 and RFC 6855 allow).
func (d *Decoder) Quoted() (string, error) {
	if err := d.Expect('"'); err != nil {
		return "", err
	}
	var sb strings.Builder
	for {
		b, err := d.readByte()
		if err != nil {
			return "", err
		}
		switch b {
		case '"':
			return sb.String(), nil
		case '\\':
			e, err := d.readByte()
			if err != nil {
				return "", err
			}
			if e != '"' && e != '\\' {
				return "", syntaxf("Bad escape %s in quoted string", describe(e))
			}
			sb.WriteByte(e)
		case '\r', '\n', 0:
			return "", syntaxf("Unterminated quoted string")
		default:
			sb.WriteByte(b)
		}
	}
}

// String reads a string: quoted or literal (RFC 9051 §4.3).
func (d *Decoder) String() (string, error) {
	b, err := d.peek()
	if err != nil {
		return "", err
	}
	switch b {
	case '"':
		return d.Quoted()
	case '{', '~':
		return d.literalString()
	}
	return "", syntaxf("Expected a string, got %s", describe(b))
}

// Astring reads an astring: an atom (where "]" is allowed) or a string.
// Octets above 0x7F are accepted in the atom form too, as Dovecot does,
// for clients that send UTF-8 mailbox names unquoted.
func (d *Decoder) Astring() (string, error) {
	b, err := d.peek()
	if err != nil {
		return "", err
	}
	if b == '"' || b == '{' || b == '~' && d.literal8Ahead() {
		return d.String()
	}
	s, err := d.readWhile(isAstringChar)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", syntaxf("Expected a string, got %s", describe(b))
	}
	return s, nil
}

// literal8Ahead reports whether "~{" is ahead ("~" alone is an atom
// character).
func (d *Decoder) literal8Ahead() bool {
	p, err := d.peek2()
	return err == nil && p[0] == '~' && p[1] == '{'
}

// Nstring reads a string or NIL; ok is false for NIL.
func (d *Decoder) Nstring() (s string, ok bool, err error) {
	b, err := d.peek()
	if err != nil {
		return "", false, err
	}
	if b == 'N' || b == 'n' {
		if err := d.ExpectKeyword("NIL"); err != nil {
			return "", false, err
		}
		return "", false, nil
	}
	s, err = d.String()
	return s, err == nil, err
}

// List reads a parenthesised list, calling item for each element (the
// decoder positioned at it); elements are separated by one space. An empty
// list "()" calls item never. Lists nest at most Limits.MaxDepth deep.
func (d *Decoder) List(item func() error) error {
	if err := d.Expect('('); err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	if ok, err := d.Maybe(')'); ok || err != nil {
		return err
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if end, err := d.listNext("list"); end || err != nil {
			return err
		}
	}
}

// listNext reads what follows an element of a list: SP before the next
// (false) or the closing ")" (true); anything else is a syntax error
// naming the list, what.
func (d *Decoder) listNext(what string) (end bool, err error) {
	b, err := d.readByte()
	if err != nil {
		return false, err
	}
	switch b {
	case ')':
		return true, nil
	case ' ':
		return false, nil
	default:
		return false, syntaxf("Expected SP or ) in %s, got %s", what, describe(b))
	}
}

// Number reads a number (RFC 9051 §9: fits 32 bits).
func (d *Decoder) Number() (uint32, error) {
	n, err := d.number(1<<32 - 1)
	return uint32(n), err
}

// NzNumber reads a non-zero number.
func (d *Decoder) NzNumber() (uint32, error) {
	n, err := d.Number()
	if err == nil && n == 0 {
		return 0, syntaxf("Expected a non-zero number")
	}
	return n, err
}

// Number64 reads a number64 (RFC 9051 §9: 0 to 2^63-1), as MODSEQ values
// (RFC 7162 §7: mod-sequence-value) and sizes are.
func (d *Decoder) Number64() (uint64, error) {
	return d.number(1<<63 - 1)
}

func (d *Decoder) number(max uint64) (uint64, error) {
	var n uint64
	digits := 0
	for {
		b, err := d.peek()
		if err != nil {
			return 0, err
		}
		if b < '0' || b > '9' {
			break
		}
		_, _ = d.readByte()
		digits++
		v := uint64(b - '0')
		if n > (max-v)/10 {
			return 0, syntaxf("Number too large")
		}
		n = n*10 + v
	}
	if digits == 0 {
		b, _ := d.peek()
		return 0, syntaxf("Expected a number, got %s", describe(b))
	}
	return n, nil
}

// Flag reads a flag (RFC 9051 §9: "\" atom or a keyword). System flags
// are returned in their canonical case (\seen is \Seen).
func (d *Decoder) Flag() (imap.Flag, error) {
	sys, err := d.Maybe('\\')
	if err != nil {
		return "", err
	}
	a, err := d.Atom()
	if err != nil {
		return "", err
	}
	if !sys {
		return imap.Flag(a), nil
	}
	return canonicalFlag(`\` + a), nil
}

// FlagList reads a parenthesised list of flags.
func (d *Decoder) FlagList() ([]imap.Flag, error) {
	var flags []imap.Flag
	err := d.List(func() error {
		f, err := d.Flag()
		flags = append(flags, f)
		return err
	})
	return flags, err
}

// FlagRecent is the IMAP4rev1 \Recent flag (RFC 3501 §2.3.2), gone from
// IMAP4rev2 and from go-imap's constants.
const FlagRecent imap.Flag = "\\Recent"

var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged,
	imap.FlagDeleted, imap.FlagDraft, FlagRecent}

func canonicalFlag(f string) imap.Flag {
	for _, s := range systemFlags {
		if strings.EqualFold(string(s), f) {
			return s
		}
	}
	return imap.Flag(f)
}

// enter counts one level of nesting; leave undoes it.
func (d *Decoder) enter() error {
	d.depth++
	if d.depth > d.limits.MaxDepth {
		return errTooDeep()
	}
	return nil
}

func (d *Decoder) leave() { d.depth-- }

// readWhile reads the bytes that satisfy ok (at least none).
func (d *Decoder) readWhile(ok func(byte) bool) (string, error) {
	var sb strings.Builder
	for {
		b, err := d.peek()
		if err != nil {
			return "", err
		}
		if !ok(b) {
			return sb.String(), nil
		}
		if _, err := d.readByte(); err != nil {
			return "", err
		}
		sb.WriteByte(b)
	}
}

// peek returns the next byte of command text without reading it.
func (d *Decoder) peek() (byte, error) {
	if d.litLeft > 0 || d.pending != nil {
		return 0, syntaxf("Literal not read to its end")
	}
	return d.peekRaw()
}

// peek2 returns the next two bytes without reading them, or the next one
// and 0 when it ends the line: it never waits for bytes past the line's
// LF, which the client may not send before it has an answer.
func (d *Decoder) peek2() ([2]byte, error) {
	var out [2]byte
	b, err := d.peek()
	if err != nil || b == '\n' {
		out[0] = b
		return out, err
	}
	p, err := d.r.Peek(2)
	if err != nil {
		return out, err
	}
	return [2]byte{p[0], p[1]}, nil
}

func (d *Decoder) peekRaw() (byte, error) {
	p, err := d.r.Peek(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// readByte reads one byte of command text, within the limits. A byte over
// the limits is left unread, so Discard still sees the end of the line.
func (d *Decoder) readByte() (byte, error) {
	if d.litLeft > 0 || d.pending != nil {
		return 0, syntaxf("Literal not read to its end")
	}
	if d.text >= d.limits.MaxLineLength {
		return 0, &SyntaxError{Text: "Command line too long", Code: "TOOBIG"}
	}
	if d.size >= d.limits.MaxCommandSize {
		return 0, &SyntaxError{Text: "Command too long", Code: "TOOBIG"}
	}
	b, err := d.r.ReadByte()
	if err != nil {
		return 0, err
	}
	d.text++
	d.size++
	d.scan.feed(b)
	return b, nil
}

// Character classes of RFC 9051 §9.

func isCTL(b byte) bool { return b < 0x20 || b == 0x7f }

// isAtomChar: any CHAR except atom-specials: "(" ")" "{" SP CTL
// list-wildcards quoted-specials resp-specials.
func isAtomChar(b byte) bool {
	if b >= 0x80 || isCTL(b) {
		return false
	}
	switch b {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// isAstringChar: ATOM-CHAR or resp-specials, and octets above 0x7F (see
// Astring).
func isAstringChar(b byte) bool { return isAtomChar(b) || b == ']' || b >= 0x80 }

// isTagChar: any ASTRING-CHAR except "+".
func isTagChar(b byte) bool { return (isAtomChar(b) || b == ']') && b != '+' }

// isListChar: ATOM-CHAR, list-wildcards or resp-specials (RFC 9051 §9
// list-mailbox), and octets above 0x7F as in Astring.
func isListChar(b byte) bool { return isAstringChar(b) || b == '%' || b == '*' }

// describe names a byte for an error text.
func describe(b byte) string {
	switch {
	case b == '\r' || b == '\n':
		return "end of line"
	case b == ' ':
		return "SP"
	case b > 0x20 && b < 0x7f:
		return `"` + string(rune(b)) + `"`
	}
	return "a control or 8-bit octet"
}

// litScan follows the command text for a literal header at the end of a
// line ("{n}", "{n+}", "~{n}"), so that Discard knows whether the client
// waits for a continuation or sends literal data.
type litScan struct {
	st      uint8 // 1 after "{", 2 in digits, 3 after "+", 4 "}" sync, 5 "}" non-sync
	n       int64
	endSt   uint8 // st when the last LF was read
	endSize int64
}

func (s *litScan) feed(b byte) {
	switch {
	case b == '\n':
		s.endSt, s.endSize, s.st = s.st, s.n, 0
		if s.endSt != 4 && s.endSt != 5 {
			s.endSt = 0
		}
	case b == '{':
		s.st, s.n = 1, 0
	case (s.st == 1 || s.st == 2) && b >= '0' && b <= '9':
		s.st = 2
		if s.n < 1<<62 {
			s.n = s.n*10 + int64(b-'0')
		}
	case s.st == 2 && b == '+':
		s.st = 3
	case s.st == 2 && b == '}':
		s.st = 4
	case s.st == 3 && b == '}':
		s.st = 5
	case (s.st == 4 || s.st == 5) && b == '\r':
	default:
		s.st = 0
	}
}

// Discard skips what is left of the current command, so that the next
// Begin reads the next one: the rest of the line, the data of
// non-synchronising literals the client sends regardless, and the lines
// after them. A synchronising literal ends the command: the client waits
// for a continuation request that will not come and takes the tagged BAD
// or NO as the end of the command (RFC 9051 §7.5). Call it before
// answering the refused command. An error from Discard is Fatal (or the
// reader's): the connection must be closed.
func (d *Decoder) Discard() error {
	if !d.inCommand {
		return nil
	}
	budget := d.limits.MaxDiscard
	skip := func(n int64) error {
		if n > budget {
			return &SyntaxError{Text: "Literal too large to skip", Code: "TOOBIG", Fatal: true}
		}
		budget -= n
		if _, err := io.CopyN(io.Discard, d.r, n); err != nil {
			return err
		}
		return nil
	}
	if d.litLeft > 0 {
		n := d.litLeft
		d.litLeft = 0
		if err := skip(n); err != nil {
			return err
		}
	}
	if l := d.pending; l != nil {
		d.pending = nil
		if l.Sync {
			d.inCommand = false
			return nil
		}
		if err := skip(l.Size); err != nil {
			return err
		}
		d.scan = litScan{}
	}
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			return err
		}
		if budget--; budget < 0 {
			return &SyntaxError{Text: "Command line too long", Code: "TOOBIG", Fatal: true}
		}
		d.scan.feed(b)
		if b != '\n' {
			continue
		}
		switch d.scan.endSt {
		case 5:
			if err := skip(d.scan.endSize); err != nil {
				return err
			}
			d.scan = litScan{}
		default: // 4: a synchronising literal the client will not send; 0: the end
			d.inCommand = false
			return nil
		}
	}
}
