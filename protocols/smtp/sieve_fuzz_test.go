package smtp

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// headerEnd is bodyStart's answer computed on the whole message at once.
func headerEnd(msg []byte) int {
	if bytes.HasPrefix(msg, []byte("\r\n")) {
		return 2
	}
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return len(msg)
}

func TestBodyStart(t *testing.T) {
	for _, msg := range []string{
		"", "\r\n", "\r\nbody", "A: b\r\n\r\nbody\r\n", "A: b\r\n", "A: b\r\n\r", "A: b\r\r\n\r\n\r\nx",
		"A: b\n\r\n\r\n", "\r\r\n\r\n",
	} {
		checkBodyStart(t, []byte(msg), 1)
		checkBodyStart(t, []byte(msg), 3)
	}
}

func checkBodyStart(t *testing.T, msg []byte, step int) {
	t.Helper()
	b := newBodyStart()
	for i := 0; i < len(msg); i += step {
		b.write(msg[i:min(i+step, len(msg))])
	}
	n, sum := b.end()
	want := headerEnd(msg)
	if n != want || !bytes.Equal(sum, sha256Of(msg[want:])) {
		t.Fatalf("%q in steps of %d: header of %d bytes, want %d (or the rest's hash differs)", msg, step, n, want)
	}
}

func sha256Of(p []byte) []byte {
	s := sha256.Sum256(p)
	return s[:]
}

// FuzzBodyStart: however the message is cut into reads, the header block
// ends where a search of the whole message says, and the rest's hash is
// the hash of what follows.
func FuzzBodyStart(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody\r\n"), uint8(1))
	f.Add([]byte("\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, msg []byte, step uint8) {
		checkBodyStart(t, msg, int(step)%17+1)
	})
}

// FuzzHeaderChecks: the loop and header-block checks take any bytes.
func FuzzHeaderChecks(f *testing.F) {
	f.Add([]byte("Delivered-To: <a@b>\r\n\r\n"), "a@b")
	f.Add([]byte("delivered-to:a@b\r\n"), "A@B")
	f.Fuzz(func(t *testing.T, msg []byte, user string) {
		_ = hasDeliveredTo(msg, user)
		if validHeaderBlock(msg) && !bytes.HasSuffix(msg, []byte("\r\n")) {
			t.Fatalf("%q accepted as a header block", msg)
		}
		_ = isSRSAddress(user)
		_ = tagAsGiven(user, "x")
	})
}

func TestHasDeliveredTo(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{"Delivered-To: a@example.test\r\n\r\n", true},
		{"X: y\r\ndelivered-to:   <A@Example.Test> \r\n\r\n", true},
		{"Delivered-To: b@example.test\r\n\r\nDelivered-To: a@example.test\r\n", false},
		{"X-Delivered-To: a@example.test\r\n\r\n", false},
	} {
		if got := hasDeliveredTo([]byte(c.msg), "a@example.test"); got != c.want {
			t.Errorf("%q: %v", c.msg, got)
		}
	}
}
