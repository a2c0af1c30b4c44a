package mailauth

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func strip(t testing.TB, in string, max int) string {
	t.Helper()
	out, err := io.ReadAll(newStripper(strings.NewReader(in), testHost, max))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(out)
}

// RFC 8601 §5: fields with our authserv-id go; everything else stays, byte
// for byte.
func TestStripResults(t *testing.T) {
	const rest = "From: a@d.test\r\nSubject: hi\r\n\r\nbody\r\n"
	tests := []struct {
		name, in, want string
	}{
		{"ours", "Authentication-Results: mx.surat.test; spf=pass\r\n" + rest, rest},
		{"ours folded", "Authentication-Results: mx.surat.test;\r\n\tdkim=pass header.d=x.test;\r\n dmarc=pass\r\n" + rest, rest},
		{"name in other case", "authentication-RESULTS: mx.surat.test; none\r\n" + rest, rest},
		{"white space before the colon", "Authentication-Results  : mx.surat.test; none\r\n" + rest, rest},
		{"id in other case", "Authentication-Results: MX.Surat.TEST; spf=pass\r\n" + rest, rest},
		{"id with a version", "Authentication-Results: mx.surat.test 1; spf=pass\r\n" + rest, rest},
		{"id quoted", "Authentication-Results: \"mx.surat.test\"; spf=pass\r\n" + rest, rest},
		{"comments first", "Authentication-Results: (a (nested) comment)\r\n mx.surat.test (x); spf=pass\r\n" + rest, rest},
		{"id on the next line", "Authentication-Results:\r\n mx.surat.test; spf=pass\r\n" + rest, rest},
		{"id with a trailing dot", "Authentication-Results: mx.surat.test.; spf=pass\r\n" + rest, rest},
		{"no space after the id", "Authentication-Results: mx.surat.test;spf=pass\r\n" + rest, rest},
		{"bare LF", "Authentication-Results: mx.surat.test; spf=pass\n From: x\nSubject: y\n\nbody\n", "Subject: y\n\nbody\n"},
		{"twice, between others", "Received: x\r\nAuthentication-Results: mx.surat.test; a=b\r\nX: y\r\nAuthentication-Results: mx.surat.test; c=d\r\n" + rest,
			"Received: x\r\nX: y\r\n" + rest},
		{"another id", "Authentication-Results: mx.other.test; spf=pass\r\n" + rest, "Authentication-Results: mx.other.test; spf=pass\r\n" + rest},
		{"our id as a prefix", "Authentication-Results: mx.surat.test.evil; spf=pass\r\n" + rest, "Authentication-Results: mx.surat.test.evil; spf=pass\r\n" + rest},
		{"a sub-name of ours", "Authentication-Results: a.mx.surat.test; spf=pass\r\n" + rest, "Authentication-Results: a.mx.surat.test; spf=pass\r\n" + rest},
		{"our id later in the field", "Authentication-Results: other.test; x=mx.surat.test\r\n" + rest, "Authentication-Results: other.test; x=mx.surat.test\r\n" + rest},
		{"similar field name", "Authentication-Results-Original: mx.surat.test; none\r\n" + rest, "Authentication-Results-Original: mx.surat.test; none\r\n" + rest},
		{"ARC-Authentication-Results", "ARC-Authentication-Results: i=1; mx.surat.test; none\r\n" + rest, "ARC-Authentication-Results: i=1; mx.surat.test; none\r\n" + rest},
		{"in the body", rest + "Authentication-Results: mx.surat.test; spf=pass\r\n", rest + "Authentication-Results: mx.surat.test; spf=pass\r\n"},
		{"last field, no body", "X: y\r\nAuthentication-Results: mx.surat.test; spf=pass\r\n", "X: y\r\n"},
		{"last field, no final CRLF", "X: y\r\nAuthentication-Results: mx.surat.test", "X: y\r\n"},
		{"empty value", "Authentication-Results:\r\n" + rest, "Authentication-Results:\r\n" + rest},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := strip(t, tc.in, MaxPendingField); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			// The same through one-byte reads.
			out, err := io.ReadAll(iotest.OneByteReader(StripResults(iotest.OneByteReader(strings.NewReader(tc.in)), testHost)))
			if err != nil || string(out) != tc.want {
				t.Errorf("one byte at a time: %q, %v", out, err)
			}
		})
	}
}

// A field of ours is removed however long; a field whose authserv-id
// cannot be read within the cap passes unchanged, without being held.
func TestStripResultsBounded(t *testing.T) {
	const rest = "Subject: s\r\n\r\nbody\r\n"
	long := "Authentication-Results: mx.surat.test;" + strings.Repeat("\r\n dkim=pass header.d=x.test;", 1000) + "\r\n"
	if got := strip(t, long+rest, 1024); got != rest {
		t.Errorf("a long field of ours: %d bytes left", len(got)-len(rest))
	}
	comment := "Authentication-Results: (" + strings.Repeat("x", 5000) + ") mx.surat.test; none\r\n"
	if got := strip(t, comment+rest, 1024); got != comment+rest {
		t.Errorf("an undecidable field changed")
	}
	// A header line longer than the reader's buffer passes intact.
	huge := "X-Long: " + strings.Repeat("y", 20000) + "\r\n"
	if got := strip(t, huge+"Authentication-Results: mx.surat.test; none\r\n"+rest, 1024); got != huge+rest {
		t.Errorf("a long line: %d bytes, want %d", len(got), len(huge+rest))
	}
	// The body is not looked at, however it is written.
	body := "X: y\r\n\r\n" + strings.Repeat("Authentication-Results: mx.surat.test; none\r\n", 1000)
	if got := strip(t, body, 1024); got != body {
		t.Error("the body changed")
	}
}

// hasOurField reports whether the header section of b has a field of ours,
// read the simple way (whole message in memory).
func hasOurField(b []byte) bool {
	end, _ := headerEnd(b, 0)
	if end < 0 {
		end = len(b)
	}
	head := b[:end]
	// Split into fields at line starts that are not continuations.
	var fields [][]byte
	for len(head) > 0 {
		nl := bytes.IndexByte(head, '\n')
		line := head
		if nl >= 0 {
			line, head = head[:nl+1], head[nl+1:]
		} else {
			head = nil
		}
		if len(fields) > 0 && len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			fields[len(fields)-1] = append(fields[len(fields)-1], line...)
			continue
		}
		fields = append(fields, append([]byte(nil), line...))
	}
	for _, f := range fields {
		if !isResultsField(f) {
			continue
		}
		_, v, _ := bytes.Cut(f, []byte(":"))
		if ours, known := authservIs(v, testHost, true); known && ours {
			return true
		}
	}
	return false
}

func FuzzStripResults(f *testing.F) {
	f.Add([]byte("Authentication-Results: mx.surat.test; spf=pass\r\nFrom: a@b\r\n\r\nbody"))
	f.Add([]byte("authentication-results:(c)\r\n \"MX.SURAT.TEST\" 1 ;none\r\nX: y\r\n\r\n"))
	f.Add([]byte("X: y\nAuthentication-Results: other; none\n\nAuthentication-Results: mx.surat.test; none\n"))
	f.Add([]byte("Authentication-Results: mx.surat.test"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := io.ReadAll(newStripper(bytes.NewReader(in), testHost, MaxPendingField))
		if err != nil {
			t.Fatal(err)
		}
		if !hasOurField(in) && !bytes.Equal(out, in) {
			t.Fatalf("changed an input without a field of ours:\n in %q\nout %q", in, out)
		}
		if hasOurField(out) {
			t.Fatalf("a field of ours is left:\n in %q\nout %q", in, out)
		}
		if len(out) > len(in) {
			t.Fatalf("output longer than input")
		}
	})
}

// A field that comes in many short lines costs time in proportion to its
// length, not its square: the authserv-id is read incrementally.
func TestStripResultsLinear(t *testing.T) {
	field := "Authentication-Results: (" + strings.Repeat("\r\n x", 250000) + ") mx.surat.test; none\r\n"
	start := time.Now()
	if got := strip(t, field+"\r\nbody", 1<<20); got != "\r\nbody" {
		t.Errorf("not removed: %d bytes left", len(got))
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("%v for a 1 MB field", d)
	}
}
