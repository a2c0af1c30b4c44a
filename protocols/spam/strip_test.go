package spam

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func strip(t *testing.T, in string) string {
	t.Helper()
	out, err := io.ReadAll(StripFields(iotest.OneByteReader(strings.NewReader(in)), StrippedFields...))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestStripFields(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"none", "Subject: a\r\n\r\nX-Spam-Status: Yes\r\n", "Subject: a\r\n\r\nX-Spam-Status: Yes\r\n"},
		{"one", "X-Spam-Status: No, score=0\r\nSubject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n"},
		{"folded and case", "Subject: a\r\nx-spam-STATUS : No,\r\n\tscore=0\r\n  tests=none\r\nTo: b\r\n\r\n", "Subject: a\r\nTo: b\r\n\r\n"},
		{"flag and several", "X-Spam-Flag: NO\nX-Spam-Status: No\nX-Spam-Status: No\nFrom: c\n\n", "From: c\n\n"},
		{"similar names kept", "X-Spam-Statuses: 1\r\nX-Spam-Level: **\r\n\r\n", "X-Spam-Statuses: 1\r\nX-Spam-Level: **\r\n\r\n"},
		{"no body", "X-Spam-Status: Yes\r\nSubject: a\r\n", "Subject: a\r\n"},
		{"body line after header", "A: b\r\n\r\n\tX-Spam-Status: x\r\nX-Spam-Status: y\r\n", "A: b\r\n\r\n\tX-Spam-Status: x\r\nX-Spam-Status: y\r\n"},
	} {
		if got := strip(t, c.in); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	// A line longer than the buffer passes whole.
	long := "Subject: " + strings.Repeat("x", 10000) + "\r\nX-Spam-Status: a\r\n\r\n" + strings.Repeat("y", 10000)
	if got := strip(t, long); got != strings.Replace(long, "X-Spam-Status: a\r\n", "", 1) {
		t.Errorf("long line: got %d bytes", len(got))
	}
}

// FuzzStripFields: the output is the input minus whole lines of the
// header section, and nothing after the header section changes.
func FuzzStripFields(f *testing.F) {
	f.Add([]byte("X-Spam-Status: Yes\r\n a\r\nSubject: b\r\n\r\nX-Spam-Status: No\r\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := io.ReadAll(StripFields(bytes.NewReader(in), StrippedFields...))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > len(in) {
			t.Fatalf("output longer than input")
		}
		if i := bytes.Index(in, []byte("\n\n")); i >= 0 && !bytes.HasSuffix(out, in[i+2:]) {
			t.Fatalf("the body changed")
		}
		if bytes.Contains(bytes.ToLower(out[:headerEnd(out)]), []byte("\nx-spam-status:")) {
			t.Fatalf("a field survived: %q", out)
		}
	})
}

// headerEnd is where b's header section ends: after the line ending
// before the empty line, or 0 when b starts with the empty line (no
// header at all).
func headerEnd(b []byte) int {
	if bytes.HasPrefix(b, []byte("\n")) || bytes.HasPrefix(b, []byte("\r\n")) {
		return 0
	}
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\n' && (b[i+1] == '\n' || (b[i+1] == '\r' && i+2 < len(b) && b[i+2] == '\n')) {
			return i + 1
		}
	}
	return len(b)
}
