package mailbox

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// headedUpload lays body out as SMTP streams it when it adds header fields
// at the end: full chunks of body staged under id, the rest and head in
// the BlobStored that ends the upload.
func headedUpload(id byte, head, body []byte) (staged []*evlog.Event, last *evlog.BlobStored) {
	sum := sha256.Sum256(body)
	full := (len(body) - 1) / evlog.ChunkSize // at least one byte stays for the last piece
	if len(body) == 0 {
		full = 0
	}
	var uid []byte
	if full > 0 {
		uid = bytes.Repeat([]byte{id}, uploadIDLen)
	}
	for i := range full {
		staged = append(staged, ev(&evlog.ChunkStaged{UploadId: uid, Chunk: uint32(i), Data: body[i*evlog.ChunkSize : (i+1)*evlog.ChunkSize], PinnedUntilUnix: 1000}))
	}
	return staged, evlog.HeadedLast(head, sum[:], uid, uint32(full), body[full*evlog.ChunkSize:])
}

// TestHeadedBodyIsAssembled: the head goes in front of the streamed bytes,
// re-chunked so that chunk i holds bytes [i*ChunkSize, (i+1)*ChunkSize) of
// the whole body, for bodies that fit one chunk, that cross into a second
// because of the head, and that were staged in several chunks.
func TestHeadedBodyIsAssembled(t *testing.T) {
	head := []byte("Authentication-Results: mx.example.test; spf=pass\r\n")
	for _, size := range []int{0, 10, evlog.ChunkSize - len(head), evlog.ChunkSize - 1, evlog.ChunkSize, evlog.ChunkSize + 1, 3*evlog.ChunkSize + 77} {
		h := newHarness(t)
		h.ok(userCreated("a@x.test", 1))
		body := []byte(strings.Repeat("b", size))
		staged, last := headedUpload(3, head, body)
		if len(staged) > 0 {
			h.ok(staged...)
		}
		want := append(append([]byte{}, head...), body...)
		h.ok(blobStored(last), delivered(last.Hash, len(want), rcpt("a@x.test", "")))
		got, err := h.s.Blob(last.Hash)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: assembled %d bytes (want %d), %v", size, len(got), len(want), err)
		}
		rec, _ := h.s.BlobInfo(last.Hash)
		if wantChunks := uint32(chunksFor(uint64(len(want)))); rec.GetChunks() != wantChunks || rec.GetStored() != wantChunks || rec.GetSize() != uint64(len(want)) {
			t.Fatalf("size %d: blob record %v, want %d chunks", size, rec, wantChunks)
		}
		if n := h.uploads(); n != 0 {
			t.Fatalf("size %d: %d uploads left", size, n)
		}
		// The same message again (another recipient, a retry) is the
		// same blob: nothing is written twice.
		staged, last = headedUpload(4, head, body)
		if len(staged) > 0 {
			h.ok(staged...)
		}
		h.ok(blobStored(last), delivered(last.Hash, len(want), rcpt("a@x.test", "")))
		if rec, _ := h.s.BlobInfo(last.Hash); rec.GetRefs() != 2 {
			t.Fatalf("size %d: %d refs after a second delivery, want 2", size, rec.GetRefs())
		}
		checkInvariants(t, h.s)
	}
}

// TestHeadedBodyRefusals: a head that does not match the name, a size that
// does not match the layout, an oversized head and a missing staged chunk
// are refused and change nothing.
func TestHeadedBodyRefusals(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	head := []byte("X-Verdict: yes\r\n")
	body := []byte(strings.Repeat("r", 2*evlog.ChunkSize+9))
	staged, last := headedUpload(5, head, body)
	h.ok(staged[0])
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, blobStored(last)) // chunk 1 missing
	h.ok(staged[1])

	forged := proto.Clone(last).(*evlog.BlobStored)
	forged.Head = []byte("X-Verdict: no!\r\n") // same length, other bytes
	h.fails(errInvalid, blobStored(forged))
	wrongSize := proto.Clone(last).(*evlog.BlobStored)
	wrongSize.Size++
	h.fails(errInvalid, blobStored(wrongSize))
	big := proto.Clone(last).(*evlog.BlobStored)
	big.Head = bytes.Repeat([]byte("x"), evlog.MaxHead+1)
	h.fails(errInvalid, blobStored(big))
	if _, err := h.s.BlobInfo(last.Hash); err == nil {
		if rec, _ := h.s.BlobInfo(last.Hash); rec != nil && rec.GetStored() > 0 {
			t.Fatalf("a refused body left %v", rec)
		}
	}
	h.ok(blobStored(last), delivered(last.Hash, int(last.Size), rcpt("a@x.test", "")))
	checkInvariants(t, h.s)
}

// TestDeliveryBySpecialUse: a recipient with a special-use attribute is
// filed into the mailbox that carries it, renamed or not; without one it
// falls back to the name, then INBOX.
func TestDeliveryBySpecialUse(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	junk := h.mailbox("a@x.test", "Junk")
	h.ok(mailboxRenamed(junk.GetId(), "Spam", 0))
	hash := h.store("m1")
	r := &evlog.Recipient{Address: "a@x.test", SpecialUse: `\Junk`, Mailbox: "Junk"}
	h.ok(delivered(hash, 2, r))
	if got := h.uids(junk.GetId()); len(got) != 1 {
		t.Fatalf("renamed Junk holds %v, want one message", got)
	}
	h.ok(mailboxDeleted(junk.GetId()))
	h.ok(delivered(hash, 2, r))
	if got := h.uids(h.mailbox("a@x.test", "INBOX").GetId()); len(got) != 1 {
		t.Fatalf("INBOX holds %v after Junk was deleted, want the message", got)
	}
}
