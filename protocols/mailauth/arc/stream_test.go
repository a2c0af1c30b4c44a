package arc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// lineBody streams n bytes of text lines without holding them.
type lineBody struct {
	left int64
	off  int
}

const bodyLine = "Lorem ipsum dolor sit amet,  consectetur   adipiscing elit \t\r\n"

func (b *lineBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && b.left > 0 {
		c := copy(p[n:min(len(p), n+int(min(b.left, int64(len(p)))))], bodyLine[b.off:])
		b.off = (b.off + c) % len(bodyLine)
		n += c
		b.left -= int64(c)
	}
	return n, nil
}

const bigHeader = "From: a@example.org\r\nTo: b@example.net\r\nSubject: big\r\n\r\n"

// TestLargeMessageBoundedMemory seals and verifies a 50 MiB message read
// from a stream, and checks that verification allocates a small fraction
// of the message: the body is hashed as it passes, never kept.
func TestLargeMessageBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 100 MiB")
	}
	const size = 50 << 20
	z := newZone()
	k := newKey(t, z, "ed25519", "big.example", "s")
	fields, err := Seal(context.Background(), io.MultiReader(strings.NewReader(bigHeader), &lineBody{left: size}), Sealer{
		Domain: k.domain, Selector: k.selector, Signer: k.signer, AuthResults: "big.example; none", Lookup: z.lookup,
	})
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Lookup: z.lookup}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := v.Verify(context.Background(), io.MultiReader(strings.NewReader(fields+bigHeader), &lineBody{left: size}))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Pass {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("verified %d MiB in %v (%.0f MiB/s), %d KiB allocated", size>>20, elapsed, float64(size>>20)/elapsed.Seconds(), alloc>>10)
	if alloc > 1<<20 {
		t.Fatalf("verifying a %d MiB message allocated %d KiB; the body is being kept", size>>20, alloc>>10)
	}
}

func benchMessage(b *testing.B, size int) (*zone, string) {
	z := newZone()
	k := newKey(b, z, "ed25519", "bench.example", "s")
	body, _ := io.ReadAll(&lineBody{left: int64(size)})
	msg := seal(b, z, k, baseMessage+string(body))
	return z, msg
}

// BenchmarkVerify4KiB verifies a one-set chain on a 4 KiB message.
func BenchmarkVerify4KiB(b *testing.B) {
	z, msg := benchMessage(b, 4<<10)
	v := &Verifier{Lookup: z.lookup}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if res, _ := v.Verify(context.Background(), strings.NewReader(msg)); res.Status != Pass {
			b.Fatal(res.Err)
		}
	}
}

// BenchmarkSeal4KiB adds a set to a 4 KiB message that has one.
func BenchmarkSeal4KiB(b *testing.B) {
	z, msg := benchMessage(b, 4<<10)
	k := newKey(b, z, "ed25519", "bench2.example", "s")
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Seal(context.Background(), strings.NewReader(msg), Sealer{
			Domain: k.domain, Selector: k.selector, Signer: k.signer, AuthResults: "x; none", Lookup: z.lookup,
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteInPieces: a Verification fed one byte at a time, or the whole
// message in one Write, reaches the verdict Verify reaches.
func TestWriteInPieces(t *testing.T) {
	z, msg := threeHops(t)
	v := &Verifier{Lookup: z.lookup}
	for _, size := range []int{1, 2, 5, 100, len(msg)} {
		w := v.NewVerification()
		for p := []byte(msg); len(p) > 0; {
			k := min(size, len(p))
			if n, err := w.Write(p[:k]); n != k || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[k:]
		}
		if res := w.Finish(context.Background()); res.Status != Pass || res.Count != 3 {
			t.Fatalf("pieces of %d: status %s count %d: %v", size, res.Status, res.Count, res.Err)
		}
	}
}

// TestBodyHasherMarks: the digest taken at each l= mark is the digest of
// that prefix, and a mark past the end is an error.
func TestBodyHasherMarks(t *testing.T) {
	body := []byte(strings.Repeat("0123456789abcdef", 100))
	h := newBodyHasher()
	marks := []int64{0, 1, 16, 17, 800, 1600, 1601}
	for _, m := range marks {
		h.mark(m)
	}
	h.mark(16) // twice is once
	for p := body; len(p) > 0; {
		k := min(7, len(p))
		h.Write(p[:k])
		p = p[k:]
	}
	for _, m := range marks {
		got, err := h.sum(m)
		if m > int64(len(body)) {
			if err == nil {
				t.Errorf("l=%d past a %d-byte body: no error", m, len(body))
			}
			continue
		}
		want := sha256.Sum256(body[:m])
		if err != nil || !bytes.Equal(got, want[:]) {
			t.Errorf("l=%d: %x %v, want %x", m, got, err, want)
		}
	}
	all, _ := h.sum(-1)
	if want := sha256.Sum256(body); !bytes.Equal(all, want[:]) {
		t.Errorf("whole body: %x, want %x", all, want)
	}
}

// TestOneLargeWrite: a caller that hands over the whole message in one
// Write does not get it copied into the header buffer.
func TestOneLargeWrite(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "big.example", "s")
	body, _ := io.ReadAll(&lineBody{left: 8 << 20})
	msg := []byte(seal(t, z, k, bigHeader+string(body)))
	v := &Verifier{Lookup: z.lookup}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w := v.NewVerification()
	w.Write(msg)
	res := w.Finish(context.Background())
	runtime.ReadMemStats(&after)
	if res.Status != Pass {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("one Write of %d MiB allocated %d KiB", len(msg)>>20, alloc>>10)
	}
}
