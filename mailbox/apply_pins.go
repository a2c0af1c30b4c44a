package mailbox

import (
	evlog "github.com/surat-mail/surat/log"
)

// Pins keep the chunks of an upload in progress from BlobsCollected. A
// body's touched_index protects it only while the log has not moved
// CollectDistance entries past its last chunk: under load the log moves
// that far within one upload, and a collection then deletes the first
// chunks of a message whose last chunk has not arrived; its delivery is
// refused (NO_SUCH_BLOB) after the client sent it whole. So every chunk of
// a multi-chunk upload carries pinned_until_unix (the uploading node's
// clock plus the time the upload may still take), and a collection, which
// carries the collector's clock, keeps a body pinned past it. Apply reads
// no clock: both times are in the log (docs/DESIGN.md invariant 2).
//
// The pin ends when the body is referenced (the Delivered or Queued in the
// upload's last proposal), when the upload is given up (BlobUnpinned), or
// when its time passes (the uploading node died). A pin is the body's, not
// one upload's: two uploads of the same bytes share it, and the first to
// end it leaves the other to its touched_index until its next chunk pins
// the body again. Bodies SMTP stores never share bytes (the Received field
// carries a fresh id).

// pin extends rec's pin to until (0: no change).
func pin(rec *evlog.BlobRecord, until int64) {
	if until > rec.GetPinnedUntilUnix() {
		rec.PinnedUntilUnix = until
	}
}

// pinnedAt reports whether rec is pinned at now (the collector's clock;
// 0 from a collector older than pins: every pin holds).
func pinnedAt(rec *evlog.BlobRecord, now int64) bool {
	until := rec.GetPinnedUntilUnix()
	return until != 0 && (now == 0 || until > now)
}

// blobUnpinned ends a body's pin; a body that is gone or not pinned is
// left as it is.
func (t *txn) blobUnpinned(e *evlog.BlobUnpinned) (*evlog.EventResult, error) {
	if err := checkHash(e.GetHash()); err != nil {
		return nil, err
	}
	rec, ok, err := t.loadBlob(e.GetHash())
	if err != nil || !ok || rec.GetPinnedUntilUnix() == 0 {
		return nil, err
	}
	rec.PinnedUntilUnix = 0
	return nil, t.putRecord(blobKey(e.GetHash()), rec)
}
