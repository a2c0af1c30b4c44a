package mailbox

import (
	"errors"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// TestPinnedUploadSurvivesCollection: the first chunks of an upload are
// pinned; a collection that runs when the log has moved past their
// touched_index (touched_before beyond them) keeps them while the pin
// holds, so the last chunk and its Delivered still find the body whole.
// Without pins the collection deleted them and the delivery was refused.
func TestPinnedUploadSurvivesCollection(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated("a@x.test", 1))
	body := strings.Repeat("x", 3*evlog.ChunkSize+10)
	chunks := evlog.Chunks([]byte(body))
	hash := chunks[0].Hash
	for _, c := range chunks[:3] {
		c.PinnedUntilUnix = 1000
		h.ok(blobStored(c))
	}
	collect := func(now int64) {
		h.ok(&evlog.Event{Kind: &evlog.Event_BlobsCollected{BlobsCollected: &evlog.BlobsCollected{
			Hashes: [][]byte{hash}, TouchedBefore: h.index + 1, NowUnix: now}}})
	}
	if unref, _ := h.s.UnreferencedBlobs(h.index+1, 999, 0); len(unref) != 0 {
		t.Fatalf("a pinned body is a collection candidate: %x", unref)
	}
	collect(999)
	if rec, err := h.s.BlobInfo(hash); err != nil || rec.GetStored() != 3 {
		t.Fatalf("pinned chunks collected: %v, %v", rec, err)
	}
	collect(0) // a collector that predates pins: the pin holds
	if _, err := h.s.BlobInfo(hash); err != nil {
		t.Fatalf("pinned chunks collected by an old collector: %v", err)
	}
	h.ok(blobStored(chunks[3]), delivered(hash, len(body), rcpt("a@x.test", "")))
	if got, err := h.s.Blob(hash); err != nil || string(got) != body {
		t.Fatalf("delivered body: %d bytes, %v", len(got), err)
	}
	if rec, _ := h.s.BlobInfo(hash); rec.GetPinnedUntilUnix() != 0 {
		t.Fatalf("delivered body still pinned until %d", rec.GetPinnedUntilUnix())
	}
	checkInvariants(t, h.s)
}

// TestPinExpiresAndUnpins: a pin past its time, or ended by BlobUnpinned,
// leaves the chunks to the collector.
func TestPinExpiresAndUnpins(t *testing.T) {
	h := newHarness(t)
	chunks := evlog.Chunks([]byte(strings.Repeat("y", 2*evlog.ChunkSize)))
	hash := chunks[0].Hash
	chunks[0].PinnedUntilUnix = 1000
	h.ok(blobStored(chunks[0]))
	collect := func(now int64) {
		h.ok(&evlog.Event{Kind: &evlog.Event_BlobsCollected{BlobsCollected: &evlog.BlobsCollected{
			Hashes: [][]byte{hash}, TouchedBefore: h.index + 1, NowUnix: now}}})
	}
	collect(1000) // the pin's time has come
	if _, err := h.s.BlobInfo(hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired pin kept the body: %v", err)
	}

	h.ok(blobStored(chunks[0]))
	h.ok(&evlog.Event{Kind: &evlog.Event_BlobUnpinned{BlobUnpinned: &evlog.BlobUnpinned{Hash: hash}}})
	if rec, _ := h.s.BlobInfo(hash); rec.GetPinnedUntilUnix() != 0 {
		t.Fatalf("unpinned body pinned until %d", rec.GetPinnedUntilUnix())
	}
	collect(10)
	if _, err := h.s.BlobInfo(hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unpinned body kept: %v", err)
	}
	// Unpinning a body that is gone changes nothing.
	h.ok(&evlog.Event{Kind: &evlog.Event_BlobUnpinned{BlobUnpinned: &evlog.BlobUnpinned{Hash: hash}}})
	checkInvariants(t, h.s)
}
