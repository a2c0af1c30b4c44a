package mailbox

import (
	"fmt"
	"unicode/utf8"

	evlog "github.com/surat-mail/surat/log"
)

// The outbound queue (see the package doc): one QueueRecord per entry
// under "que/", and one "qdu/" key per entry ordered by next attempt time.

const (
	notifyNever   = 1
	notifyAllBits = 1 | 2 | 4 | 8
	// maxQueueText bounds a stored reply or reason; a remote reply is at
	// most a few lines (RFC 5321 §4.5.3.1.5: 512 octets per line).
	maxQueueText = 4096
)

var errNoSuchQueueEntry = evlog.ErrorCode_ERROR_CODE_NO_SUCH_QUEUE_ENTRY

func checkQueueID(id []byte) error {
	if len(id) != queueIDLen {
		return refuse(errInvalid, "queue id of %d bytes, want %d", len(id), queueIDLen)
	}
	return nil
}

func checkTime(what string, t int64) error {
	if t < 0 {
		return refuse(errInvalid, "%s %d is before the epoch", what, t)
	}
	return nil
}

// clip keeps stored text bounded without refusing the event: a long
// remote reply must not make an outcome impossible to record. It cuts
// before a character, never inside one: records hold UTF-8 (protobuf
// strings), and a cut character made the record impossible to encode.
func clip(s string) string {
	if len(s) <= maxQueueText {
		return s
	}
	cut := maxQueueText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func (t *txn) loadQueueEntry(id []byte) (*evlog.QueueRecord, error) {
	if err := checkQueueID(id); err != nil {
		return nil, err
	}
	rec := new(evlog.QueueRecord)
	ok, err := t.getRecord(queueKey(id), rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(errNoSuchQueueEntry, "queue entry %x does not exist", id)
	}
	return rec, nil
}

// scheduleQueueEntry moves rec's due index to next; the caller saves rec.
func (t *txn) scheduleQueueEntry(rec *evlog.QueueRecord, next int64) error {
	if err := t.del(queueDueKey(rec.GetNextAttemptUnix(), rec.GetId())); err != nil {
		return err
	}
	rec.NextAttemptUnix = next
	return t.put(queueDueKey(next, rec.GetId()), nil)
}

// removeQueueEntry drops the entry, its due index and its body reference,
// and takes its size off its submitter's queued bytes.
func (t *txn) removeQueueEntry(rec *evlog.QueueRecord) error {
	if err := t.del(queueDueKey(rec.GetNextAttemptUnix(), rec.GetId())); err != nil {
		return err
	}
	if err := t.releaseQueued(rec); err != nil {
		return err
	}
	if err := t.derefBlob(rec.GetBlob()); err != nil {
		return err
	}
	return t.del(queueKey(rec.GetId()))
}

// saveOrFinish saves rec, or removes it once every recipient is final.
func (t *txn) saveOrFinish(rec *evlog.QueueRecord) error {
	for _, r := range rec.GetRecipients() {
		if r.GetStatus() == evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_PENDING {
			return t.putRecord(queueKey(rec.GetId()), rec)
		}
	}
	return t.removeQueueEntry(rec)
}

// queueRecipients resolves the names an outcome event lists to the entry's
// recipients. A name the entry does not have is invalid.
func queueRecipients(rec *evlog.QueueRecord, names []string) ([]*evlog.QueueRecipientState, error) {
	if len(names) == 0 {
		return nil, refuse(errInvalid, "queue outcome without recipients")
	}
	out := make([]*evlog.QueueRecipientState, 0, len(names))
	for _, n := range names {
		var found *evlog.QueueRecipientState
		for _, r := range rec.GetRecipients() {
			if r.GetAddress() == n {
				found = r
				break
			}
		}
		if found == nil {
			return nil, refuse(errInvalid, "queue entry %x has no recipient %q", rec.GetId(), n)
		}
		out = append(out, found)
	}
	return out, nil
}

func pending(r *evlog.QueueRecipientState) bool {
	return r.GetStatus() == evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_PENDING
}

func (t *txn) queued(e *evlog.Queued) (*evlog.EventResult, error) {
	if err := checkQueueID(e.GetId()); err != nil {
		return nil, err
	}
	if err := checkTime("queued time", e.GetQueuedUnix()); err != nil {
		return nil, err
	}
	if e.GetExpiresUnix() < e.GetQueuedUnix() {
		return nil, refuse(errInvalid, "queue entry expires (%d) before it is queued (%d)", e.GetExpiresUnix(), e.GetQueuedUnix())
	}
	if e.GetMailFrom() != "" {
		if err := checkAddress("sender", e.GetMailFrom()); err != nil {
			return nil, err
		}
	}
	if e.GetRet() < evlog.DsnReturn_DSN_RETURN_UNSPECIFIED || e.GetRet() > evlog.DsnReturn_DSN_RETURN_HEADERS {
		return nil, refuse(errInvalid, "RET %v", e.GetRet())
	}
	if hasControl(e.GetEnvid()) || len(e.GetEnvid()) > 100 {
		return nil, refuse(errInvalid, "ENVID %q", e.GetEnvid()) // RFC 3461 §4.4: at most 100 characters
	}
	if len(e.GetRecipients()) == 0 {
		return nil, refuse(errInvalid, "queue entry without recipients")
	}
	seen := map[string]bool{} // lookups only
	states := make([]*evlog.QueueRecipientState, 0, len(e.GetRecipients()))
	for _, r := range e.GetRecipients() {
		if err := checkAddress("recipient", r.GetAddress()); err != nil {
			return nil, err
		}
		if seen[r.GetAddress()] {
			return nil, refuse(errInvalid, "recipient %q queued twice", r.GetAddress())
		}
		seen[r.GetAddress()] = true
		// RFC 3461 §4.1: NEVER excludes the other values.
		if n := r.GetNotify(); n&^notifyAllBits != 0 || n&notifyNever != 0 && n != notifyNever {
			return nil, refuse(errInvalid, "NOTIFY bits %#x", n)
		}
		if hasControl(r.GetOrcpt()) || len(r.GetOrcpt()) > 500 {
			return nil, refuse(errInvalid, "ORCPT %q", r.GetOrcpt())
		}
		states = append(states, &evlog.QueueRecipientState{Address: r.GetAddress(), Notify: r.GetNotify(), Orcpt: r.GetOrcpt()})
	}
	exists, err := t.has(queueKey(e.GetId()))
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_QUEUE_ENTRY_EXISTS, "queue entry %x exists", e.GetId())
	}
	if err := t.countQueued(e); err != nil { // sendlimits.go
		return nil, err
	}
	if err := t.completeBlob(e.GetBlob(), e.GetSize()); err != nil {
		return nil, err
	}
	if err := t.refBlob(e.GetBlob()); err != nil {
		return nil, err
	}
	rec := &evlog.QueueRecord{
		Id: e.GetId(), Blob: e.GetBlob(), Size: e.GetSize(), MailFrom: e.GetMailFrom(),
		Recipients: states, Envid: e.GetEnvid(), Ret: e.GetRet(),
		QueuedUnix: e.GetQueuedUnix(), ExpiresUnix: e.GetExpiresUnix(), Submitter: clip(e.GetSubmitter()),
		NextAttemptUnix: e.GetQueuedUnix(), RequireTls: e.GetRequireTls(),
	}
	if err := t.put(queueDueKey(rec.GetNextAttemptUnix(), rec.GetId()), nil); err != nil {
		return nil, err
	}
	return nil, t.putRecord(queueKey(rec.GetId()), rec)
}

func (t *txn) attemptFailed(e *evlog.AttemptFailed) (*evlog.EventResult, error) {
	rec, err := t.loadQueueEntry(e.GetId())
	if err != nil {
		return nil, err
	}
	if err := checkTime("attempt time", e.GetAttemptedUnix()); err != nil {
		return nil, err
	}
	if err := checkTime("next attempt time", e.GetNextAttemptUnix()); err != nil {
		return nil, err
	}
	rcpts, err := queueRecipients(rec, e.GetRecipients())
	if err != nil {
		return nil, err
	}
	reason := clip(e.GetReason())
	for _, r := range rcpts {
		if pending(r) {
			r.Reply = reason
		}
	}
	rec.Attempts++
	rec.LastAttemptUnix = e.GetAttemptedUnix()
	rec.LastReply = reason
	if err := t.scheduleQueueEntry(rec, e.GetNextAttemptUnix()); err != nil {
		return nil, err
	}
	return nil, t.putRecord(queueKey(rec.GetId()), rec)
}

func (t *txn) sent(e *evlog.Sent) (*evlog.EventResult, error) {
	rec, err := t.loadQueueEntry(e.GetId())
	if err != nil {
		return nil, err
	}
	rcpts, err := queueRecipients(rec, e.GetRecipients())
	if err != nil {
		return nil, err
	}
	reply := clip(e.GetReply())
	for _, r := range rcpts {
		if pending(r) {
			r.Status = evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_SENT
			r.Reply = reply
		}
	}
	rec.LastAttemptUnix = e.GetSentUnix()
	rec.LastReply = reply
	return nil, t.saveOrFinish(rec)
}

func (t *txn) bounced(e *evlog.Bounced) (*evlog.EventResult, error) {
	rec, err := t.loadQueueEntry(e.GetId())
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(e.GetRecipients()))
	for _, b := range e.GetRecipients() {
		names = append(names, b.GetAddress())
	}
	rcpts, err := queueRecipients(rec, names)
	if err != nil {
		return nil, err
	}
	for i, r := range rcpts {
		if pending(r) {
			r.Status = evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_BOUNCED
			r.Reply = clip(e.GetRecipients()[i].GetDiagnostic())
			rec.LastReply = r.GetReply()
		}
	}
	rec.LastAttemptUnix = e.GetBouncedUnix()
	return nil, t.saveOrFinish(rec)
}

func (t *txn) queueRetried(e *evlog.QueueRetried) (*evlog.EventResult, error) {
	rec, err := t.loadQueueEntry(e.GetId())
	if err != nil {
		return nil, err
	}
	if err := checkTime("next attempt time", e.GetNextAttemptUnix()); err != nil {
		return nil, err
	}
	if err := t.scheduleQueueEntry(rec, e.GetNextAttemptUnix()); err != nil {
		return nil, err
	}
	return nil, t.putRecord(queueKey(rec.GetId()), rec)
}

func (t *txn) queueDeleted(e *evlog.QueueDeleted) (*evlog.EventResult, error) {
	rec, err := t.loadQueueEntry(e.GetId())
	if err != nil {
		return nil, err
	}
	if err := t.removeQueueEntry(rec); err != nil {
		return nil, fmt.Errorf("delete queue entry %x: %w", e.GetId(), err)
	}
	return nil, nil
}
