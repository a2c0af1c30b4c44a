package filter

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/sieve"
)

// writeIn feeds msg to c in pieces of n bytes.
func writeIn(c *capture, msg string, n int) {
	for len(msg) > 0 {
		k := min(n, len(msg))
		_, _ = c.Write([]byte(msg[:k]))
		msg = msg[k:]
	}
}

func TestCaptureHeaderAndBody(t *testing.T) {
	for _, piece := range []int{1, 2, 3, 7, 1 << 20} {
		c := newCapture(1<<10, 1<<10)
		writeIn(c, testMessage, piece)
		wantHead, wantBody, _ := strings.Cut(testMessage, "\r\n\r\n")
		if got := string(c.Header()); got != wantHead+"\r\n\r\n" {
			t.Fatalf("piece %d: header %q", piece, got)
		}
		b, _ := c.Body()
		body, _ := io.ReadAll(b)
		if string(body) != wantBody {
			t.Fatalf("piece %d: body %q", piece, body)
		}
		if c.size != int64(len(testMessage)) {
			t.Fatalf("piece %d: size %d", piece, c.size)
		}
	}
}

// RFC 5322 §2.1: the header block ends at the first empty line, also with
// bare LF line ends; a folded line does not end it.
func TestCaptureHeaderEnd(t *testing.T) {
	for _, tc := range []struct{ msg, head, body string }{
		{"A: 1\nB: 2\n\nbody\n", "A: 1\nB: 2\n\n", "body\n"},
		{"A: 1\r\n folded\r\n\r\nbody", "A: 1\r\n folded\r\n\r\n", "body"},
		{"\r\nbody only", "\r\n", "body only"},
		{"A: no body\r\n", "A: no body\r\n\r\n", ""},
		{"A: cut", "\r\n", ""},
		{"A: 1\r\nB: 2\r", "A: 1\r\n\r\n", ""},
	} {
		c := newCapture(1<<10, 1<<10)
		writeIn(c, tc.msg, 1)
		if got := string(c.Header()); got != tc.head {
			t.Errorf("%q: header %q, want %q", tc.msg, got, tc.head)
		}
		if got := string(c.body); got != tc.body {
			t.Errorf("%q: body %q, want %q", tc.msg, got, tc.body)
		}
	}
}

// A header block past the bound is cut at a line; the body after it is
// still found. The body is kept up to its bound, and only when asked.
func TestCaptureBounds(t *testing.T) {
	long := "A: " + strings.Repeat("x", 100) + "\r\nB: 2\r\nC: 3\r\n\r\n" + strings.Repeat("b", 300)
	c := newCapture(110, 50)
	writeIn(c, long, 9)
	if got := string(c.Header()); got != "A: "+strings.Repeat("x", 100)+"\r\n\r\n" {
		t.Fatalf("cut header %q", got)
	}
	if len(c.body) != 50 || !c.bodyCut {
		t.Fatalf("body %d bytes, cut %v", len(c.body), c.bodyCut)
	}
	c = newCapture(1<<10, 0)
	writeIn(c, long, 9)
	if len(c.body) != 0 || c.bodyCut {
		t.Fatalf("body kept without a body test: %d bytes", len(c.body))
	}
	if c.size != int64(len(long)) {
		t.Fatalf("size %d", c.size)
	}
}

// The run reads the body only when a script may test it, and the script
// gets it through Message.Body with the size of the whole message.
func TestCaptureBodyOnlyForBodyScripts(t *testing.T) {
	const alice = "alice@example.com"
	for _, usesBody := range []bool{false, true} {
		h := newHarness(t)
		var got sieve.Message
		h.interp.def("s", func(msg sieve.Message, _ sieve.Env) (*sieve.Result, error) {
			got = msg
			return &sieve.Result{Keep: true}, nil
		})
		h.interp.progs["s"].usesBody = usesBody
		h.store.put(alice, "s", "s")
		if _, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage); err != nil {
			t.Fatal(err)
		}
		if (got.Body != nil) != usesBody {
			t.Fatalf("usesBody %v: body func %v", usesBody, got.Body != nil)
		}
		if usesBody {
			r, _ := got.Body()
			b, _ := io.ReadAll(r)
			if !bytes.Contains(b, []byte("the body.")) {
				t.Fatalf("body %q", b)
			}
		}
		if got.Size != int64(len(testMessage)) {
			t.Fatalf("size %d, want %d", got.Size, len(testMessage))
		}
	}
}

// The scripts see the stored header: the earlier checks' fields on top,
// and what the earlier filters removed gone.
func TestCaptureSeesStoredHeader(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	var hdr string
	h.interp.def("s", func(msg sieve.Message, _ sieve.Env) (*sieve.Result, error) {
		hdr = string(msg.Header)
		return &sieve.Result{Keep: true}, nil
	})
	h.store.put(alice, "s", "s")
	msg := "X-Forged: yes\r\n" + testMessage
	_, err := h.deliver(t, mxEnv("s@remote.test", alice), msg,
		prependCheck{fields: "Authentication-Results: mx; spf=pass\r\n"}, stripCheck{"X-Forged"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hdr, "Authentication-Results: mx; spf=pass\r\nFrom: sender@remote.test\r\n") {
		t.Fatalf("header %q", hdr)
	}
}

// FuzzCapture: whatever the message and the pieces, the capture holds a
// prefix of the header block and of the body, within its bounds, and
// Header always ends a block.
func FuzzCapture(f *testing.F) {
	f.Add([]byte(testMessage), uint8(3))
	f.Add([]byte("A: 1\n\nb"), uint8(1))
	f.Add([]byte("\r\r\n\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, msg []byte, piece uint8) {
		c := newCapture(64, 32)
		writeIn(c, string(msg), int(piece)+1)
		if len(c.head) > 64 || len(c.body) > 32 || c.size != int64(len(msg)) {
			t.Fatalf("bounds: head %d body %d size %d", len(c.head), len(c.body), c.size)
		}
		if !bytes.HasPrefix(msg, c.head) {
			t.Fatal("head is not the message's prefix")
		}
		h := c.Header()
		if !bytes.HasSuffix(h, []byte("\n")) {
			t.Fatalf("header %q does not end a block", h)
		}
		if c.headDone && !c.headCut {
			if !bytes.HasPrefix(msg[len(c.head):], c.body) {
				t.Fatal("body is not what follows the header")
			}
		}
	})
}
