package wire

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

// Encoder writes IMAP responses (RFC 9051 §7, §9) to a *bufio.Writer.
// Its methods write one element each and return the Encoder, so a
// response reads as a chain:
//
//	enc.Untagged().Number(n).SP().Atom("EXISTS").CRLF()
//
// The first write error sticks: later calls do nothing and Err (or
// Flush) returns it. Nothing is sent before Flush unless the buffer fills.
// An Encoder is not safe for concurrent use.
type Encoder struct {
	w   *bufio.Writer
	err error

	// UTF8 allows UTF-8 in quoted strings (IMAP4rev2, RFC 9051 §9
	// QUOTED-CHAR; or UTF8=ACCEPT, RFC 6855 §3); otherwise a string with
	// octets above 0x7F is sent as a literal.
	UTF8 bool
	// UTF8Accept sends mailbox names in UTF-8 rather than modified UTF-7
	// (RFC 6855 §3), once the client enabled UTF8=ACCEPT; it implies UTF8.
	UTF8Accept bool
}

// NewEncoder returns an encoder writing to w.
func NewEncoder(w *bufio.Writer) *Encoder { return &Encoder{w: w} }

// Reset makes the encoder write to w (after STARTTLS or COMPRESS) and
// clears the sticky error. Flush first: what is buffered is dropped.
func (e *Encoder) Reset(w *bufio.Writer) {
	e.w, e.err = w, nil
}

// Err returns the first write error.
func (e *Encoder) Err() error { return e.err }

// Flush sends what is buffered and returns the first error.
func (e *Encoder) Flush() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.err
}

// Raw writes s as is: for text the caller has formatted.
func (e *Encoder) Raw(s string) *Encoder {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
	return e
}

func (e *Encoder) byte(b byte) *Encoder {
	if e.err == nil {
		e.err = e.w.WriteByte(b)
	}
	return e
}

func (e *Encoder) bytes(p []byte) *Encoder {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
	return e
}

// Untagged starts an untagged response: "* ".
func (e *Encoder) Untagged() *Encoder { return e.Raw("* ") }

// Tagged starts a tagged response: the tag and a space.
func (e *Encoder) Tagged(tag string) *Encoder { return e.Raw(tag).SP() }

// SP writes a space.
func (e *Encoder) SP() *Encoder { return e.byte(' ') }

// CRLF ends a response line.
func (e *Encoder) CRLF() *Encoder { return e.Raw("\r\n") }

// Continuation writes a continuation request: "+ text" CRLF (RFC 9051
// §7.5); an empty text is sent as "Ready".
func (e *Encoder) Continuation(text string) *Encoder {
	if text == "" {
		text = "Ready"
	}
	return e.Raw("+ ").Raw(cleanText(text)).CRLF()
}

// Status writes a whole status response line (RFC 9051 §7.1): tag (or
// "*" for an untagged one), the type (OK, NO, BAD, BYE, PREAUTH), an
// optional response code written as given between brackets (with its
// arguments: "APPENDUID 38505 3955"), and the human-readable text.
func (e *Encoder) Status(tag, typ, code, text string) *Encoder {
	if tag == "" {
		tag = "*"
	}
	e.Raw(tag).SP().Raw(typ).SP()
	if code != "" {
		e.byte('[').Raw(cleanCode(code)).Raw("] ")
	}
	if text == "" {
		text = typ
	}
	return e.Raw(cleanText(text)).CRLF()
}

// StatusCode writes a status response whose response code has arguments
// that need encoding (PERMANENTFLAGS, CAPABILITY, MODIFIED, METADATA...):
// code writes the code and its arguments inside the brackets.
func (e *Encoder) StatusCode(tag, typ string, code func(*Encoder), text string) *Encoder {
	if tag == "" {
		tag = "*"
	}
	e.Raw(tag).SP().Raw(typ).Raw(" [")
	code(e)
	if text == "" {
		text = typ
	}
	return e.Raw("] ").Raw(cleanText(text)).CRLF()
}

// cleanText makes s fit resp-text: no CR or LF, and not starting with "["
// (which would read as a response code).
func cleanText(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") {
		s = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == 0 {
				return ' '
			}
			return r
		}, s)
	}
	if strings.HasPrefix(s, "[") {
		s = " " + s
	}
	return s
}

func cleanCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ']' || r == 0 {
			return ' '
		}
		return r
	}, s)
}

// Atom writes s as an atom; the caller guarantees it is one.
func (e *Encoder) Atom(s string) *Encoder { return e.Raw(s) }

// NIL writes NIL.
func (e *Encoder) NIL() *Encoder { return e.Raw("NIL") }

// Number writes a number.
func (e *Encoder) Number(n uint32) *Encoder {
	var buf [10]byte
	return e.bytes(strconv.AppendUint(buf[:0], uint64(n), 10))
}

// Number64 writes a number64 (sizes, MODSEQ values).
func (e *Encoder) Number64(n uint64) *Encoder {
	var buf [20]byte
	return e.bytes(strconv.AppendUint(buf[:0], n, 10))
}

// Quoted writes s as a quoted string, escaping '"' and '\'. The caller
// guarantees s has no CR, LF or NUL (String chooses for it). The runs
// between escapes are written whole: byte by byte, quoting was most of the
// time spent writing an ENVELOPE.
func (e *Encoder) Quoted(s string) *Encoder {
	e.byte('"')
	run := 0 // start of the run not written yet
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			e.Raw(s[run:i]).byte('\\')
			run = i // the escaped octet starts the next run
		}
	}
	return e.Raw(s[run:]).byte('"')
}

// maxQuoted is the longest string sent quoted; longer ones are literals,
// which clients read without scanning for escapes.
const maxQuoted = 1024

// String writes s as a quoted string when it can be one, else as a
// literal: with CR, LF or NUL, octets above 0x7F without UTF8 (or invalid
// UTF-8), or longer than 1,024 octets.
func (e *Encoder) String(s string) *Encoder {
	if e.quotable(s) {
		return e.Quoted(s)
	}
	return e.Literal([]byte(s))
}

func (e *Encoder) quotable(s string) bool {
	if len(s) > maxQuoted {
		return false
	}
	eight := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n' || c == 0:
			return false
		case c >= 0x80:
			eight = true
		}
	}
	return !eight || ((e.UTF8 || e.UTF8Accept) && utf8.ValidString(s))
}

// AString writes s as an atom when it is one (and not NIL), else as
// String does.
func (e *Encoder) AString(s string) *Encoder {
	if s != "" && !strings.EqualFold(s, "NIL") && isAtomString(s) {
		return e.Raw(s)
	}
	return e.String(s)
}

func isAtomString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAtomChar(s[i]) {
			return false
		}
	}
	return true
}

// NString writes s, or NIL when ok is false.
func (e *Encoder) NString(s string, ok bool) *Encoder {
	if !ok {
		return e.NIL()
	}
	return e.String(s)
}

// Literal writes p as a literal: "{n}" CRLF and the octets.
func (e *Encoder) Literal(p []byte) *Encoder {
	e.byte('{').Number64(uint64(len(p))).Raw("}\r\n")
	return e.bytes(p)
}

// Literal8 writes p as a literal8 (RFC 3516 §4.2: "~{n}", for BINARY
// data that may hold NUL).
func (e *Encoder) Literal8(p []byte) *Encoder {
	e.Raw("~{").Number64(uint64(len(p))).Raw("}\r\n")
	return e.bytes(p)
}

// LiteralFrom writes a literal of size octets read from r (literal8 when
// binary). Fewer octets than size is an error (the stream would be out of
// step): io.ErrUnexpectedEOF sticks.
func (e *Encoder) LiteralFrom(r io.Reader, size int64, binary bool) *Encoder {
	if binary {
		e.byte('~')
	}
	e.byte('{').Number64(uint64(size)).Raw("}\r\n")
	if e.err != nil {
		return e
	}
	n, err := io.CopyN(e.w, r, size)
	if err != nil && n < size {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		e.err = err
	}
	return e
}

// Open writes "(".
func (e *Encoder) Open() *Encoder { return e.byte('(') }

// Close writes ")".
func (e *Encoder) Close() *Encoder { return e.byte(')') }

// List writes a parenthesised list of n items, item(i) writing each,
// separated by spaces.
func (e *Encoder) List(n int, item func(i int)) *Encoder {
	e.Open()
	for i := 0; i < n && e.err == nil; i++ {
		if i > 0 {
			e.SP()
		}
		item(i)
	}
	return e.Close()
}

// Flag writes a flag.
func (e *Encoder) Flag(f imap.Flag) *Encoder { return e.Raw(string(f)) }

// Flags writes a parenthesised list of flags.
func (e *Encoder) Flags(flags []imap.Flag) *Encoder {
	return e.List(len(flags), func(i int) { e.Flag(flags[i]) })
}

// Mailbox writes a mailbox name: modified UTF-7 (RFC 3501 §5.1.3) unless
// UTF8Accept (RFC 6855 §3), as an astring.
func (e *Encoder) Mailbox(name string) *Encoder {
	if strings.EqualFold(name, "INBOX") {
		return e.Raw("INBOX")
	}
	if !e.UTF8Accept {
		name = EncodeMUTF7(name)
	}
	return e.AString(name)
}

// NumSet writes a sequence set ("$" for imap.SearchRes()). An empty set
// is not valid on the wire; the caller avoids it.
func (e *Encoder) NumSet(s imap.NumSet) *Encoder { return e.Raw(s.String()) }

// DateTime writes t as a quoted date-time (RFC 9051 §9).
func (e *Encoder) DateTime(t time.Time) *Encoder {
	return e.byte('"').Raw(FormatDateTime(t)).byte('"')
}
