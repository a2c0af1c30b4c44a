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

// chunksFor is how many chunks a body of size bytes is laid out in
// (log.Chunks): an empty body is one empty chunk.
func chunksFor(size uint64) uint64 {
	n := (size + evlog.ChunkSize - 1) / evlog.ChunkSize
	return max(n, 1)
}

// assembleHeaded stores the body e names from its head, the chunks staged
// under its upload (none for a body that fitted in one chunk) and its own
// data, in that order, re-chunked into ChunkSize pieces: a node streaming
// a message learns the header fields it adds (trace, verdicts, signature)
// only at the end (docs/DESIGN.md, "decisions made before the proposal").
// The name is log.HeadedName(head, SHA-256 of the rest), recomputed here.
func (t *txn) assembleHeaded(e *evlog.BlobStored) (*evlog.EventResult, error) {
	head, data, hash := e.GetHead(), e.GetData(), e.GetHash()
	id, n := e.GetUploadId(), e.GetStagedChunks()
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	if len(head) > evlog.MaxHead {
		return nil, refuse(errInvalid, "head of %d bytes, more than %d", len(head), evlog.MaxHead)
	}
	if len(data) > evlog.ChunkSize {
		return nil, refuse(errInvalid, "last piece of %d bytes, more than a chunk", len(data))
	}
	if n > evlog.MaxStagedChunks {
		return nil, refuse(errInvalid, "%d staged chunks past the bound of %d", n, evlog.MaxStagedChunks)
	}
	size := uint64(len(head)) + uint64(n)*evlog.ChunkSize + uint64(len(data))
	if e.GetSize() != size || uint64(e.GetChunks()) != chunksFor(size) || e.GetChunk() != n {
		return nil, refuse(errInvalid, "headed body of %d bytes in %d chunks (chunk %d) does not match its head, %d staged chunks and last piece", e.GetSize(), e.GetChunks(), e.GetChunk(), n)
	}
	if n > 0 {
		if err := checkUploadID(id); err != nil {
			return nil, err
		}
		up := new(evlog.UploadRecord)
		ok, err := t.getRecord(uploadKey(id), up)
		if err != nil {
			return nil, err
		}
		if !ok || up.GetChunks() != n {
			return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "upload %x has %d of %d chunks staged", id, up.GetChunks(), n)
		}
	} else if len(id) > 0 {
		return nil, refuse(errInvalid, "upload %x named with no staged chunks", id)
	}
	// The rest is hashed in place, one staged chunk at a time.
	rest := sha256.New()
	if err := t.scanStaged(id, n, func(v []byte) error { rest.Write(v); return nil }); err != nil {
		return nil, err
	}
	rest.Write(data)
	if name := evlog.HeadedName(head, rest.Sum(nil)); !bytes.Equal(name, hash) {
		return nil, refuse(errInvalid, "headed body hashes to %x, not %x", name, hash)
	}

	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return nil, err
	}
	if ok && (rec.GetSize() != size || uint64(rec.GetChunks()) != chunksFor(size)) {
		return nil, refuse(errInvalid, "blob %x is %d bytes in %d chunks, not %d", hash, rec.GetSize(), rec.GetChunks(), size)
	}
	if !ok {
		rec = &evlog.BlobRecord{Size: size, Chunks: uint32(chunksFor(size))}
	}
	if rec.GetStored() < rec.GetChunks() {
		w := newChunkWriter(t, hash, size)
		if err := w.write(head); err != nil {
			return nil, err
		}
		if err := t.scanStaged(id, n, func(v []byte) error { return w.write(v) }); err != nil {
			return nil, err
		}
		if err := w.write(data); err != nil {
			return nil, err
		}
		if err := w.flush(); err != nil {
			return nil, err
		}
		rec.Stored = rec.Chunks
	}
	rec.TouchedIndex = t.index
	pin(rec, e.GetPinnedUntilUnix())
	if n > 0 {
		if err := t.deleteUpload(id); err != nil {
			return nil, err
		}
	}
	return nil, t.putRecord(blobKey(hash), rec)
}

// scanStaged calls fn with each of an upload's n staged chunks in order,
// refusing a gap.
func (t *txn) scanStaged(id []byte, n uint32, fn func(v []byte) error) error {
	if n == 0 {
		return nil
	}
	var count uint32
	err := scanRange(t.b, stagedPrefix(id), prefixEnd(stagedPrefix(id)), func(k, v []byte) (bool, error) {
		if !bytes.Equal(k, stagedKey(id, count)) {
			return false, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "upload %x lacks chunk %d", id, count)
		}
		count++
		return true, fn(v)
	})
	if err != nil {
		return err
	}
	if count != n {
		return refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "upload %x has %d of %d chunks staged", id, count, n)
	}
	return nil
}

// chunkWriter lays bytes written to it out as a body's chunks (chunk i
// holds bytes [i*ChunkSize, (i+1)*ChunkSize)), holding one chunk at a time,
// each buffer no larger than what is left of the body: most messages are a
// few KiB, and this runs for each on every node.
type chunkWriter struct {
	t    *txn
	hash []byte
	buf  []byte
	next uint32
	left uint64 // bytes of the body not yet buffered
}

func newChunkWriter(t *txn, hash []byte, size uint64) *chunkWriter {
	w := &chunkWriter{t: t, hash: hash, left: size}
	w.grow()
	return w
}

// grow starts the next chunk's buffer.
func (w *chunkWriter) grow() {
	n := min(w.left, evlog.ChunkSize)
	w.buf = make([]byte, 0, n)
	w.left -= n
}

func (w *chunkWriter) write(p []byte) error {
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if w.left == 0 {
				return fmt.Errorf("headed body longer than its stated size")
			}
			if err := w.flush(); err != nil {
				return err
			}
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf, p = w.buf[:len(w.buf)+n], p[n:]
	}
	return nil
}

// flush stores what is buffered as the next chunk. The last chunk is
// flushed by the caller, so that a body that is a whole number of chunks
// long does not end with an empty one.
func (w *chunkWriter) flush() error {
	if err := w.t.put(chunkKey(w.hash, w.next), w.buf); err != nil {
		return err
	}
	w.next++
	w.grow()
	return nil
}

// storeCopy stores a second copy of a body with other header fields
// (BlobStored.copy_of): recipients of one message whose checks decided
// differently (a per-user spam verdict) each get their own fields, so the
// SMTP server proposes one BlobStored per group, the first as streamed,
// the others as copies of it, in the same proposal. The copy is e's head,
// then copy_of's body from copy_skip on, re-chunked; its name is
// log.HeadedName(head, SHA-256 of that rest), recomputed here. A copy
// already stored is kept (and checked again, reading copy_of).
func (t *txn) storeCopy(e *evlog.BlobStored) (*evlog.EventResult, error) {
	hash, of, skip := e.GetHash(), e.GetCopyOf(), e.GetCopySkip()
	if err := checkHash(of); err != nil {
		return nil, err
	}
	src, ok, err := t.loadBlob(of)
	if err != nil {
		return nil, err
	}
	if !ok || src.GetStored() < src.GetChunks() {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "copy of %x, which is not stored", of)
	}
	if err := checkCopyLayout(e, src.GetSize()); err != nil { // validate.go
		return nil, err
	}
	size := e.GetSize()
	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return nil, err
	}
	if ok && (rec.GetSize() != size || uint64(rec.GetChunks()) != chunksFor(size)) {
		return nil, refuse(errInvalid, "blob %x is %d bytes in %d chunks, not %d", hash, rec.GetSize(), rec.GetChunks(), size)
	}
	if !ok {
		rec = &evlog.BlobRecord{Size: size, Chunks: uint32(chunksFor(size))}
	}
	// One pass over copy_of's rest: hashed, and written when the copy is
	// not stored yet (a refusal below discards the writes with the rest of
	// the proposal).
	var w *chunkWriter
	if rec.GetStored() < rec.GetChunks() {
		w = newChunkWriter(t, hash, size)
		if err := w.write(e.GetHead()); err != nil {
			return nil, err
		}
	}
	rest := sha256.New()
	first := uint32(skip / evlog.ChunkSize)
	next, at := first, uint64(first)*evlog.ChunkSize
	err = scanRange(t.b, chunkKey(of, first), prefixEnd(chunkPrefix(of)), func(k, v []byte) (bool, error) {
		if !bytes.Equal(k, chunkKey(of, next)) {
			return false, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "body %x lacks chunk %d", of, next)
		}
		part := v
		if at < skip {
			part = v[min(uint64(len(v)), skip-at):]
		}
		at += uint64(len(v))
		next++
		rest.Write(part)
		if w != nil {
			return true, w.write(part)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if at != src.GetSize() || next != src.GetChunks() {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "body %x reads %d bytes in %d chunks, not %d in %d", of, at, next, src.GetSize(), src.GetChunks())
	}
	if name := evlog.HeadedName(e.GetHead(), rest.Sum(nil)); !bytes.Equal(name, hash) {
		return nil, refuse(errInvalid, "copy of %x hashes to %x, not %x", of, name, hash)
	}
	if w != nil {
		if err := w.flush(); err != nil {
			return nil, err
		}
		rec.Stored = rec.Chunks
	}
	rec.TouchedIndex = t.index
	pin(rec, e.GetPinnedUntilUnix())
	return nil, t.putRecord(blobKey(hash), rec)
}
