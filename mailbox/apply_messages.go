package mailbox

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// bump gives mb its modseq for the current event: incremented the first
// time the event changes mb, the same value after that (RFC 7162 §3.1).
func (t *txn) bump(mb *evlog.MailboxRecord) uint64 {
	if m, ok := t.bumped[mb.GetId()]; ok {
		return m
	}
	mb.HighestModseq++
	t.bumped[mb.GetId()] = mb.HighestModseq
	return mb.HighestModseq
}

func (t *txn) saveUser(u *evlog.UserRecord) error {
	return t.putRecord(userKey(u.GetAddress()), u)
}

func (t *txn) loadBlob(hash []byte) (*evlog.BlobRecord, bool, error) {
	rec := new(evlog.BlobRecord)
	ok, err := t.getRecord(blobKey(hash), rec)
	return rec, ok, err
}

// completeBlob returns the blob a message may reference: all chunks stored
// and the size as the event says.
func (t *txn) completeBlob(hash []byte, size uint64) error {
	if err := checkHash(hash); err != nil {
		return err
	}
	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return err
	}
	if !ok || rec.GetStored() < rec.GetChunks() {
		return refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB, "blob %x is not stored", hash)
	}
	if rec.GetSize() != size {
		return refuse(errInvalid, "blob %x has %d bytes, event says %d", hash, rec.GetSize(), size)
	}
	return nil
}

func (t *txn) refBlob(hash []byte) error {
	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("reference to missing blob %x", hash)
	}
	rec.Refs++
	rec.PinnedUntilUnix = 0 // the upload is done (apply_pins.go)
	return t.putRecord(blobKey(hash), rec)
}

// derefBlob drops one reference; a body nobody references stays until a
// BlobsCollected event names it.
func (t *txn) derefBlob(hash []byte) error {
	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return err
	}
	if !ok || rec.GetRefs() == 0 {
		return fmt.Errorf("dereference of unreferenced blob %x", hash)
	}
	rec.Refs--
	rec.TouchedIndex = t.index
	return t.putRecord(blobKey(hash), rec)
}

// insertMessage files rec into mb with the next UID and the event's
// modseq, referencing its body and charging u. The caller saves mb and u.
func (t *txn) insertMessage(mb *evlog.MailboxRecord, u *evlog.UserRecord, rec *evlog.MessageRecord) (uint32, error) {
	uid := mb.GetUidNext()
	if uid == 0 || uid == ^uint32(0) {
		// RFC 9051 §2.3.1.1: UIDs are 32-bit; a new UIDVALIDITY would be
		// needed to go on.
		return 0, refuse(evlog.ErrorCode_ERROR_CODE_FORBIDDEN, "mailbox %d has no UIDs left", mb.GetId())
	}
	mb.UidNext++
	rec.Modseq = t.bump(mb)
	mb.Messages++
	mb.Size += rec.GetSize()
	chargeUsage(u, rec.GetSize())
	if err := t.refBlob(rec.GetBlob()); err != nil {
		return 0, err
	}
	return uid, t.putRecord(messageKey(mb.GetId(), uid), rec)
}

// removeMessage expunges one message. The caller saves mb and u.
func (t *txn) removeMessage(mb *evlog.MailboxRecord, u *evlog.UserRecord, m message) error {
	if mb.GetMessages() == 0 || mb.GetSize() < m.rec.GetSize() {
		return fmt.Errorf("mailbox %d counts disagree with message %d", mb.GetId(), m.uid)
	}
	t.bump(mb)
	mb.Messages--
	mb.Size -= m.rec.GetSize()
	if err := subtractUsage(u, m.rec.GetSize()); err != nil {
		return err
	}
	if err := t.derefBlob(m.rec.GetBlob()); err != nil {
		return err
	}
	return t.del(messageKey(mb.GetId(), m.uid))
}

type message struct {
	uid uint32
	rec *evlog.MessageRecord
}

// messagesIn returns the existing messages in spans, in UID order. It
// scans the key range of each span, so a range like 1:4294967295 costs
// only the messages that exist.
func (t *txn) messagesIn(mailboxID uint64, spans []uidSpan) ([]message, error) {
	var out []message
	for _, s := range spans {
		entries, err := t.scan(messageKey(mailboxID, s.first), keyAfter(messageKey(mailboxID, s.last)))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			uid, err := parseMessageKey(e.key)
			if err != nil {
				return nil, err
			}
			rec := new(evlog.MessageRecord)
			if err := evlog.UnmarshalRecord(e.value, rec); err != nil {
				return nil, fmt.Errorf("decode message %d/%d: %w", mailboxID, uid, err)
			}
			out = append(out, message{uid, rec})
		}
	}
	return out, nil
}

func uidsOf(msgs []message) []uint32 {
	out := make([]uint32, len(msgs))
	for i, m := range msgs {
		out[i] = m.uid
	}
	return out
}

// blobStored stores one chunk of a body (docs/DESIGN.md, invariant 4). Chunks
// must be laid out as log.Chunks lays them out.
func (t *txn) blobStored(e *evlog.BlobStored) (*evlog.EventResult, error) {
	hash := e.GetHash()
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	if len(e.GetCopyOf()) > 0 {
		return t.storeCopy(e) // apply_staged.go
	}
	if len(e.GetHead()) > 0 {
		return t.assembleHeaded(e) // apply_staged.go
	}
	size, chunks, chunk := e.GetSize(), e.GetChunks(), e.GetChunk()
	want := size / evlog.ChunkSize
	if size%evlog.ChunkSize != 0 || size == 0 {
		want++
	}
	if uint64(chunks) != want || chunk >= chunks {
		return nil, refuse(errInvalid, "chunk %d of %d for a body of %d bytes (want %d chunks)", chunk, chunks, size, want)
	}
	wantLen := uint64(evlog.ChunkSize)
	if chunk == chunks-1 {
		wantLen = size - uint64(chunks-1)*evlog.ChunkSize
	}
	if uint64(len(e.GetData())) != wantLen {
		return nil, refuse(errInvalid, "chunk %d has %d bytes, want %d", chunk, len(e.GetData()), wantLen)
	}
	if len(e.GetUploadId()) > 0 || e.GetStagedChunks() > 0 {
		return t.assembleUpload(e) // apply_staged.go
	}
	rec, ok, err := t.loadBlob(hash)
	if err != nil {
		return nil, err
	}
	if !ok {
		rec = &evlog.BlobRecord{Size: size, Chunks: chunks}
	} else if rec.GetSize() != size || rec.GetChunks() != chunks {
		return nil, refuse(errInvalid, "blob %x is %d bytes in %d chunks, not %d in %d", hash, rec.GetSize(), rec.GetChunks(), size, chunks)
	}
	rec.TouchedIndex = t.index
	pin(rec, e.GetPinnedUntilUnix())
	have, err := t.has(chunkKey(hash, chunk))
	if err != nil {
		return nil, err
	}
	if !have {
		if err := t.put(chunkKey(hash, chunk), e.GetData()); err != nil {
			return nil, err
		}
		rec.Stored++
		if rec.Stored == rec.Chunks {
			if err := t.verifyBlob(hash); err != nil {
				return nil, err
			}
		}
	}
	return nil, t.putRecord(blobKey(hash), rec)
}

// verifyBlob checks a complete body against its name.
func (t *txn) verifyBlob(hash []byte) error {
	h := sha256.New()
	err := scanRange(t.b, chunkPrefix(hash), prefixEnd(chunkPrefix(hash)), func(_, v []byte) (bool, error) {
		h.Write(v)
		return true, nil
	})
	if err != nil {
		return err
	}
	if sum := h.Sum(nil); !bytes.Equal(sum, hash) {
		return refuse(errInvalid, "body named %x hashes to %x", hash, sum)
	}
	return nil
}

func (t *txn) blobsCollected(e *evlog.BlobsCollected) (*evlog.EventResult, error) {
	if err := t.collectUploads(e); err != nil { // apply_staged.go
		return nil, err
	}
	for _, hash := range e.GetHashes() {
		if err := checkHash(hash); err != nil {
			return nil, err
		}
		rec, ok, err := t.loadBlob(hash)
		if err != nil {
			return nil, err
		}
		if !ok || rec.GetRefs() > 0 {
			continue // referenced again since the proposer looked: keep it
		}
		if tb := e.GetTouchedBefore(); tb > 0 && rec.GetTouchedIndex() >= tb {
			continue // stored again since the proposer looked: keep it
		}
		if pinnedAt(rec, e.GetNowUnix()) {
			continue // an upload in progress (apply_pins.go)
		}
		if err := t.deletePrefix(chunkPrefix(hash)); err != nil {
			return nil, err
		}
		if err := t.del(blobKey(hash)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// delivered files one body into each recipient's mailbox. Recipients it
// cannot deliver to are reported with their reason and, when the message
// is accepted for someone, queued for a DSN (see the package doc).
func (t *txn) delivered(e *evlog.Delivered) (*evlog.EventResult, error) {
	if err := t.completeBlob(e.GetBlob(), e.GetSize()); err != nil {
		return nil, err
	}
	if len(e.GetRecipients()) == 0 {
		return nil, refuse(errInvalid, "delivery without recipients")
	}
	flags, err := canonicalFlags(e.GetFlags())
	if err != nil {
		return nil, err
	}
	res := &evlog.EventResult{}
	skip := func(address string, reason evlog.ErrorCode) {
		res.Skipped = append(res.Skipped, address)
		res.SkippedRecipients = append(res.SkippedRecipients, &evlog.SkippedRecipient{Address: address, Reason: reason})
	}
	for _, r := range e.GetRecipients() {
		u, err := t.loadUser(r.GetAddress())
		if refusedWith(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER) {
			skip(r.GetAddress(), evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER)
			continue
		}
		if err != nil {
			return nil, err
		}
		if OverQuota(u, e.GetSize(), 1) {
			// Each copy counts: a recipient filed twice (Sieve's keep and
			// fileinto) may fit once.
			skip(r.GetAddress(), evlog.ErrorCode_ERROR_CODE_OVER_QUOTA)
			continue
		}
		if r.GetSharedOwner() != "" {
			filed, err := t.fileShared(u.GetAddress(), r, e, flags) // apply_acl.go
			if err != nil {
				return nil, err
			}
			if filed != nil {
				res.Uids = append(res.Uids, filed)
				res.Mailboxes = append(res.Mailboxes, acl.SharedName(r.GetSharedOwner(), r.GetMailbox()))
				continue
			}
			// Not there: the recipient's INBOX, as for a stale filing.
			r = &evlog.Recipient{Address: r.GetAddress(), Flags: r.GetFlags()}
		}
		mb, err := t.deliveryMailbox(u.GetAddress(), r.GetSpecialUse(), r.GetMailbox())
		if err != nil {
			return nil, err
		}
		if r.GetCreate() && mb.GetName() == inboxName {
			if mb, err = t.createFiling(u.GetAddress(), r.GetMailbox(), mb, e); err != nil {
				return nil, err
			}
		}
		uid, err := t.insertMessage(mb, u, &evlog.MessageRecord{
			Blob: e.GetBlob(), Size: e.GetSize(), Flags: recipientFlags(flags, r.GetFlags()),
			InternalDateUnix: e.GetInternalDateUnix(), InternalDateOffset: e.GetInternalDateOffset(),
		})
		if err != nil {
			return nil, err
		}
		if err := t.saveMailbox(mb); err != nil {
			return nil, err
		}
		if err := t.saveUser(u); err != nil {
			return nil, err
		}
		res.Uids = append(res.Uids, &evlog.UidRange{First: uid, Last: uid})
		res.Mailboxes = append(res.Mailboxes, mb.GetName())
		t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Mailbox: mb.GetName(), Address: u.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: MessagesAdded, UIDs: []uint32{uid}})
	}
	if len(res.SkippedRecipients) > 0 && (len(res.Uids) > 0 || e.GetRelayed()) {
		if failed := failedRecipients(e, res.SkippedRecipients); len(failed) > 0 {
			if err := t.queueLocalFailures(e, failed); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// failedRecipients are the skipped recipients that got no copy at all,
// each once: a user filed several times (Sieve's keep and fileinto) who
// got some of its copies before its quota ran out has the message, and
// its sender gets no DSN for it.
func failedRecipients(e *evlog.Delivered, skipped []*evlog.SkippedRecipient) []*evlog.SkippedRecipient {
	copies := map[string]int{} // lookups only
	for _, r := range e.GetRecipients() {
		copies[r.GetAddress()]++
	}
	for _, r := range skipped {
		copies[r.GetAddress()]--
	}
	var out []*evlog.SkippedRecipient
	for _, r := range skipped {
		if copies[r.GetAddress()] == 0 {
			out = append(out, r)
			copies[r.GetAddress()] = -1 // once
		}
	}
	return out
}

// defaultDSNLifetime is how long a DSN to a remote sender is retried when
// the Delivered event does not say: RFC 5321 §4.5.4.1's "at least 4-5
// days", as the outbound queue's own default.
const defaultDSNLifetime = 5 * 24 * 3600

// localFailureReply is the reply and RFC 3463 status a DSN gives for the
// reason a recipient was skipped, as an LMTP server would have answered
// for it (RFC 2033 §4.2): X.2.2 mailbox full, X.1.1 bad destination
// mailbox.
func localFailureReply(reason evlog.ErrorCode) (reply, status string) {
	switch reason {
	case evlog.ErrorCode_ERROR_CODE_OVER_QUOTA:
		return "552 5.2.2 Mailbox full: over quota", "5.2.2"
	case evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER:
		return "550 5.1.1 No such user here", "5.1.1"
	}
	return "550 5.0.0 Not delivered", "5.0.0"
}

// queueLocalFailures puts the skipped recipients of an accepted message in
// the outbound queue, marked local_failure, so that the queue worker
// bounces them with a DSN to the envelope sender (RFC 3464), as an MTA
// does when a local delivery agent refuses a recipient after the message
// was accepted. The null reverse-path gets no DSN (RFC 5321 §4.5.5); a
// return path or ENVID apply would refuse elsewhere is treated as absent
// rather than refusing the delivery. The id is (raft index, proposal,
// event): unique and the same on every node.
func (t *txn) queueLocalFailures(e *evlog.Delivered, skipped []*evlog.SkippedRecipient) error {
	from := e.GetReturnPath()
	if from == "" || checkAddress("sender", from) != nil {
		return nil
	}
	envid := e.GetEnvid()
	if hasControl(envid) || len(envid) > 100 {
		envid = "" // RFC 3461 §4.4
	}
	ret := e.GetRet()
	if ret < evlog.DsnReturn_DSN_RETURN_UNSPECIFIED || ret > evlog.DsnReturn_DSN_RETURN_HEADERS {
		ret = evlog.DsnReturn_DSN_RETURN_UNSPECIFIED
	}
	queued := max(e.GetInternalDateUnix(), 0)
	expires := e.GetExpiresUnix()
	if expires < queued {
		expires = queued + defaultDSNLifetime
	}
	id := binary.BigEndian.AppendUint64(make([]byte, 0, queueIDLen), t.index)
	id = binary.BigEndian.AppendUint32(id, t.proposal)
	id = binary.BigEndian.AppendUint32(id, t.event)
	exists, err := t.has(queueKey(id))
	if err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("queue entry %x for local failures exists", id)
	}
	rec := &evlog.QueueRecord{
		Id: id, Blob: e.GetBlob(), Size: e.GetSize(), MailFrom: from, Envid: envid, Ret: ret,
		QueuedUnix: queued, ExpiresUnix: expires, NextAttemptUnix: queued, LocalFailure: true,
	}
	for _, r := range skipped {
		reply, status := localFailureReply(r.GetReason())
		rec.Recipients = append(rec.Recipients, &evlog.QueueRecipientState{
			Address: r.GetAddress(), Reply: reply, EnhancedStatus: status})
	}
	if err := t.refBlob(e.GetBlob()); err != nil {
		return err
	}
	if err := t.put(queueDueKey(rec.GetNextAttemptUnix(), id), nil); err != nil {
		return err
	}
	return t.putRecord(queueKey(id), rec)
}

// deliveryMailbox is the user's mailbox with the special-use attribute,
// else the named mailbox, else INBOX (when neither is given or exists;
// see the package doc).
func (t *txn) deliveryMailbox(address, specialUse, name string) (*evlog.MailboxRecord, error) {
	if specialUse != "" {
		// RFC 6154: the user's mailbox with that attribute, whatever it
		// is named now (a user may rename Junk).
		var found uint64
		p := mailboxByNamePrefix(address)
		err := scanRange(t.b, p, prefixEnd(p), func(_, v []byte) (bool, error) {
			mb, err := t.loadMailbox(decodeMailboxID(v))
			if err != nil {
				return false, err
			}
			if strings.EqualFold(mb.GetSpecialUse(), specialUse) {
				found = mb.GetId()
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			return nil, err
		}
		if found != 0 {
			return t.loadMailbox(found)
		}
	}
	if canon, err := canonicalMailboxName(name); err == nil {
		// A name that is not valid files into INBOX too (a Sieve script's
		// fileinto names anything).
		id, ok, err := t.mailboxIDByName(address, canon)
		if err != nil {
			return nil, err
		}
		if ok {
			return t.loadMailbox(id)
		}
	}
	id, ok, err := t.mailboxIDByName(address, inboxName)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("user %s has no INBOX", address)
	}
	return t.loadMailbox(id)
}

// createFiling makes the mailbox a Delivered recipient names with create
// (Sieve fileinto :create, RFC 5490 §3.2) when deliveryMailbox found
// neither it nor its special use, and returns it; the name rules are
// CREATE's (RFC 9051 §6.3.4: missing superiors are created too). A name
// that is not valid, is INBOX, is too deep or would take the user past
// the event's mailbox limit is not created: the copy stays in inbox, as
// for a mailbox that does not exist. The UIDVALIDITY hint is the
// message's internal date, the proposer's clock.
func (t *txn) createFiling(address, name string, inbox *evlog.MailboxRecord, e *evlog.Delivered) (*evlog.MailboxRecord, error) {
	canon, err := canonicalMailboxName(name)
	if err != nil || canon == inboxName {
		return inbox, nil
	}
	if _, ok, err := t.mailboxIDByName(address, canon); err != nil || ok {
		return inbox, err // ok: it exists, so deliveryMailbox chose INBOX for its special use
	}
	if checkNameDepth(canon, e.GetMaxNameDepth()) != nil {
		return inbox, nil
	}
	if limit := e.GetMaxMailboxes(); limit > 0 {
		n, err := t.mailboxCount(address, limit)
		if err != nil {
			return nil, err
		}
		missing := uint64(1)
		for i := 0; i < len(canon); i++ {
			if canon[i] != '/' {
				continue
			}
			if _, ok, err := t.mailboxIDByName(address, canon[:i]); err != nil {
				return nil, err
			} else if !ok {
				missing++
			}
		}
		if n+missing > uint64(limit) {
			return inbox, nil
		}
	}
	hint := uint32(min(max(e.GetInternalDateUnix(), 0), int64(^uint32(0))))
	if err := t.ensureParents(address, canon, hint); err != nil {
		return nil, err
	}
	return t.newMailbox(address, canon, "", hint)
}

// recipientFlags are a copy's flags: the event's (canonical already) and
// the recipient's own (Sieve imap4flags, RFC 5232). A recipient flag that
// is not valid is left out rather than refusing the delivery: the script
// that set it is the user's, and the mail must arrive.
func recipientFlags(common, own []string) []string {
	if len(own) == 0 {
		return common
	}
	all := slices.Clone(common)
	for _, f := range own {
		if c, err := canonicalFlag(f); err == nil && c != "" {
			all = append(all, c)
		}
	}
	out, err := canonicalFlags(all)
	if err != nil {
		return common // cannot happen: every flag is canonical
	}
	return out
}

func refusedWith(err error, code evlog.ErrorCode) bool {
	r, ok := err.(*eventError)
	return ok && r.code == code
}

func (t *txn) appended(e *evlog.Appended) (*evlog.EventResult, error) {
	mb, err := t.loadMailbox(e.GetMailboxId())
	if err != nil {
		return nil, err
	}
	if err := t.completeBlob(e.GetBlob(), e.GetSize()); err != nil {
		return nil, err
	}
	flags, err := canonicalFlags(e.GetFlags())
	if err != nil {
		return nil, err
	}
	u, err := t.loadUser(mb.GetAddress())
	if err != nil {
		return nil, err
	}
	if err := checkTime("save date", e.GetSavedUnix()); err != nil {
		return nil, err
	}
	if OverQuota(u, e.GetSize(), 1) {
		// RFC 9208 §4.3 (OVERQUOTA): the append fails and stores nothing.
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, "%s, message has %d bytes", quotaUsage(u), e.GetSize())
	}
	uid, err := t.insertMessage(mb, u, &evlog.MessageRecord{
		Blob: e.GetBlob(), Size: e.GetSize(), Flags: flags,
		InternalDateUnix: e.GetInternalDateUnix(), InternalDateOffset: e.GetInternalDateOffset(),
		SavedUnix: e.GetSavedUnix(), // RFC 8514
	})
	if err != nil {
		return nil, err
	}
	if err := t.saveMailbox(mb); err != nil {
		return nil, err
	}
	t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Mailbox: mb.GetName(), Address: mb.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: MessagesAdded, UIDs: []uint32{uid}})
	// RFC 4315 §3: APPENDUID needs the UIDVALIDITY and the UID.
	return &evlog.EventResult{
		MailboxId: mb.GetId(), UidValidity: mb.GetUidValidity(), Modseq: mb.GetHighestModseq(),
		Uids: []*evlog.UidRange{{First: uid, Last: uid}},
	}, t.saveUser(u)
}

// flagsChanged implements STORE (RFC 9051 §6.4.6) with CONDSTORE's
// UNCHANGEDSINCE (RFC 7162 §3.1.3).
func (t *txn) flagsChanged(e *evlog.FlagsChanged) (*evlog.EventResult, error) {
	mb, err := t.loadMailbox(e.GetMailboxId())
	if err != nil {
		return nil, err
	}
	spans, err := normalizeRanges(e.GetUids())
	if err != nil {
		return nil, err
	}
	if e.GetOp() < evlog.FlagOp_FLAG_OP_ADD || e.GetOp() > evlog.FlagOp_FLAG_OP_REPLACE {
		return nil, refuse(errInvalid, "flag operation %v", e.GetOp())
	}
	flags, err := canonicalFlags(e.GetFlags())
	if err != nil {
		return nil, err
	}
	msgs, err := t.messagesIn(mb.GetId(), spans)
	if err != nil {
		return nil, err
	}
	var changed, modified []uint32
	for _, m := range msgs {
		if since := e.GetUnchangedSince(); since > 0 && m.rec.GetModseq() > since {
			modified = append(modified, m.uid)
			continue
		}
		next := applyFlagOp(e.GetOp(), m.rec.GetFlags(), flags)
		if r := e.GetFlagRights(); r != 0 {
			next = keepUnpermitted(m.rec.GetFlags(), next, acl.Rights(r)) // apply_acl.go
		}
		if slices.Equal(next, m.rec.GetFlags()) {
			continue
		}
		m.rec.Flags = next
		m.rec.Modseq = t.bump(mb)
		if err := t.putRecord(messageKey(mb.GetId(), m.uid), m.rec); err != nil {
			return nil, err
		}
		changed = append(changed, m.uid)
	}
	if len(changed) > 0 {
		if err := t.saveMailbox(mb); err != nil {
			return nil, err
		}
		t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Mailbox: mb.GetName(), Address: mb.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: FlagsChanged, UIDs: changed})
	}
	return &evlog.EventResult{
		MailboxId: mb.GetId(), UidValidity: mb.GetUidValidity(), Modseq: mb.GetHighestModseq(),
		Uids: evlog.RangesOf(changed), SourceUids: evlog.RangesOf(modified),
	}, nil
}

// copyMessages implements COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851 §3):
// existing messages in the ranges are filed into the target in UID order
// with new UIDs, keeping flags (those flagRights cover, when stamped:
// RFC 4314 §4) and internal date; MOVE then expunges them. The copies'
// save date (RFC 8514) is saved when stamped, else the originals'
// (entries from before the stamp).
func (t *txn) copyMessages(srcID uint64, ranges []*evlog.UidRange, dstID uint64, move bool, saved int64, flagRights uint32) (*evlog.EventResult, error) {
	if err := checkTime("save date", saved); err != nil {
		return nil, err
	}
	src, err := t.loadMailbox(srcID)
	if err != nil {
		return nil, err
	}
	dst := src
	if dstID != srcID {
		if dst, err = t.loadMailbox(dstID); err != nil {
			return nil, err
		}
	}
	spans, err := normalizeRanges(ranges)
	if err != nil {
		return nil, err
	}
	msgs, err := t.messagesIn(src.GetId(), spans)
	if err != nil {
		return nil, err
	}
	res := &evlog.EventResult{MailboxId: dst.GetId(), UidValidity: dst.GetUidValidity()}
	if len(msgs) == 0 {
		res.Modseq = dst.GetHighestModseq()
		return res, nil
	}
	srcUser, err := t.loadUser(src.GetAddress())
	if err != nil {
		return nil, err
	}
	dstUser := srcUser
	if dst.GetAddress() != src.GetAddress() {
		if dstUser, err = t.loadUser(dst.GetAddress()); err != nil {
			return nil, err
		}
	}
	var total uint64
	for _, m := range msgs {
		total += m.rec.GetSize()
	}
	// A move within one account does not change its usage.
	if (!move || dstUser != srcUser) && OverQuota(dstUser, total, uint64(len(msgs))) {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, "%s, %d messages have %d bytes", quotaUsage(dstUser), len(msgs), total)
	}
	newUIDs := make([]uint32, 0, len(msgs))
	for _, m := range msgs {
		flags := m.rec.GetFlags()
		if flagRights != 0 {
			flags = acl.AllowedFlags(acl.Rights(flagRights), flags) // keeps their order
		}
		uid, err := t.insertMessage(dst, dstUser, &evlog.MessageRecord{
			Blob: m.rec.GetBlob(), Size: m.rec.GetSize(), Flags: flags,
			InternalDateUnix: m.rec.GetInternalDateUnix(), InternalDateOffset: m.rec.GetInternalDateOffset(),
			SavedUnix: cmp.Or(saved, m.rec.GetSavedUnix()), // RFC 8514
		})
		if err != nil {
			return nil, err
		}
		newUIDs = append(newUIDs, uid)
	}
	self := move && dst == src
	if self {
		// A move within one mailbox (IMAP MOVE into the selected mailbox,
		// as Dovecot allows): the new UIDs get this event's modseq and the
		// expunge the next one, announced in that order, so that a reader
		// applying the two changes one at a time (protocols/imap's hub skips
		// a change not newer than what it holds) misses neither.
		t.changes.add(Change{Index: t.index, MailboxID: dst.GetId(), Mailbox: dst.GetName(), Address: dst.GetAddress(), ModSeq: dst.GetHighestModseq(), Kind: MessagesAdded, UIDs: newUIDs})
		delete(t.bumped, src.GetId())
	}
	if move {
		for _, m := range msgs {
			if err := t.removeMessage(src, srcUser, m); err != nil {
				return nil, err
			}
		}
		if err := t.recordExpunges(src, uidsOf(msgs)); err != nil {
			return nil, err
		}
		t.changes.add(Change{Index: t.index, MailboxID: src.GetId(), Mailbox: src.GetName(), Address: src.GetAddress(), ModSeq: src.GetHighestModseq(), Kind: MessagesExpunged, UIDs: uidsOf(msgs)})
	}
	for _, mb := range uniqueMailboxes(src, dst) {
		if err := t.saveMailbox(mb); err != nil {
			return nil, err
		}
	}
	if err := t.saveUser(srcUser); err != nil {
		return nil, err
	}
	if dstUser != srcUser {
		if err := t.saveUser(dstUser); err != nil {
			return nil, err
		}
	}
	if !self {
		t.changes.add(Change{Index: t.index, MailboxID: dst.GetId(), Mailbox: dst.GetName(), Address: dst.GetAddress(), ModSeq: dst.GetHighestModseq(), Kind: MessagesAdded, UIDs: newUIDs})
	}
	// RFC 4315 §3: COPYUID pairs the source and new UIDs in order; both are
	// ascending, so their ranges pair up too.
	res.SourceUids = evlog.RangesOf(uidsOf(msgs))
	res.Uids = evlog.RangesOf(newUIDs)
	res.Modseq = dst.GetHighestModseq()
	return res, nil
}

func uniqueMailboxes(a, b *evlog.MailboxRecord) []*evlog.MailboxRecord {
	if a == b {
		return []*evlog.MailboxRecord{a}
	}
	return []*evlog.MailboxRecord{a, b}
}

// expunged removes messages (RFC 9051 §6.4.3, UID EXPUNGE §6.4.9).
func (t *txn) expunged(e *evlog.Expunged) (*evlog.EventResult, error) {
	mb, err := t.loadMailbox(e.GetMailboxId())
	if err != nil {
		return nil, err
	}
	spans, err := normalizeRanges(e.GetUids())
	if err != nil {
		return nil, err
	}
	msgs, err := t.messagesIn(mb.GetId(), spans)
	if err != nil {
		return nil, err
	}
	res := &evlog.EventResult{MailboxId: mb.GetId(), UidValidity: mb.GetUidValidity()}
	if len(msgs) > 0 {
		u, err := t.loadUser(mb.GetAddress())
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if err := t.removeMessage(mb, u, m); err != nil {
				return nil, err
			}
		}
		if err := t.recordExpunges(mb, uidsOf(msgs)); err != nil {
			return nil, err
		}
		if err := t.saveMailbox(mb); err != nil {
			return nil, err
		}
		if err := t.saveUser(u); err != nil {
			return nil, err
		}
		t.changes.add(Change{Index: t.index, MailboxID: mb.GetId(), Mailbox: mb.GetName(), Address: mb.GetAddress(), ModSeq: mb.GetHighestModseq(), Kind: MessagesExpunged, UIDs: uidsOf(msgs)})
		res.SourceUids = evlog.RangesOf(uidsOf(msgs))
	}
	res.Modseq = mb.GetHighestModseq()
	return res, nil
}
