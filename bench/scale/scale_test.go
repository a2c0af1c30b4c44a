package scale

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestMessageBody(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{300, 1024, 4096} {
		b := messageBody(rng, 7, UserAddress(7), size)
		if len(b) != size {
			t.Errorf("size %d: got %d bytes", size, len(b))
		}
		head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
		if !ok || !bytes.Contains(head, []byte("To: <s000007@example.test>")) {
			t.Fatalf("no header block with the recipient: %q", b[:min(len(b), 200)])
		}
		for _, line := range bytes.Split(body, []byte("\r\n")) {
			if len(line) > 78 || bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("bad body line %q", line)
			}
		}
	}
	if bytes.Equal(messageBody(rng, 1, "a@b", 1024), messageBody(rng, 1, "a@b", 1024)) {
		t.Error("two bodies are the same: a store could deduplicate them")
	}
}
