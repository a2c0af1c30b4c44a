package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line string
		name string
		args []string
		rest string
		err  bool
	}{
		{"STAT", "STAT", nil, "", false},
		{"list 1", "LIST", []string{"1"}, "1", false},
		{"TOP 1 10", "TOP", []string{"1", "10"}, "1 10", false},
		{"PASS a b  c", "PASS", []string{"a", "b", "c"}, "a b  c", false},
		{"PASS ", "PASS", nil, "", false},
		{"", "", nil, "", true},
		{"ST", "", nil, "", true},
		{"STATS", "", nil, "", true},
		{"ST1T", "", nil, "", true},
		{"\x00\x01\xfe\xff x", "", nil, "", true},
		{" STAT", "", nil, "", true},
	} {
		cmd, err := parseCommand([]byte(tc.line))
		if (err != nil) != tc.err {
			t.Errorf("%q: err %v", tc.line, err)
			continue
		}
		if err == nil && (cmd.name != tc.name || !slices.Equal(cmd.args, tc.args) || cmd.rest != tc.rest) {
			t.Errorf("%q: %+v", tc.line, cmd)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1": 1, "4294967295": 4294967295, "": -1, "+1": -1, "-1": -1, "1a": -1, "12345678901": -1, "９": -1,
	} {
		n, ok := parseNumber(in)
		if want < 0 && ok || want >= 0 && (!ok || n != uint64(want)) {
			t.Errorf("parseNumber(%q) = %d, %v", in, n, ok)
		}
	}
}

func TestReadLine(t *testing.T) {
	in := "short\r\nbare lf\n" + strings.Repeat("x", 253) + "\r\n" + strings.Repeat("y", 254) + "\r\nafter\r\n" +
		strings.Repeat("z", maxDiscard+1000) + "\r\n"
	r := bufio.NewReaderSize(strings.NewReader(in), 64)
	for _, want := range []string{"short", "bare lf", strings.Repeat("x", 253), "ERR", "after", "ABUSE"} {
		line, err := readLine(r, maxCommandLine)
		got := string(line)
		switch {
		case errors.Is(err, errLineLong):
			got = "ERR"
		case errors.Is(err, errLineAbuse):
			got = "ABUSE"
		case err != nil:
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("readLine = %.20q, want %.20q", got, want)
		}
	}
	// A longer limit (SASL) accumulates across buffer refills.
	r = bufio.NewReaderSize(strings.NewReader(strings.Repeat("s", 1000)+"\r\n"), 64)
	if line, err := readLine(r, 2000); err != nil || len(line) != 1000 {
		t.Fatalf("long SASL line: %d %v", len(line), err)
	}
	if _, err := readLine(bufio.NewReader(strings.NewReader("partial")), 100); !errors.Is(err, io.EOF) {
		t.Fatalf("partial line: %v", err)
	}
}

// stuff runs body through a dotWriter in pieces of size step.
func stuff(body string, step int) string {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	d := newDotWriter(w)
	for b := []byte(body); len(b) > 0; {
		n := min(step, len(b))
		d.Write(b[:n])
		b = b[n:]
	}
	d.finish()
	w.Flush()
	return out.String()
}

func TestDotWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ".\r\n"},
		{"a\r\n", "a\r\n.\r\n"},
		{"a", "a\r\n.\r\n"},
		{"a\r", "a\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"..x\r\n.\r\n", "...x\r\n..\r\n.\r\n"},
		{"a\n.b\nc", "a\r\n..b\r\nc\r\n.\r\n"},
		{"x.\r\n y.\r\n", "x.\r\n y.\r\n.\r\n"},
		{"\r\n\r\n", "\r\n\r\n.\r\n"},
	} {
		for _, step := range []int{1, 2, 3, 1000} {
			if got := stuff(tc.in, step); got != tc.want {
				t.Errorf("%q in steps of %d: %q, want %q", tc.in, step, got, tc.want)
			}
		}
	}
}

func top(body string, lines uint64, step int) (string, bool) {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	d := newDotWriter(w)
	f := newTopFilter(d, lines)
	for b := []byte(body); len(b) > 0 && !f.done; {
		n := min(step, len(b))
		f.Write(b[:n])
		b = b[n:]
	}
	d.finish()
	w.Flush()
	return out.String(), f.done
}

func TestTopFilter(t *testing.T) {
	msg := "A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n"
	for _, tc := range []struct {
		in    string
		lines uint64
		want  string
	}{
		{msg, 0, "A: 1\r\nB: 2\r\n\r\n.\r\n"},
		{msg, 1, "A: 1\r\nB: 2\r\n\r\nl1\r\n.\r\n"},
		{msg, 2, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n"},
		{msg, 9, "A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n"},
		{"A: 1\nB: 2\n\nl1\nl2\n", 1, "A: 1\r\nB: 2\r\n\r\nl1\r\n.\r\n"},
		{"A: 1\r\nno body", 0, "A: 1\r\nno body\r\n.\r\n"},
		{"\r\nbody\r\n", 0, "\r\n.\r\n"},
	} {
		for _, step := range []int{1, 3, 1000} {
			if got, _ := top(tc.in, tc.lines, step); got != tc.want {
				t.Errorf("TOP %d of %q in steps of %d: %q, want %q", tc.lines, tc.in, step, got, tc.want)
			}
		}
	}
}

func TestPackBatches(t *testing.T) {
	md := &maildrop{mailboxID: 7}
	for i := range 3 * maxRangesPerBatch {
		md.msgs = append(md.msgs, entry{uid: uint32(2*i + 1), deleted: i%3 == 0})
		if i%3 == 1 {
			md.pendingSeen = append(md.pendingSeen, uint32(2*i+1))
		}
	}
	batches := md.updateBatches()
	var seen, expunged int
	for _, b := range batches {
		ranges := 0
		for _, ev := range b {
			if f := ev.GetFlagsChanged(); f != nil {
				seen += len(f.GetUids())
				ranges += len(f.GetUids())
			}
			if e := ev.GetExpunged(); e != nil {
				expunged += len(e.GetUids())
				ranges += len(e.GetUids())
			}
		}
		if ranges > maxRangesPerBatch {
			t.Fatalf("batch with %d ranges", ranges)
		}
	}
	if len(batches) != 2 || seen != maxRangesPerBatch || expunged != maxRangesPerBatch {
		t.Fatalf("%d batches, %d seen, %d expunged ranges", len(batches), seen, expunged)
	}
	if (&maildrop{}).updateBatches() != nil {
		t.Fatal("no changes should mean no batches")
	}
}
