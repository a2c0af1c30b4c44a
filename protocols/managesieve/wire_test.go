package managesieve

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func parse(t *testing.T, in string) (command, error) {
	t.Helper()
	return readCommand(bufio.NewReaderSize(strings.NewReader(in), 64), wireLimits{line: 100, literal: 50})
}

func TestReadCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		args []arg
	}{
		{"capability\r\n", "CAPABILITY", nil},
		{"LOGOUT\n", "LOGOUT", nil},
		{`PUTSCRIPT "a b" {5+}` + "\r\nkeep;\r\n", "PUTSCRIPT", []arg{{s: "a b"}, {s: "keep;"}}},
		{"PUTSCRIPT {1}\r\nx {3}\r\na\r\n\r\n", "PUTSCRIPT", []arg{{s: "x"}, {s: "a\r\n"}}},
		{`RENAMESCRIPT "a\"b" "c\\d"` + "\r\n", "RENAMESCRIPT", []arg{{s: `a"b`}, {s: `c\d`}}},
		{"HAVESPACE \"x\" 123\r\n", "HAVESPACE", []arg{{s: "x"}, {atom: true, s: "123"}}},
		{"SETACTIVE \"\"\r\n", "SETACTIVE", []arg{{s: ""}}},
		{"RENAMESCRIPT {1+}\r\na \"b\"\r\n", "RENAMESCRIPT", []arg{{s: "a"}, {s: "b"}}},
	} {
		cmd, err := parse(t, tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if cmd.name != tc.name || len(cmd.args) != len(tc.args) {
			t.Errorf("%q: %+v", tc.in, cmd)
			continue
		}
		for i := range tc.args {
			if cmd.args[i] != tc.args[i] {
				t.Errorf("%q: arg %d = %+v, want %+v", tc.in, i, cmd.args[i], tc.args[i])
			}
		}
	}
}

func TestReadCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`"quoted" first` + "\r\n", errSyntax},
		{"\r\n", errSyntax},
		{`PUTSCRIPT "unterminated` + "\r\n", errSyntax},
		{`PUTSCRIPT "bad \x escape"` + "\r\n", errSyntax},
		{"PUTSCRIPT {5+} \"after\"\r\n", errSyntax},
		{"PUTSCRIPT {99999999999+}\r\n", errSyntax},
		{"PUTSCRIPT {x}\r\n", errSyntax},
		{"A b c d e f g\r\n", errTooManyArgs},
		{"NOOP " + strings.Repeat("x", 200) + "\r\n", errLineLong},
		{"PUTSCRIPT \"a\" {2000000+}\r\n", errAbuse},
		{"NOOP\x00\r\n", errSyntax},
		{"NOOP \"\xff\"\r\n", errSyntax},
	} {
		_, err := parse(t, tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.want)
		}
	}
	_, err := parse(t, "PUTSCRIPT \"a\" {60+}\r\n"+strings.Repeat("x", 60)+"\r\n")
	var big literalTooLarge
	if !errors.As(err, &big) || big.size != 60 {
		t.Errorf("literal over the limit: %v", err)
	}
}

// After a refused command the reader is at the next command.
func TestReadCommandResyncs(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("NOOP "+strings.Repeat("x", 300)+"\r\nPUTSCRIPT \"a\" {60+}\r\n"+strings.Repeat("y", 60)+"\r\nLOGOUT\r\n"), 64)
	lim := wireLimits{line: 100, literal: 50}
	if _, err := readCommand(r, lim); !errors.Is(err, errLineLong) {
		t.Fatalf("first: %v", err)
	}
	var big literalTooLarge
	if _, err := readCommand(r, lim); !errors.As(err, &big) {
		t.Fatalf("second: %v", err)
	}
	if cmd, err := readCommand(r, lim); err != nil || cmd.name != "LOGOUT" {
		t.Fatalf("third: %+v %v", cmd, err)
	}
}

func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"":                        `""`,
		`a "b" \c`:                `"a \"b\" \\c"`,
		"two\r\nlines":            "{10}\r\ntwo\r\nlines",
		"\xff":                    "{1}\r\n\xff",
		strings.Repeat("x", 1025): "{1025}\r\n" + strings.Repeat("x", 1025),
	} {
		if got := string(appendString(nil, []byte(in))); got != want {
			t.Errorf("appendString(%q) = %q, want %q", in, got, want)
		}
	}
}
