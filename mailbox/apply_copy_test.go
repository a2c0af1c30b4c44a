package mailbox

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// headedCopy is the BlobStored of a copy of the headed body first (whose
// head is headA, over body) with head instead.
func headedCopy(first *evlog.BlobStored, headA, head, body []byte) *evlog.BlobStored {
	sum := sha256.Sum256(body)
	return evlog.HeadedCopy(head, sum[:], uint64(len(body)), first.Hash, uint64(len(headA)))
}

// TestHeadedCopyIsStored: a second copy of a streamed message with other
// header fields, in the same proposal as the first and the deliveries of
// both, is its own head then the first's body without the first's head,
// re-chunked, for bodies around the chunk size and heads longer, shorter
// or empty; storing it again keeps it.
func TestHeadedCopyIsStored(t *testing.T) {
	headA := []byte("Return-Path: <s@r.test>\r\nX-Spam-Status: No, score=0.1\r\nReceived: from r.test\r\n")
	for _, headB := range [][]byte{
		[]byte("Return-Path: <s@r.test>\r\nX-Spam-Status: Yes, score=9.7 required=5.0 tests=BAYES_99\r\nReceived: from r.test\r\n"),
		[]byte("X-Short: 1\r\n"),
		nil,
	} {
		for _, size := range []int{0, 10, evlog.ChunkSize - len(headA), evlog.ChunkSize - 1, evlog.ChunkSize, evlog.ChunkSize + 1, 3*evlog.ChunkSize + 77} {
			h := newHarness(t)
			h.ok(userCreated("a@x.test", 1), userCreated("b@x.test", 1))
			body := []byte(strings.Repeat("c", size))
			staged, first := headedUpload(6, headA, body)
			if len(staged) > 0 {
				h.ok(staged...)
			}
			cp := headedCopy(first, headA, headB, body)
			junk := &evlog.Recipient{Address: "b@x.test", SpecialUse: `\Junk`}
			h.ok(blobStored(first), delivered(first.Hash, int(first.Size), rcpt("a@x.test", "")),
				blobStored(cp), delivered(cp.Hash, int(cp.Size), junk))
			want := append(append([]byte{}, headB...), body...)
			got, err := h.s.Blob(cp.Hash)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("head %d, size %d: copy of %d bytes (want %d), %v", len(headB), size, len(got), len(want), err)
			}
			if got, _ := h.s.Blob(first.Hash); !bytes.Equal(got, append(append([]byte{}, headA...), body...)) {
				t.Fatalf("head %d, size %d: the first copy changed", len(headB), size)
			}
			rec, _ := h.s.BlobInfo(cp.Hash)
			if n := uint32(chunksFor(uint64(len(want)))); rec.GetChunks() != n || rec.GetStored() != n || rec.GetSize() != uint64(len(want)) || rec.GetRefs() != 1 {
				t.Fatalf("head %d, size %d: copy's record %v", len(headB), size, rec)
			}
			if got := h.uids(h.mailbox("b@x.test", "Junk").GetId()); len(got) != 1 {
				t.Fatalf("b's Junk holds %v", got)
			}
			// Again (a retry, another message with the same verdicts):
			// the stored copy is kept and referenced again.
			h.ok(blobStored(cp), delivered(cp.Hash, int(cp.Size), rcpt("b@x.test", "")))
			if rec, _ := h.s.BlobInfo(cp.Hash); rec.GetRefs() != 2 || rec.GetStored() != rec.GetChunks() {
				t.Fatalf("head %d, size %d: after a second store, %v", len(headB), size, rec)
			}
			checkInvariants(t, h.s)
		}
	}
}

// TestCopyOfPlainBody: a body stored by its SHA-256 (not headed) may be
// copied from byte 0 or past a prefix.
func TestCopyOfPlainBody(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	body := "Subject: plain\r\n\r\n" + strings.Repeat("p", evlog.ChunkSize+5)
	hash := h.store(body)
	for _, skip := range []int{0, 18, evlog.ChunkSize, len(body)} {
		rest := []byte(body[skip:])
		sum := sha256.Sum256(rest)
		cp := evlog.HeadedCopy([]byte("X-Copy: 1\r\n"), sum[:], uint64(len(rest)), hash, uint64(skip))
		h.ok(blobStored(cp), delivered(cp.Hash, int(cp.Size), rcpt("a@x.test", "")))
		if got, _ := h.s.Blob(cp.Hash); string(got) != "X-Copy: 1\r\n"+string(rest) {
			t.Fatalf("skip %d: copy reads %d bytes", skip, len(got))
		}
	}
	checkInvariants(t, h.s)
}

// TestCopyRefusals: a copy of a body not stored (or stored later in the
// proposal) is NO_SUCH_BLOB; one carrying data or an upload, skipping past
// the body, of the wrong size, or whose name does not match its head and
// rest, is INVALID; none changes anything.
func TestCopyRefusals(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	headA, headB := []byte("X-A: 1\r\n"), []byte("X-B: 22\r\n")
	body := []byte(strings.Repeat("r", evlog.ChunkSize+9))
	staged, first := headedUpload(7, headA, body)
	h.ok(staged...)
	cp := headedCopy(first, headA, headB, body)

	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, blobStored(cp))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, blobStored(cp), blobStored(first))
	h.ok(blobStored(first), delivered(first.Hash, int(first.Size), rcpt("a@x.test", "")))

	mutate := func(f func(*evlog.BlobStored)) *evlog.Event {
		c := proto.Clone(cp).(*evlog.BlobStored)
		f(c)
		return blobStored(c)
	}
	for name, e := range map[string]*evlog.Event{
		"data":       mutate(func(c *evlog.BlobStored) { c.Data = []byte("x") }),
		"upload":     mutate(func(c *evlog.BlobStored) { c.UploadId = bytes.Repeat([]byte{9}, uploadIDLen) }),
		"staged":     mutate(func(c *evlog.BlobStored) { c.StagedChunks = 1 }),
		"chunk":      mutate(func(c *evlog.BlobStored) { c.Chunk = 1 }),
		"size":       mutate(func(c *evlog.BlobStored) { c.Size++ }),
		"chunks":     mutate(func(c *evlog.BlobStored) { c.Chunks++ }),
		"past end":   mutate(func(c *evlog.BlobStored) { c.CopySkip = first.Size + 1 }),
		"bad of":     mutate(func(c *evlog.BlobStored) { c.CopyOf = c.CopyOf[:5] }),
		"forged":     mutate(func(c *evlog.BlobStored) { c.Head = []byte("X-B: 33\r\n") }),
		"wrong skip": mutate(func(c *evlog.BlobStored) { c.CopySkip--; c.Head = headB[:len(headB)-1] }),
		"big head":   mutate(func(c *evlog.BlobStored) { c.Head = bytes.Repeat([]byte("x"), evlog.MaxHead+1) }),
	} {
		t.Run(name, func(t *testing.T) {
			h.t = t
			h.fails(errInvalid, e)
		})
	}
	h.t = t
	h.ok(blobStored(cp), delivered(cp.Hash, int(cp.Size), rcpt("a@x.test", "")))
	checkInvariants(t, h.s)
}
