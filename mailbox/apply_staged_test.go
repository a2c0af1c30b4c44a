package mailbox

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// stagedUpload is a body laid out as SMTP streams it: its full chunks as
// ChunkStaged under id, pinned until until, and the last as the BlobStored
// that names the upload.
func stagedUpload(id byte, body []byte, until int64) (staged []*evlog.Event, last *evlog.BlobStored) {
	uid := bytes.Repeat([]byte{id}, uploadIDLen)
	chunks := evlog.Chunks(body)
	n := len(chunks) - 1
	for _, c := range chunks[:n] {
		staged = append(staged, ev(&evlog.ChunkStaged{UploadId: uid, Chunk: c.Chunk, Data: c.Data, PinnedUntilUnix: until}))
	}
	last = chunks[n]
	last.UploadId, last.StagedChunks = uid, uint32(n)
	return staged, last
}

func (h *harness) uploads() int {
	h.t.Helper()
	n, err := h.s.UploadsPinnedBefore(math.MaxInt64)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// TestStagedUploadIsAssembled: chunks staged while the body was still
// arriving (in any order) are assembled by the BlobStored naming the
// upload, in the proposal that delivers it; the upload is gone after.
func TestStagedUploadIsAssembled(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	body := []byte(strings.Repeat("s", 3*evlog.ChunkSize+77))
	staged, last := stagedUpload(1, body, 1000)
	h.ok(staged[2])
	h.ok(staged[0], staged[1])
	h.ok(staged[1]) // a chunk proposed twice (a retried forward) counts once
	if n := h.uploads(); n != 1 {
		t.Fatalf("%d uploads staged, want 1", n)
	}
	// The upload's chunks are no body: nothing a collector would name.
	if unref, _ := h.s.UnreferencedBlobs(h.index+1, 0, 0); len(unref) != 0 {
		t.Fatalf("staged chunks are collection candidates: %x", unref)
	}
	h.ok(blobStored(last), delivered(last.Hash, len(body), rcpt("a@x.test", "")))
	if got, err := h.s.Blob(last.Hash); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("assembled body: %d bytes, %v", len(got), err)
	}
	if rec, _ := h.s.BlobInfo(last.Hash); rec.GetStored() != 4 || rec.GetChunks() != 4 || rec.GetRefs() != 1 {
		t.Fatalf("blob record %v", rec)
	}
	if n := h.uploads(); n != 0 {
		t.Fatalf("%d uploads left after assembly", n)
	}
	checkInvariants(t, h.s)
}

// TestStagedUploadRefusals: a body that does not hash to its name, an
// upload with a chunk missing, and chunks out of bounds are refused, and
// the refusal changes nothing.
func TestStagedUploadRefusals(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	body := []byte(strings.Repeat("w", 2*evlog.ChunkSize+5))
	staged, last := stagedUpload(2, body, 1000)
	h.ok(staged[0])
	// Chunk 1 never committed.
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, blobStored(last), delivered(last.Hash, len(body), rcpt("a@x.test", "")))
	h.ok(staged[1])
	// The same layout, another body's name.
	wrong := proto.Clone(last).(*evlog.BlobStored)
	wrong.Hash = evlog.Chunks([]byte(strings.Repeat("v", len(body))))[0].Hash
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, blobStored(wrong), delivered(wrong.Hash, len(body), rcpt("a@x.test", "")))
	// A last chunk that is not the one after the staged ones.
	early := proto.Clone(last).(*evlog.BlobStored)
	early.StagedChunks = 1
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, blobStored(early))
	// Staged chunks are exactly ChunkSize and below the bound.
	uid := bytes.Repeat([]byte{2}, uploadIDLen)
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, ev(&evlog.ChunkStaged{UploadId: uid, Chunk: 2, Data: make([]byte, evlog.ChunkSize+1)}))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, ev(&evlog.ChunkStaged{UploadId: uid, Chunk: 2, Data: []byte("short")}))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, ev(&evlog.ChunkStaged{UploadId: uid, Chunk: evlog.MaxStagedChunks, Data: make([]byte, evlog.ChunkSize)}))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, ev(&evlog.ChunkStaged{UploadId: uid[:8], Chunk: 0, Data: make([]byte, evlog.ChunkSize)}))
	// The real name still assembles it.
	h.ok(blobStored(last), delivered(last.Hash, len(body), rcpt("a@x.test", "")))
	if got, err := h.s.Blob(last.Hash); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("assembled body: %d bytes, %v", len(got), err)
	}
	checkInvariants(t, h.s)
}

// TestStagedUploadOfAStoredBody: an upload of bytes already stored drops
// its chunks and references the stored body.
func TestStagedUploadOfAStoredBody(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	body := []byte(strings.Repeat("d", 2*evlog.ChunkSize+9))
	for _, c := range evlog.Chunks(body) {
		h.ok(blobStored(c))
	}
	staged, last := stagedUpload(3, body, 1000)
	h.ok(staged...)
	h.ok(blobStored(last), delivered(last.Hash, len(body), rcpt("a@x.test", "")))
	if n := h.uploads(); n != 0 {
		t.Fatalf("%d uploads left", n)
	}
	if got, err := h.s.Blob(last.Hash); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	checkInvariants(t, h.s)
}

// TestStagedUploadsExpireAndAreAbandoned: a collection deletes the uploads
// it names as abandoned and those pinned until before its clock, and keeps
// the others; an upload deleted so can no longer be assembled.
func TestStagedUploadsExpireAndAreAbandoned(t *testing.T) {
	h := newHarness(t)
	body := []byte(strings.Repeat("e", evlog.ChunkSize+1))
	old, oldLast := stagedUpload(4, body, 1000)
	live, _ := stagedUpload(5, body, 2000)
	gone, _ := stagedUpload(6, body, 3000)
	h.ok(old[0], live[0], gone[0])
	collect := func(bc *evlog.BlobsCollected) { h.ok(ev(bc)) }
	collect(&evlog.BlobsCollected{ExpiredUploadsBeforeUnix: 1000}) // pinned until then: kept
	if n := h.uploads(); n != 3 {
		t.Fatalf("%d uploads after a collection at their pin, want 3", n)
	}
	collect(&evlog.BlobsCollected{ExpiredUploadsBeforeUnix: 1001, AbandonedUploads: [][]byte{bytes.Repeat([]byte{6}, uploadIDLen)}})
	if n, _ := h.s.UploadsPinnedBefore(math.MaxInt64); n != 1 {
		t.Fatalf("%d uploads left, want the live one", n)
	}
	if n, _ := h.s.UploadsPinnedBefore(2001); n != 1 {
		t.Fatal("the live upload is not the one left")
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, blobStored(oldLast))
	if _, err := h.s.BlobInfo(oldLast.Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired upload left a body: %v", err)
	}
	// Abandoning an upload that is gone changes nothing.
	collect(&evlog.BlobsCollected{AbandonedUploads: [][]byte{bytes.Repeat([]byte{6}, uploadIDLen)}})
	checkInvariants(t, h.s)
}
