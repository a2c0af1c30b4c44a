package wire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func newTestDecoder(s string) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(s)), Limits{})
}

func TestBegin(t *testing.T) {
	for _, tc := range []struct {
		in, tag, name string
		bad           bool
	}{
		{"a1 NOOP\r\n", "a1", "NOOP", false},
		{"\r\n\r\nA2 noop\r\n", "A2", "NOOP", false},
		{"x UID fetch 1 FLAGS\r\n", "x", "UID FETCH", false},
		{"x\r\n", "x", "", true},
		{"+tag NOOP\r\n", "", "", true},
		{" NOOP\r\n", "", "", true},
		{"t (\r\n", "t", "", true},
	} {
		d := newTestDecoder(tc.in)
		tag, name, err := d.Begin()
		if _, ok := IsSyntax(err); ok != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
		}
		if tag != tc.tag || name != tc.name {
			t.Errorf("%q: got %q %q, want %q %q", tc.in, tag, name, tc.tag, tc.name)
		}
	}
}

func TestTokens(t *testing.T) {
	d := newTestDecoder(`a LOGIN "us\"er" {4+}` + "\r\npass atom] NIL \"x\" (a (b c) ()) 4294967295 9223372036854775807 \\seen $Junk\r\n")
	if _, _, err := d.Begin(); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.SP())
	s, err := d.Astring()
	must(err)
	if s != `us"er` {
		t.Errorf("quoted: %q", s)
	}
	must(d.SP())
	if s, err = d.Astring(); err != nil || s != "pass" {
		t.Errorf("literal: %q %v", s, err)
	}
	must(d.SP())
	if s, err = d.Astring(); err != nil || s != "atom]" {
		t.Errorf("astring: %q %v", s, err)
	}
	must(d.SP())
	if _, ok, err := d.Nstring(); err != nil || ok {
		t.Errorf("NIL: %v %v", ok, err)
	}
	must(d.SP())
	if s, ok, err := d.Nstring(); err != nil || !ok || s != "x" {
		t.Errorf("nstring: %q %v %v", s, ok, err)
	}
	must(d.SP())
	var items []string
	var list func() error
	list = func() error {
		if b, _ := d.Peek(); b == '(' {
			items = append(items, "(")
			return d.List(list)
		}
		a, err := d.Atom()
		items = append(items, a)
		return err
	}
	must(d.List(list))
	if got := strings.Join(items, " "); got != "a ( b c (" {
		t.Errorf("list: %q", got)
	}
	must(d.SP())
	if n, err := d.Number(); err != nil || n != 4294967295 {
		t.Errorf("number: %d %v", n, err)
	}
	must(d.SP())
	if n, err := d.Number64(); err != nil || n != 9223372036854775807 {
		t.Errorf("number64: %d %v", n, err)
	}
	must(d.SP())
	if f, err := d.Flag(); err != nil || f != imap.FlagSeen {
		t.Errorf("flag: %q %v", f, err)
	}
	must(d.SP())
	if f, err := d.Flag(); err != nil || f != "$Junk" {
		t.Errorf("keyword: %q %v", f, err)
	}
	must(d.End())
	if d.InCommand() {
		t.Error("still in command after End")
	}
}

func TestNumberLimits(t *testing.T) {
	for _, in := range []string{"4294967296", "x", "99999999999999999999999"} {
		d := newTestDecoder("t X " + in + "\r\n")
		_, _, _ = d.Begin()
		_ = d.SP()
		if _, err := d.Number(); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
	d := newTestDecoder("t X 0\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	if _, err := d.NzNumber(); err == nil {
		t.Error("nz-number 0 accepted")
	}
}

func TestSequenceSets(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1", "1"},
		{"1:3,5", "1:3,5"},
		{"5:3", "3:5"},
		{"*", "*"},
		{"3:*", "3:*"},
		{"*:3", "3:*"},
		{"7,1:3,2:5,9:*,12", "1:5,7,9:*"},
		{"4294967295", "4294967295"},
		{"1:4294967295,*", "1:*"},
		{"$", "$"},
	} {
		d := newTestDecoder("t X " + tc.in + "\r\n")
		_, _, _ = d.Begin()
		_ = d.SP()
		set, err := d.NumSet(false)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if set.String() != tc.want {
			t.Errorf("%s: got %s want %s", tc.in, set, tc.want)
		}
		if err := d.End(); err != nil {
			t.Errorf("%s: end: %v", tc.in, err)
		}
	}
	for _, in := range []string{"0", "1:0", "1,", ",1", ":", "1::2", "4294967296", "a"} {
		d := newTestDecoder("t X " + in + "\r\n")
		_, _, _ = d.Begin()
		_ = d.SP()
		set, err := d.UIDSet()
		if err == nil {
			err = d.End()
		}
		if _, ok := IsSyntax(err); !ok {
			t.Errorf("%s: got %v, %v; want a syntax error", in, set, err)
		}
	}
	d := newTestDecoder("t X $\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	if _, err := d.SeqSet(); err == nil {
		t.Error("SeqSet accepted $")
	}
	d = newTestDecoder("t X $\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	if s, err := d.UIDSet(); err != nil || !imap.IsSearchRes(s) {
		t.Errorf("UIDSet $: %v %v", s, err)
	}
}

func TestSyncLiteralContinue(t *testing.T) {
	d := newTestDecoder("t LOGIN {3}\r\nabc {2}\r\nxy\r\n")
	var asked []int64
	d.Continue = func(n int64) error { asked = append(asked, n); return nil }
	_, _, _ = d.Begin()
	_ = d.SP()
	u, err := d.Astring()
	_ = d.SP()
	p, err2 := d.Astring()
	if err != nil || err2 != nil || u != "abc" || p != "xy" {
		t.Fatalf("got %q %q %v %v", u, p, err, err2)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || asked[0] != 3 || asked[1] != 2 {
		t.Errorf("Continue calls %v", asked)
	}
}

func TestOversizedSyncLiteralRefusedBeforeContinue(t *testing.T) {
	// The client sends "{999999999}" and waits: nothing more comes but the
	// next command.
	d := newTestDecoder("t LOGIN {999999999}\r\nu NOOP\r\n")
	d.Continue = func(int64) error { t.Error("Continue called for a refused literal"); return nil }
	_, _, _ = d.Begin()
	_ = d.SP()
	_, err := d.Astring()
	se, ok := IsSyntax(err)
	if !ok || !se.No || se.Code != "TOOBIG" {
		t.Fatalf("got %v", err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	tag, name, err := d.Begin()
	if err != nil || tag != "u" || name != "NOOP" {
		t.Errorf("next command: %q %q %v", tag, name, err)
	}
}

func TestOversizedNonSyncLiteralDiscarded(t *testing.T) {
	big := strings.Repeat("x", 70000)
	d := newTestDecoder("t LOGIN {70000+}\r\n" + big + " pass\r\nu NOOP\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	_, err := d.Astring()
	if se, ok := IsSyntax(err); !ok || se.Code != "TOOBIG" {
		t.Fatalf("got %v", err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	tag, name, err := d.Begin()
	if err != nil || tag != "u" || name != "NOOP" {
		t.Errorf("next command: %q %q %v", tag, name, err)
	}
}

func TestLiteralMinus(t *testing.T) {
	d := newTestDecoder("t LOGIN {5000+}\r\n" + strings.Repeat("y", 5000) + " p\r\nu NOOP\r\n")
	d.LiteralMinus = true
	_, _, _ = d.Begin()
	_ = d.SP()
	_, err := d.Astring()
	if se, ok := IsSyntax(err); !ok || se.No || se.Code != "TOOBIG" {
		t.Fatalf("got %v", err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "u" {
		t.Errorf("next command: %q %v", tag, err)
	}
}

func TestDiscardSkipsLiteralsOnLaterLines(t *testing.T) {
	// An unknown command with a non-synchronising literal, then one with
	// a synchronising literal the client will not send.
	d := newTestDecoder("a BOGUS {3+}\r\nabc {2+}\r\nxy end\r\nb BOGUS x {10}\r\nc NOOP\r\n")
	for _, want := range []string{"a", "b", "c"} {
		tag, _, err := d.Begin()
		if err != nil || tag != want {
			t.Fatalf("got %q %v, want %q", tag, err, want)
		}
		if err := d.Discard(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLineTooLong(t *testing.T) {
	long := strings.Repeat("a", 100)
	d := NewDecoder(bufio.NewReader(strings.NewReader("t X "+long+"\r\nu NOOP\r\n")), Limits{MaxLineLength: 50})
	_, _, _ = d.Begin()
	_ = d.SP()
	_, err := d.Atom()
	if se, ok := IsSyntax(err); !ok || se.Code != "TOOBIG" {
		t.Fatalf("got %v", err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "u" {
		t.Errorf("next command: %q %v", tag, err)
	}
	// Past MaxDiscard the error is fatal.
	d = NewDecoder(bufio.NewReader(strings.NewReader("t X "+long+"\r\n")), Limits{MaxLineLength: 10, MaxDiscard: 20})
	_, _, _ = d.Begin()
	_ = d.SP()
	_, _ = d.Atom()
	se, ok := IsSyntax(d.Discard())
	if !ok || !se.Fatal {
		t.Errorf("discard past MaxDiscard: %v", se)
	}
}

func TestNestingLimit(t *testing.T) {
	in := "t X " + strings.Repeat("(", 100) + strings.Repeat(")", 100) + "\r\n"
	d := NewDecoder(bufio.NewReader(strings.NewReader(in)), Limits{MaxDepth: 10})
	_, _, _ = d.Begin()
	_ = d.SP()
	var item func() error
	item = func() error { return d.List(item) }
	err := d.List(item)
	if se, ok := IsSyntax(err); !ok || !strings.Contains(se.Text, "nested") {
		t.Fatalf("got %v", err)
	}
}

func TestMessageLiteral(t *testing.T) {
	d := newTestDecoder("t APPEND INBOX ~{5}\r\nab\x00cd\r\nu NOOP\r\n")
	var cont int
	d.Continue = func(int64) error { cont++; return nil }
	_, _, _ = d.Begin()
	_ = d.SP()
	if _, err := d.Mailbox(); err != nil {
		t.Fatal(err)
	}
	_ = d.SP()
	l, err := d.LiteralHeader()
	if err != nil || l.Size != 5 || !l.Binary || !l.Sync {
		t.Fatalf("header %+v %v", l, err)
	}
	if cont != 0 {
		t.Fatal("Continue before AcceptLiteral")
	}
	r, err := d.AcceptLiteral()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil || string(data) != "ab\x00cd" || cont != 1 {
		t.Fatalf("data %q %v, cont %d", data, err, cont)
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "u" {
		t.Errorf("next: %q %v", tag, err)
	}
}

func TestMessageLiteralRefused(t *testing.T) {
	// A refused synchronising message literal: the client sends nothing.
	d := newTestDecoder("t APPEND INBOX {500}\r\nu NOOP\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	_, _ = d.Mailbox()
	_ = d.SP()
	if _, err := d.LiteralHeader(); err != nil {
		t.Fatal(err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "u" {
		t.Errorf("next: %q %v", tag, err)
	}
	// A non-synchronising one is read and dropped; so is a half-read one.
	d = newTestDecoder("t APPEND INBOX {5+}\r\nhello\r\nu APPEND INBOX {5+}\r\nworld\r\nv NOOP\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	_, _ = d.Mailbox()
	_ = d.SP()
	_, _ = d.LiteralHeader()
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "u" {
		t.Fatalf("next: %q %v", tag, err)
	}
	_ = d.SP()
	_, _ = d.Mailbox()
	_ = d.SP()
	_, _ = d.LiteralHeader()
	r, _ := d.AcceptLiteral()
	var two [2]byte
	_, _ = io.ReadFull(r, two[:])
	if _, err := d.Peek(); err == nil {
		t.Error("Peek inside an unread literal succeeded")
	}
	if tag, _, err := d.Begin(); err != nil || tag != "v" {
		t.Errorf("next: %q %v", tag, err)
	}
}

func TestEOF(t *testing.T) {
	d := newTestDecoder("t LOGIN \"abc")
	_, _, _ = d.Begin()
	_ = d.SP()
	_, err := d.Astring()
	if !errors.Is(err, io.EOF) {
		t.Errorf("got %v", err)
	}
}

func TestQuotedErrors(t *testing.T) {
	for _, in := range []string{`"a\b"`, "\"a\r\n", `"abc`} {
		d := newTestDecoder("t X " + in + "\r\n")
		_, _, _ = d.Begin()
		_ = d.SP()
		if _, err := d.Quoted(); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestDates(t *testing.T) {
	d := newTestDecoder("t X 1-Feb-2024 \"15-mar-2023\" \" 5-Jul-2022 13:04:05 -0130\" \"31-Feb-2024\"\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	a, err := d.Date()
	if err != nil || a.Format("2006-01-02") != "2024-02-01" {
		t.Errorf("date: %v %v", a, err)
	}
	_ = d.SP()
	b, err := d.Date()
	if err != nil || b.Format("2006-01-02") != "2023-03-15" {
		t.Errorf("quoted date: %v %v", b, err)
	}
	_ = d.SP()
	c, err := d.DateTime()
	if err != nil || c.UTC().Format("2006-01-02 15:04:05") != "2022-07-05 14:34:05" {
		t.Errorf("date-time: %v %v", c, err)
	}
	if got := FormatDateTime(c); got != " 5-Jul-2022 13:04:05 -0130" {
		t.Errorf("format: %q", got)
	}
	_ = d.SP()
	if _, err := d.DateTime(); err == nil {
		t.Error("31-Feb accepted")
	}
}

func TestNumber64Overflow(t *testing.T) {
	for _, in := range []string{"9223372036854775808", "20000000000000000000", "18446744073709551616", "99999999999999999999"} {
		d := newTestDecoder("t X " + in + "\r\n")
		_, _, _ = d.Begin()
		_ = d.SP()
		if n, err := d.Number64(); err == nil {
			t.Errorf("%s: accepted as %d", in, n)
		}
	}
}

func TestResetAndBuffered(t *testing.T) {
	d := newTestDecoder("a STARTTLS\r\nb NOOP\r\n")
	_, name, _ := d.Begin()
	if err := d.End(); err != nil || name != "STARTTLS" {
		t.Fatal(name, err)
	}
	if d.Buffered() == 0 {
		t.Error("pipelined command after STARTTLS not visible")
	}
	d.Reset(bufio.NewReader(strings.NewReader("c NOOP\r\n")))
	if tag, _, err := d.Begin(); err != nil || tag != "c" {
		t.Errorf("after Reset: %q %v", tag, err)
	}
	d = newTestDecoder("a LIST \"\" \"\"\r\n")
	_, _, _ = d.Begin()
	if c, err := d.ReadList(); err != nil || len(c.Patterns) != 1 || c.Patterns[0] != "" {
		t.Errorf("empty pattern: %+v %v", c, err)
	}
}
