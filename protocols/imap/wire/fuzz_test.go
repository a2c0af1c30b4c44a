package wire

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// fuzzSeeds are commands for the decoder's fuzz targets.
var fuzzSeeds = []string{
	"a NOOP\r\n",
	"a LOGIN {3}\r\nabc \"p\\\"w\"\r\n",
	"a LOGIN {3+}\r\nabc x\r\n",
	"a APPEND INBOX (\\Seen) \" 1-Jan-2024 00:00:00 +0000\" ~{3}\r\na\x00b\r\n",
	"a UID FETCH 1:*,$ (FLAGS BODY.PEEK[HEADER.FIELDS (To)]<0.10>)\r\n",
	"a X ((((a)))) NIL {0}\r\n\r\n",
	"a X {99999999999}\r\nb NOOP\r\n",
	// CONTEXT=SEARCH/SORT (RFC 5267 §4).
	"a UID SEARCH RETURN (UPDATE CONTEXT PARTIAL -1:-5 COUNT) SEEN\r\nb CANCELUPDATE \"a\" {1}\r\nx\r\n",
	"a SORT RETURN (UPDATE PARTIAL 2:1) (DATE) UTF-8 ALL\r\n",
}

// FuzzDecoder runs a generic reader over arbitrary input, as a dispatcher
// would: it must never panic, and each command must end or be
// discarded.
func FuzzDecoder(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d := NewDecoder(bufio.NewReaderSize(bytes.NewReader(in), 16), Limits{MaxLineLength: 256, MaxLiteralSize: 64, MaxCommandSize: 512, MaxDepth: 8, MaxDiscard: 1024})
		for range 50 {
			_, _, err := d.Begin()
			if err == nil {
				err = genericArgs(d)
			}
			if err == nil {
				continue
			}
			if _, ok := IsSyntax(err); !ok {
				return // the input ended
			}
			if err := d.Discard(); err != nil {
				return
			}
			if d.InCommand() {
				t.Fatal("still in a command after Discard")
			}
		}
	})
}

// FuzzSequenceSet checks that a parsed set prints as a set that parses to
// itself, and that 0 is never a member.
func FuzzSequenceSet(f *testing.F) {
	for _, s := range []string{"1", "1:3,5", "*", "3:*,1", "4294967295:1", "$", "7,1:3,2:5,9:*,12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := NewDecoder(bufio.NewReader(strings.NewReader("a X "+s+"\r\n")), Limits{})
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_ = d.SP()
		set, err := d.NumSet(false)
		if err != nil {
			return
		}
		if seq, ok := set.(imap.SeqSet); ok {
			for _, r := range seq {
				if r.Start == 0 && r.Stop != 0 {
					t.Fatalf("%q: range %v", s, r)
				}
			}
		}
		printed := set.String()
		d = NewDecoder(bufio.NewReader(strings.NewReader("a X "+printed+"\r\n")), Limits{})
		_, _, _ = d.Begin()
		_ = d.SP()
		again, err := d.NumSet(false)
		if err != nil || again.String() != printed {
			t.Fatalf("%q → %q → %v %v", s, printed, again, err)
		}
	})
}

// genericArgs reads any sequence of tokens until the end of the command.
func genericArgs(d *Decoder) error {
	var item func() error
	item = func() error {
		b, err := d.Peek()
		if err != nil {
			return err
		}
		switch {
		case b == '(':
			return d.List(item)
		case b == '"' || b == '{':
			_, err = d.String()
		case b == '~':
			if _, err = d.LiteralHeader(); err == nil {
				var r io.Reader
				if r, err = d.AcceptLiteral(); err == nil {
					_, err = io.Copy(io.Discard, r)
				}
			}
		case b >= '0' && b <= '9' || b == '*' || b == '$':
			_, err = d.NumSet(true)
		case b == '\\':
			_, err = d.Flag()
		default:
			_, err = d.ListMailbox()
		}
		return err
	}
	for {
		end, err := d.AtEnd()
		if err != nil {
			return err
		}
		if end {
			return d.End()
		}
		if err := d.SP(); err != nil {
			return err
		}
		if err := item(); err != nil {
			return err
		}
	}
}

// FuzzDates checks the date parsers never panic and format back.
func FuzzDates(f *testing.F) {
	f.Add(" 5-Jul-2022 13:04:05 -0130")
	f.Add("31-Dec-9999 23:59:60 +9959")
	f.Fuzz(func(t *testing.T, s string) {
		if tm, ok := ParseDateTime(s); ok {
			if back, ok := ParseDateTime(FormatDateTime(tm)); !ok || !back.Equal(tm) {
				t.Fatalf("%q → %v → %q", s, tm, FormatDateTime(tm))
			}
		}
		_, _ = parseDate(s)
	})
}
