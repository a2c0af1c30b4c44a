package wire

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func encode(f func(e *Encoder)) string {
	var buf bytes.Buffer
	e := NewEncoder(bufio.NewWriter(&buf))
	f(e)
	if err := e.Flush(); err != nil {
		panic(err)
	}
	return buf.String()
}

func TestEncoderResponses(t *testing.T) {
	for _, tc := range []struct {
		f    func(e *Encoder)
		want string
	}{
		{func(e *Encoder) { e.Untagged().Number(3).SP().Atom("EXISTS").CRLF() }, "* 3 EXISTS\r\n"},
		{func(e *Encoder) { e.Status("A1", "OK", "READ-WRITE", "SELECT completed") }, "A1 OK [READ-WRITE] SELECT completed\r\n"},
		{func(e *Encoder) { e.Status("", "BYE", "", "bye\r\nnow") }, "* BYE bye  now\r\n"},
		{func(e *Encoder) { e.Status("t", "BAD", "", "[x] y") }, "t BAD  [x] y\r\n"},
		{func(e *Encoder) { e.Status("t", "NO", "", "") }, "t NO NO\r\n"},
		{func(e *Encoder) {
			e.StatusCode("", "OK", func(e *Encoder) { e.Atom("PERMANENTFLAGS").SP().Flags([]imap.Flag{imap.FlagSeen, imap.FlagWildcard}) }, "Limited")
		}, "* OK [PERMANENTFLAGS (\\Seen \\*)] Limited\r\n"},
		{func(e *Encoder) { e.Continuation("") }, "+ Ready\r\n"},
		{func(e *Encoder) { e.Quoted(`a"b\c`) }, `"a\"b\\c"`},
		{func(e *Encoder) { e.String("line\r\nbreak") }, "{11}\r\nline\r\nbreak"},
		{func(e *Encoder) { e.String("Grüße") }, "{7}\r\nGrüße"},
		{func(e *Encoder) { e.UTF8 = true; e.String("Grüße") }, `"Grüße"`},
		{func(e *Encoder) { e.String(strings.Repeat("x", 1025)) }, "{1025}\r\n" + strings.Repeat("x", 1025)},
		{func(e *Encoder) { e.AString("INBOX").SP().AString("nil").SP().AString("").SP().AString("a b") }, `INBOX "nil" "" "a b"`},
		{func(e *Encoder) { e.NString("", false).SP().NString("", true) }, `NIL ""`},
		{func(e *Encoder) { e.Literal8([]byte("a\x00")) }, "~{2}\r\na\x00"},
		{func(e *Encoder) { e.LiteralFrom(strings.NewReader("hello world"), 5, false) }, "{5}\r\nhello"},
		{func(e *Encoder) { e.Mailbox("inbox").SP().Mailbox("Entwürfe").SP().Mailbox("a&b c") }, `INBOX Entw&APw-rfe "a&-b c"`},
		{func(e *Encoder) { e.UTF8Accept = true; e.UTF8 = true; e.Mailbox("Entwürfe") }, `"Entwürfe"`},
		{func(e *Encoder) { e.NumSet(imap.UIDSetNum(1, 2, 3, 7)).SP().NumSet(imap.SearchRes()) }, "1:3,7 $"},
		{func(e *Encoder) { e.DateTime(time.Date(2024, 2, 3, 4, 5, 6, 0, time.FixedZone("", 3600))) }, `" 3-Feb-2024 04:05:06 +0100"`},
		{func(e *Encoder) { e.List(0, nil).SP().List(2, func(i int) { e.Number(uint32(i)) }) }, "() (0 1)"},
		{func(e *Encoder) { e.Number64(1 << 40) }, "1099511627776"},
	} {
		if got := encode(tc.f); got != tc.want {
			t.Errorf("got %q want %q", got, tc.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken") }

func TestEncoderStickyError(t *testing.T) {
	e := NewEncoder(bufio.NewWriterSize(failWriter{}, 16))
	e.Raw(strings.Repeat("x", 100)).Untagged().Atom("OK").CRLF()
	if e.Err() == nil || e.Flush() == nil {
		t.Error("no sticky error")
	}
	e = NewEncoder(bufio.NewWriter(&bytes.Buffer{}))
	e.LiteralFrom(strings.NewReader("abc"), 10, false)
	if e.Err() == nil {
		t.Error("short literal reader not reported")
	}
}

// Strings the encoder writes read back the same through the decoder.
func TestEncoderDecoderRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a", "NIL", `q"u\o`, "two\r\nlines", "Grüße", strings.Repeat("z", 2000), "a]b", "(x)"} {
		out := encode(func(e *Encoder) { e.Raw("t X ").AString(s).CRLF() })
		d := newTestDecoder(out)
		_, _, _ = d.Begin()
		_ = d.SP()
		got, err := d.Astring()
		if err != nil || got != s {
			t.Errorf("%q: got %q %v (wire %q)", s, got, err, out)
		}
		if err := d.End(); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}
