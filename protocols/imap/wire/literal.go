package wire

import (
	"io"
)

// Literal describes a literal's header (RFC 9051 §4.3): "{n}" is
// synchronising (the client waits for a continuation request), "{n+}" is
// not (RFC 7888), "~{n}" is a literal8 (RFC 3516 §4.1; it may hold NUL and
// is allowed in APPEND data only).
type Literal struct {
	Size   int64
	Sync   bool
	Binary bool
}

// LiteralHeader reads a literal's header and the CRLF after it, and
// returns it without reading the data: APPEND's message data is streamed
// by the dispatcher, which can refuse it on its size first (RFC 7889
// APPENDLIMIT: NO [TOOBIG] before the continuation). Then either
// AcceptLiteral reads it, or the command is refused and Discard skips it
// (a synchronising literal is never sent; a non-synchronising one is
// read and thrown away).
//
// Under LiteralMinus, a non-synchronising literal over 4,096 octets is
// refused here (RFC 7888 §5: BAD [TOOBIG]).
func (d *Decoder) LiteralHeader() (Literal, error) {
	var l Literal
	bin, err := d.Maybe('~')
	if err != nil {
		return l, err
	}
	l.Binary = bin
	if err := d.Expect('{'); err != nil {
		return l, err
	}
	n, err := d.Number64()
	if err != nil {
		return l, err
	}
	l.Size = int64(n)
	plus, err := d.Maybe('+')
	if err != nil {
		return l, err
	}
	l.Sync = !plus
	if err := d.Expect('}'); err != nil {
		return l, err
	}
	if _, err := d.Maybe('\r'); err != nil {
		return l, err
	}
	if err := d.Expect('\n'); err != nil {
		return l, err
	}
	d.scan = litScan{}
	d.pending = &l
	if !l.Sync && d.LiteralMinus && l.Size > nonSyncMinus {
		return l, &SyntaxError{Text: "Non-synchronizing literal over 4096 octets", Code: "TOOBIG"}
	}
	return l, nil
}

// AcceptLiteral accepts the literal whose header LiteralHeader just read:
// for a synchronising one it calls Continue, then it returns a reader of
// exactly the literal's data. The reader must be read to its end (or the
// command discarded) before the decoder reads on.
func (d *Decoder) AcceptLiteral() (io.Reader, error) {
	l := d.pending
	if l == nil {
		return nil, syntaxf("No literal to accept")
	}
	if l.Sync && d.Continue != nil {
		if err := d.Continue(l.Size); err != nil {
			return nil, err
		}
	}
	d.pending = nil
	d.litLeft = l.Size
	return literalReader{d}, nil
}

type literalReader struct{ d *Decoder }

func (lr literalReader) Read(p []byte) (int, error) {
	d := lr.d
	if d.litLeft <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > d.litLeft {
		p = p[:d.litLeft]
	}
	n, err := d.r.Read(p)
	d.litLeft -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// literalString reads a literal inside a command as a string, within
// Limits.MaxLiteralSize and Limits.MaxCommandSize: a larger one is refused
// before the continuation request (NO [TOOBIG]), so the client sends
// nothing of it and the session goes on.
func (d *Decoder) literalString() (string, error) {
	l, err := d.LiteralHeader()
	if err != nil {
		return "", err
	}
	if l.Binary {
		return "", syntaxf("literal8 is only allowed in APPEND data")
	}
	if l.Size > d.limits.MaxLiteralSize || d.size+l.Size > d.limits.MaxCommandSize {
		return "", &SyntaxError{Text: "Literal too large", Code: "TOOBIG", No: true}
	}
	r, err := d.AcceptLiteral()
	if err != nil {
		return "", err
	}
	buf := make([]byte, l.Size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	d.size += l.Size
	return string(buf), nil
}
