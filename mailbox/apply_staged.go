package mailbox

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	evlog "github.com/surat-mail/surat/log"
)

// Staged uploads let a front end propose a body's chunks while it is still
// receiving it, before its name (the SHA-256 of the whole body) is known:
// each ChunkStaged stores one full chunk under the upload's random id
// (stg/), counted in its UploadRecord (upl/). The BlobStored that ends the
// upload carries the body's last chunk and names the upload; apply reads
// the staged chunks in order, checks size and SHA-256 against the name,
// moves them under chk/ (or, when the body is already stored, drops them)
// and deletes the upload, in the same proposal as the Delivered or Queued
// that references the body. An upload that never ends is deleted by a
// BlobsCollected that names it (abandoned by its session) or whose
// expired_uploads_before_unix passes its pin (its session died). Apply
// reads no clock: both times are in the log (docs/DESIGN.md invariant 2).

// checkUploadID validates an upload id.
func checkUploadID(id []byte) error {
	if len(id) != uploadIDLen {
		return refuse(errInvalid, "upload id of %d bytes, want %d", len(id), uploadIDLen)
	}
	return nil
}

// chunkStaged stores one full chunk of an upload in progress.
func (t *txn) chunkStaged(e *evlog.ChunkStaged) (*evlog.EventResult, error) {
	id, chunk := e.GetUploadId(), e.GetChunk()
	if err := checkUploadID(id); err != nil {
		return nil, err
	}
	// docs/DESIGN.md invariant 4: bounded chunks, bounded uploads.
	if len(e.GetData()) != evlog.ChunkSize {
		return nil, refuse(errInvalid, "staged chunk of %d bytes, want %d", len(e.GetData()), evlog.ChunkSize)
	}
	if chunk >= evlog.MaxStagedChunks {
		return nil, refuse(errInvalid, "staged chunk %d past the bound of %d", chunk, evlog.MaxStagedChunks)
	}
	rec := new(evlog.UploadRecord)
	if _, err := t.getRecord(uploadKey(id), rec); err != nil {
		return nil, err
	}
	have, err := t.has(stagedKey(id, chunk))
	if err != nil {
		return nil, err
	}
	if !have {
		rec.Chunks++
		rec.Size += evlog.ChunkSize
	}
	if until := e.GetPinnedUntilUnix(); until > rec.GetPinnedUntilUnix() {
		rec.PinnedUntilUnix = until
	}
	if err := t.put(stagedKey(id, chunk), e.GetData()); err != nil {
		return nil, err
	}
	return nil, t.putRecord(uploadKey(id), rec)
}

// assembleUpload stores the body e names from the chunks staged under its
// upload and its own data, the last chunk. The caller has checked e's
// layout (chunk, chunks, size, the last chunk's length).
func (t *txn) assembleUpload(e *evlog.BlobStored) (*evlog.EventResult, error) {
	id, hash, n := e.GetUploadId(), e.GetHash(), e.GetStagedChunks()
	if err := checkUploadID(id); err != nil {
		return nil, err
	}
	if e.GetChunk() != n || e.GetChunks() != n+1 {
		return nil, refuse(errInvalid, "upload of %d staged chunks ends with chunk %d of %d", n, e.GetChunk(), e.GetChunks())
	}
	up := new(evlog.UploadRecord)
	ok, err := t.getRecord(uploadKey(id), up)
	if err != nil {
		return nil, err
	}
	if n > 0 && (!ok || up.GetChunks() != n) {
		// Expired or abandoned meanwhile, or a chunk never committed.
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "upload %x has %d of %d chunks staged", id, up.GetChunks(), n)
	}
	// Hashed in place, without copying: a body may be tens of MiB.
	h := sha256.New()
	var count uint32
	err = scanRange(t.b, stagedPrefix(id), prefixEnd(stagedPrefix(id)), func(k, v []byte) (bool, error) {
		if !bytes.Equal(k, stagedKey(id, count)) {
			return false, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "upload %x lacks chunk %d", id, count)
		}
		h.Write(v)
		count++
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if count != n {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "upload %x has %d of %d chunks staged", id, count, n)
	}
	h.Write(e.GetData())
	if sum := h.Sum(nil); !bytes.Equal(sum, hash) {
		return nil, refuse(errInvalid, "upload %x hashes to %x, not %x", id, sum, hash)
	}

	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return nil, err
	}
	if ok && (rec.GetSize() != e.GetSize() || rec.GetChunks() != e.GetChunks()) {
		return nil, refuse(errInvalid, "blob %x is %d bytes in %d chunks, not %d in %d", hash, rec.GetSize(), rec.GetChunks(), e.GetSize(), e.GetChunks())
	}
	if !ok {
		rec = &evlog.BlobRecord{Size: e.GetSize(), Chunks: e.GetChunks()}
	}
	if rec.GetStored() < rec.GetChunks() {
		// Verified above: every chunk is written (again, for a body
		// whose earlier upload stopped part way), one at a time.
		for i := range n {
			v, _, err := t.get(stagedKey(id, i))
			if err != nil {
				return nil, err
			}
			if err := t.put(chunkKey(hash, i), v); err != nil {
				return nil, err
			}
		}
		if err := t.put(chunkKey(hash, n), e.GetData()); err != nil {
			return nil, err
		}
		rec.Stored = rec.Chunks
	}
	rec.TouchedIndex = t.index
	pin(rec, e.GetPinnedUntilUnix())
	if err := t.deleteUpload(id); err != nil {
		return nil, err
	}
	return nil, t.putRecord(blobKey(hash), rec)
}

// deleteUpload deletes an upload and its staged chunks.
func (t *txn) deleteUpload(id []byte) error {
	if err := t.deletePrefix(stagedPrefix(id)); err != nil {
		return err
	}
	return t.del(uploadKey(id))
}

// collectUploads deletes the uploads a BlobsCollected names as abandoned
// and those pinned until before its expired_uploads_before_unix.
func (t *txn) collectUploads(e *evlog.BlobsCollected) error {
	for _, id := range e.GetAbandonedUploads() {
		if err := checkUploadID(id); err != nil {
			return err
		}
		if err := t.deleteUpload(id); err != nil {
			return err
		}
	}
	before := e.GetExpiredUploadsBeforeUnix()
	if before == 0 {
		return nil
	}
	uploads, err := t.scan([]byte(prefixUpload), prefixEnd([]byte(prefixUpload)))
	if err != nil {
		return err
	}
	for _, u := range uploads {
		rec := new(evlog.UploadRecord)
		if err := evlog.UnmarshalRecord(u.value, rec); err != nil {
			return fmt.Errorf("decode upload %x: %w", u.key, err)
		}
		if rec.GetPinnedUntilUnix() < before {
			if err := t.deleteUpload(u.key[prefixLen:]); err != nil {
				return err
			}
		}
	}
	return nil
}
