package imapload

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMessage(t *testing.T) {
	for _, i := range []int{0, 7, 42, 107, 142, 9999} {
		m := Message("u1@example.test", i)
		if !bytes.Equal(m, Message("u1@example.test", i)) {
			t.Fatalf("message %d is not deterministic", i)
		}
		head, body, ok := bytes.Cut(m, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("message %d: no header/body separator", i)
		}
		if len(body) != BodySize {
			t.Errorf("message %d: body is %d bytes, want %d", i, len(body), BodySize)
		}
		if n := bytes.Count(m, []byte("\r")); n != bytes.Count(m, []byte("\r\n")) {
			t.Errorf("message %d: a bare CR", i)
		}
		if n := bytes.Count(m, []byte("\n")); n != bytes.Count(m, []byte("\r\n")) {
			t.Errorf("message %d: a bare LF", i)
		}
		if got, want := bytes.Contains(head, []byte(SubjectWord)), i%100 == 7; got != want {
			t.Errorf("message %d: subject word present %v, want %v", i, got, want)
		}
		if got, want := bytes.Contains(body, []byte(BodyWord)), i%100 == 42; got != want {
			t.Errorf("message %d: body word present %v, want %v", i, got, want)
		}
	}
}

func TestWriteMaildir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	if err := WriteMaildir(dir, "u1@example.test", 0, 3); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil || len(files) != 3 {
		t.Fatalf("cur holds %d files (%v), want 3", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, "cur", f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("\r")) {
			t.Errorf("%s: CR in a maildir file (Dovecot stores LF)", f.Name())
		}
		if !strings.HasSuffix(f.Name(), ":2,") || !strings.Contains(f.Name(), ",S=") || !strings.Contains(f.Name(), ",W=") {
			t.Errorf("%s: not a Dovecot maildir name with S= and W=", f.Name())
		}
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {10, 1}} {
		if got := Percentile(v, c.p); got != c.want {
			t.Errorf("p%.0f = %v, want %v", c.p, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty: want 0")
	}
}
