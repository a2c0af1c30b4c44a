package mbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readAll(t *testing.T, data string) []string {
	t.Helper()
	r := NewReader(strings.NewReader(data))
	var out []string
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(m))
	}
}

// testdata/python.mbox was written by Python's mailbox.mbox (mboxo: it
// quotes body lines starting with "From ").
func TestPythonMbox(t *testing.T) {
	data, err := os.ReadFile("testdata/python.mbox")
	if err != nil {
		t.Fatal(err)
	}
	msgs := readAll(t, string(data))
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	for i, want := range []string{"Subject: cheap pills", "Subject: meeting notes", "Subject: third"} {
		if !strings.HasPrefix(msgs[i], "From: sender") || !strings.Contains(msgs[i], want+"\n") {
			t.Errorf("message %d = %q, want its headers (%s)", i, msgs[i], want)
		}
		if strings.HasSuffix(msgs[i], "\n\n") {
			t.Errorf("message %d ends with the mbox's empty line: %q", i, msgs[i])
		}
	}
	if !strings.Contains(msgs[0], "\nFrom here on, prices fall.\n") {
		t.Errorf("quoting not undone: %q", msgs[0])
	}
	if !strings.HasSuffix(msgs[1], "\nthe notes are attached.\n\nFrom Alice\n") {
		t.Errorf("message 1 = %q", msgs[1])
	}
}

func TestMboxrdQuoting(t *testing.T) {
	data := "From a@b Thu Jan  1 00:00:00 1970\r\nSubject: x\r\n\r\n>From one\r\n>>From two\r\n>Fromage\r\n\r\n" +
		"From c@d Thu Jan  1 00:00:00 1970\r\nSubject: y\r\n\r\nbody\r\n"
	msgs := readAll(t, data)
	want := []string{"Subject: x\r\n\r\nFrom one\r\n>From two\r\n>Fromage\r\n", "Subject: y\r\n\r\nbody\r\n"}
	if len(msgs) != 2 || msgs[0] != want[0] || msgs[1] != want[1] {
		t.Fatalf("got %q, want %q", msgs, want)
	}
}

func TestNotMbox(t *testing.T) {
	if _, err := NewReader(strings.NewReader("Subject: x\n\nhi\n")).Next(); !errors.Is(err, ErrNotMbox) {
		t.Fatalf("err = %v, want ErrNotMbox", err)
	}
	if msgs := readAll(t, ""); len(msgs) != 0 {
		t.Fatalf("empty input gave %q", msgs)
	}
}

func TestLongMessageTruncated(t *testing.T) {
	big := strings.Repeat(strings.Repeat("x", 999)+"\n", MaxMessageBytes/1000+10)
	data := "From a\nSubject: big\n\n" + big + "\nFrom b\nSubject: small\n\nok\n"
	msgs := readAll(t, data)
	if len(msgs) != 2 || len(msgs[0]) > MaxMessageBytes || msgs[1] != "Subject: small\n\nok\n" {
		t.Fatalf("got %d messages, first %d bytes", len(msgs), len(msgs[0]))
	}
	// One line longer than the reader's buffer: its middle is no separator.
	long := "From a\nSubject: long\n\n" + strings.Repeat("y", 100<<10) + "From not a separator\nFrom b\n\nz\n"
	if msgs := readAll(t, long); len(msgs) != 2 || msgs[1] != "\nz\n" {
		t.Fatalf("long line: got %d messages", len(msgs))
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("002.eml", "Subject: two\r\n\r\nb\r\n")
	write("001.eml", "Subject: one\r\n\r\na\r\n")
	write(".hidden.eml", "Subject: hidden\r\n\r\n")
	write("notes.txt", "not a message")
	var got []string
	collect := func(name string, msg []byte) error {
		got = append(got, filepath.Base(name)+":"+string(bytes.SplitN(msg, []byte("\r\n"), 2)[0]))
		return nil
	}
	if err := Walk(dir, collect); err != nil {
		t.Fatal(err)
	}
	if want := "001.eml:Subject: one,002.eml:Subject: two"; strings.Join(got, ",") != want {
		t.Fatalf("got %v, want %s", got, want)
	}

	// Without .eml files, every regular file is a message (the SpamAssassin
	// corpus names its files 00001.hash).
	plain := t.TempDir()
	os.WriteFile(filepath.Join(plain, "00001.abc"), []byte("Subject: a\n\nx\n"), 0o600)
	os.WriteFile(filepath.Join(plain, "00002.def"), []byte("Subject: b\n\ny\n"), 0o600)
	got = nil
	if err := Walk(plain, collect); err != nil || len(got) != 2 {
		t.Fatalf("plain dir: %v, %v", got, err)
	}

	var names []string
	if err := Walk("testdata/python.mbox", func(name string, _ []byte) error {
		names = append(names, filepath.Base(name))
		return nil
	}); err != nil || strings.Join(names, ",") != "python.mbox#1,python.mbox#2,python.mbox#3" {
		t.Fatalf("mbox: %v, %v", names, err)
	}
	stop := errors.New("stop")
	if err := Walk("testdata/python.mbox", func(string, []byte) error { return stop }); err != stop {
		t.Fatalf("fn's error not returned: %v", err)
	}
	if err := Walk(filepath.Join(dir, "missing"), collect); err == nil {
		t.Fatal("a missing path gave no error")
	}
}

// FuzzReader: the reader never panics, never returns more than its bound,
// and never loses bytes outside separators: the messages' sizes add up to
// at most the input's.
func FuzzReader(f *testing.F) {
	data, _ := os.ReadFile("testdata/python.mbox")
	f.Add(data)
	f.Add([]byte("From x\n>From y\n\nFrom z\n"))
	f.Add([]byte("From \r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in))
		total := 0
		for i := 0; ; i++ {
			m, err := r.Next()
			if err != nil {
				break
			}
			if len(m) > MaxMessageBytes {
				t.Fatalf("message of %d bytes", len(m))
			}
			total += len(m)
			if i > len(in) {
				t.Fatal("more messages than bytes")
			}
		}
		if total > len(in) {
			t.Fatalf("%d message bytes from %d input bytes", total, len(in))
		}
	})
}
