package arc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"slices"
)

// Verification verifies one message written to it. Write never fails; the
// verdict comes from Finish. It is not safe for concurrent use.
type Verification struct {
	v         *Verifier
	maxHeader int

	header     []byte
	headerDone bool
	tooLarge   bool
	finished   bool

	fields []headerField
	chain  *chain  // the sets to verify, when the header left any doubt
	early  *Result // the verdict, when the header alone decided it

	// One body hash per canonicalization in use, whatever the number of
	// sets: signatures with the same c= differ only in their l=.
	hashers map[canon]*bodyHasher
	bodies  []*bodyCanon
	outs    []*bufio.Writer

	// wantRelaxed, set by Seal before the first Write, asks for the
	// relaxed body hash of the whole body whatever the chain holds.
	wantRelaxed bool
	// skipChain, set by Seal when it is given the chain's verdict, skips
	// the body hashes of the existing signatures.
	skipChain bool
}

// headerChunk bounds how much of a Write is copied into the header buffer
// at a time, so that a caller writing the whole message at once does not
// have it copied whole.
const headerChunk = 16 << 10

// Write takes the next bytes of the message.
func (w *Verification) Write(p []byte) (int, error) {
	n := len(p)
	if w.finished {
		return n, nil
	}
	for len(p) > 0 && !w.headerDone {
		if w.tooLarge {
			return n, nil
		}
		k := min(len(p), headerChunk)
		start := max(0, len(w.header)-3)
		w.header = append(w.header, p[:k]...)
		p = p[k:]
		end, bodyStart := headerEnd(w.header, start)
		if end < 0 {
			if len(w.header) > w.maxHeader {
				w.tooLarge, w.header = true, nil
			}
			continue
		}
		if end > w.maxHeader {
			w.tooLarge, w.header = true, nil
			return n, nil
		}
		first := w.header[bodyStart:]
		w.header = w.header[:end]
		w.startBody()
		w.writeBody(first)
	}
	w.writeBody(p)
	return n, nil
}

// headerEnd finds the empty line that ends the header, searching from
// start: it returns the end of the header block (after the CRLF of its
// last field) and where the body starts, or -1.
func headerEnd(b []byte, start int) (end, body int) {
	// A message that starts with an empty line has an empty header.
	if bytes.HasPrefix(b, crlf) {
		return 0, 2
	}
	if len(b) > 0 && b[0] == '\n' {
		return 0, 1
	}
	for i := start; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			return i + 1, j + 1
		}
	}
	return -1, -1
}

func (w *Verification) writeBody(p []byte) {
	if len(p) == 0 {
		return
	}
	for _, c := range w.bodies {
		c.Write(p) // the hashes never fail
	}
}

// startBody parses the header and sets up the body hashes the chain needs.
func (w *Verification) startBody() {
	w.headerDone = true
	w.fields = splitHeader(w.header)
	w.header = nil // the fields hold their own copies
	w.chain, w.early = collectChain(w.fields)
	w.hashers = map[canon]*bodyHasher{}
	need := func(c canon, limit int64) *bodyHasher {
		h := w.hashers[c]
		if h == nil {
			h = newBodyHasher()
			w.hashers[c] = h
		}
		h.mark(limit)
		return h
	}
	if w.chain != nil && !w.skipChain {
		for _, s := range w.chain.sets {
			if s.ams != nil {
				s.body = need(s.ams.bodyCanon, s.ams.length)
			}
		}
	}
	if w.wantRelaxed {
		need(canonRelaxed, -1)
	}
	for _, c := range []canon{canonSimple, canonRelaxed} {
		if h := w.hashers[c]; h != nil {
			out := bufio.NewWriterSize(h, 32<<10)
			w.outs = append(w.outs, out)
			w.bodies = append(w.bodies, newBodyCanon(out, c))
		}
	}
}

// Finish ends the message and returns the verdict, looking keys up with
// ctx. It may be called once.
func (w *Verification) Finish(ctx context.Context) *Result {
	if w.finished {
		return &Result{Status: Fail, Err: errors.New("arc: Finish called twice")}
	}
	w.finishBody()
	switch {
	case w.tooLarge:
		return &Result{Status: Fail, Err: fmt.Errorf("arc: header longer than %d bytes", w.maxHeader)}
	case w.early != nil:
		return w.early
	}
	return w.chain.verify(ctx, w.v, w.fields)
}

// finishBody ends the body and its hashes.
func (w *Verification) finishBody() {
	w.finished = true
	if w.tooLarge {
		return
	}
	if !w.headerDone {
		// No empty line: the whole message is header, the body empty.
		w.startBody()
	}
	for i, b := range w.bodies {
		b.Close()
		w.outs[i].Flush()
	}
}

// bodyHasher hashes one canonicalized body once for every l= (RFC 6376
// §3.5) that signatures ask of it: SHA-256's Sum does not disturb the
// running state, so the digest of each prefix is taken as the stream
// passes its length. Fifty signatures cost one pass, not fifty.
type bodyHasher struct {
	h     hash.Hash
	n     int64
	marks []int64 // lengths still to be reached, ascending
	sums  map[int64][]byte
}

func newBodyHasher() *bodyHasher {
	return &bodyHasher{h: sha256.New(), sums: map[int64][]byte{}}
}

// mark asks for the digest of the first limit bytes; a negative limit
// means the whole body, read with sum after the last Write.
func (b *bodyHasher) mark(limit int64) {
	if limit < 0 || slices.Contains(b.marks, limit) {
		return
	}
	if limit == 0 {
		b.sums[0] = b.h.Sum(nil)
		return
	}
	b.marks = append(b.marks, limit)
	slices.Sort(b.marks)
}

func (b *bodyHasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(b.marks) > 0 && b.n+int64(len(p)) >= b.marks[0] {
		k := b.marks[0] - b.n
		b.h.Write(p[:k])
		p = p[k:]
		b.n += k
		b.sums[b.n] = b.h.Sum(nil)
		b.marks = b.marks[1:]
	}
	b.h.Write(p)
	b.n += int64(len(p))
	return n, nil
}

// sum returns the digest of the first limit bytes (all if limit < 0), or
// an error if the body is shorter than limit.
func (b *bodyHasher) sum(limit int64) ([]byte, error) {
	if limit < 0 {
		return b.h.Sum(nil), nil
	}
	if s, ok := b.sums[limit]; ok {
		return s, nil
	}
	// RFC 6376 §6.1.3: a body shorter than l= cannot match.
	return nil, fmt.Errorf("body is %d bytes after canonicalization, l=%d", b.n, limit)
}
