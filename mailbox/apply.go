package mailbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble/v2"
	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

// eventError is a deterministic refusal of an event: the proposal fails with
// its code and nothing of it is applied. Any other error from an event is a
// storage failure.
type eventError struct {
	code evlog.ErrorCode
	msg  string
}

func (e *eventError) Error() string { return e.code.String() + ": " + e.msg }

func refuse(code evlog.ErrorCode, format string, args ...any) error {
	return &eventError{code: code, msg: fmt.Sprintf(format, args...)}
}

// storageError is the store failing (Pebble returning an error from a read
// or a write), as opposed to the proposal or the state being wrong: the
// only kind of error that stops the node (see the package doc).
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

func storageFailure(format string, args ...any) error {
	return &storageError{err: fmt.Errorf(format, args...)}
}

// Proposal is one proposal of a committed entry: the same type as
// cluster.Proposal (an alias of an identical unnamed struct type), so this
// package need not import the cluster's.
type Proposal = struct {
	// Key is the proposal's idempotency key (proposalKeyLen random bytes
	// from the proposing node), nil when it has none.
	Key []byte
	// ProposedAt is the proposing node's commit index when it first sent
	// the entry.
	ProposedAt uint64
	Data       []byte
}

// IdempotencyWindow is how many log entries a proposal's key is
// remembered for (see the package doc). It is part of apply's semantics:
// every node must use the same value.
const IdempotencyWindow = 10_000

// Apply applies proposals without idempotency keys (as Raft entries
// written before keys carried them, and the tests' direct proposers); see
// ApplyEntry.
func (s *Store) Apply(index uint64, proposals [][]byte) [][]byte {
	ps := make([]Proposal, len(proposals))
	for i, p := range proposals {
		ps[i] = Proposal{Data: p}
	}
	return s.ApplyEntry(index, ps)
}

// ApplyEntry applies the proposals of the committed log entry at index and
// returns one encoded log.Outcome per proposal. Proposals already applied
// before a crash (per the applied marker) are skipped and get a nil result.
// A proposal whose key was applied before (a copy sent again after its
// answer was lost) is not applied again: it gets the outcome recorded
// then. An entry without proposals only advances the marker. A storage
// failure panics (see the package doc), as does calling it on a closed
// store; a proposal that breaks an invariant is refused instead.
func (s *Store) ApplyEntry(index uint64, proposals []Proposal) [][]byte {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		panic(fmt.Sprintf("mailbox: Apply(%d) on a closed store", index))
	}
	results := make([][]byte, len(proposals))
	m := s.marker
	var next appliedMarker
	start := 0
	switch {
	case index < m.Index:
		return results
	case index == m.Index:
		if len(proposals) == 0 {
			return results
		}
		start = int(m.Done)
		next = m
	default:
		next = appliedMarker{Index: index, Total: uint32(len(proposals)), Prev: m.applied()}
	}
	if len(proposals) == 0 {
		b := s.db.NewBatch()
		s.commit(b, next, "empty entry")
		s.setMarker(next)
		return results
	}
	for i := start; i < len(proposals); i++ {
		next.Done = uint32(i + 1)
		out, changes := s.applyProposal(index, next, proposals[i], i == 0)
		s.setMarker(next)
		results[i] = out
		s.feed.publish(changes)
		if s.testAfterProposal != nil {
			s.testAfterProposal()
		}
	}
	return results
}

// applyProposal applies one proposal and commits it with the marker. The
// first proposal of an entry also forgets the keys that left the window.
func (s *Store) applyProposal(index uint64, next appliedMarker, p Proposal, first bool) ([]byte, []Change) {
	proposal := next.Done - 1
	keyed := len(p.Key) == proposalKeyLen
	if keyed {
		out, seen := s.rememberedOutcome(index, p.Key)
		if seen {
			s.logger.Info("proposal applied before; answering with its recorded outcome",
				"raft_index", index, "proposal", proposal, "key", fmt.Sprintf("%x", p.Key))
			b := s.db.NewBatch()
			if first {
				s.forgetKeys(b, index)
			}
			s.commit(b, next, "repeated proposal")
			return out, nil
		}
	}
	outcome, b, changes, spam := s.applyBatch(index, proposal, p)
	out := s.encodeOutcome(index, outcome)
	if keyed {
		s.rememberKey(b, index, p.Key, out)
	}
	if first {
		s.forgetKeys(b, index)
	}
	s.commit(b, next, "proposal")
	// Only now: a reader may load a model meanwhile, from the committed
	// state, and the overlay's absolute values agree with it.
	s.spam.update(spam)
	return out, changes
}

// applyBatch applies a proposal's events in an indexed batch and returns
// its outcome with the batch to commit: the changes, or an empty batch
// when the proposal was refused (all or nothing); and, for the spam
// mirror, the proposal's writes to the models (nil when refused).
func (s *Store) applyBatch(index uint64, proposal uint32, p Proposal) (*evlog.Outcome, *pebble.Batch, []Change, spamOverlay) {
	outcome := &evlog.Outcome{}
	if p.Key != nil && len(p.Key) != proposalKeyLen {
		outcome.Error, outcome.Message = errInvalid, fmt.Sprintf("idempotency key of %d bytes, want %d", len(p.Key), proposalKeyLen)
		return outcome, s.db.NewBatch(), nil, nil
	}
	if p.Key != nil && index >= p.ProposedAt && index-p.ProposedAt >= IdempotencyWindow {
		// A copy of it may have been applied and forgotten since.
		outcome.Error = evlog.ErrorCode_ERROR_CODE_STALE_PROPOSAL
		outcome.Message = fmt.Sprintf("proposal first sent at index %d, more than %d entries ago: propose it again", p.ProposedAt, IdempotencyWindow)
		s.logger.Warn("stale proposal refused", "raft_index", index, "proposal", proposal, "proposed_at", p.ProposedAt)
		return outcome, s.db.NewBatch(), nil, nil
	}
	batch, err := evlog.DecodeBatch(p.Data)
	if err != nil {
		outcome.Error = errInvalid
		outcome.Message = err.Error()
		return outcome, s.db.NewBatch(), nil, nil
	}
	b := s.db.NewIndexedBatch()
	t := &txn{b: b, index: index, proposal: proposal, logger: s.logger, beforeEvent: s.testBeforeEvent, db: s.db, mirror: s.spam}
	results, err := t.applyEventsGuarded(batch.GetEvents())
	var (
		refusal *eventError
		storage *storageError
	)
	switch {
	case errors.As(err, &storage):
		_ = b.Close()
		s.fatal(index, err)
	case errors.As(err, &refusal):
		outcome.Error, outcome.Message = refusal.code, refusal.msg
		s.logger.Debug("proposal refused", "raft_index", index, "proposal", proposal, "code", refusal.code.String(), "reason", refusal.msg)
	case err != nil:
		// Not the disk: this state and this proposal give the same error
		// on every node, so every node refuses it alike and goes on,
		// where stopping would stop them all, again at every restart.
		outcome.Error, outcome.Message = evlog.ErrorCode_ERROR_CODE_INTERNAL, err.Error()
		s.logger.Error("apply refused a proposal it cannot handle (a bug or a broken invariant); every node refuses it alike",
			"raft_index", index, "proposal", proposal, "err", err)
	default:
		outcome.Results = results
		s.logPlaced(t.changes.list)
		return outcome, b, t.changes.list, t.spam
	}
	_ = b.Close()
	return outcome, s.db.NewBatch(), nil, nil
}

// logPlaced logs where messages arrived and left, once per mailbox and
// proposal, with the entry's raft_index: every node logs the same lines,
// so one message can be followed across nodes by its raft_index, or by
// its user, mailbox and uid (docs/DESIGN.md, Conventions). Flag changes
// are logged at Debug only: a FETCH of a body sets \Seen.
func (s *Store) logPlaced(changes []Change) {
	for _, c := range changes {
		msg, level := "", slog.LevelInfo
		switch c.Kind {
		case MessagesAdded:
			msg = "messages added"
		case MessagesExpunged:
			msg = "messages expunged"
		case FlagsChanged:
			msg, level = "flags changed", slog.LevelDebug
		default:
			continue
		}
		var uids slog.Attr // none: the whole mailbox (an INBOX rename)
		if c.UIDs != nil {
			uids = evlog.UIDAttr(c.UIDs)
		}
		s.logger.LogAttrs(context.Background(), level, msg, slog.Uint64("raft_index", c.Index),
			slog.String("user", c.Address), slog.String("mailbox", c.Mailbox), uids, slog.Uint64("mailbox_id", c.MailboxID))
	}
}

// encodeOutcome encodes o; an outcome that cannot be encoded (a message
// that is not UTF-8) is replaced by an internal refusal saying so.
func (s *Store) encodeOutcome(index uint64, o *evlog.Outcome) []byte {
	o.Message = strings.ToValidUTF8(o.Message, "\ufffd")
	out, err := evlog.EncodeOutcome(o)
	if err == nil {
		return out
	}
	s.logger.Error("apply could not encode an outcome", "raft_index", index, "err", err)
	out, err = evlog.EncodeOutcome(&evlog.Outcome{Error: evlog.ErrorCode_ERROR_CODE_INTERNAL, Message: "outcome not encodable"})
	if err != nil {
		s.fatal(index, fmt.Errorf("encode outcome: %w", err))
	}
	return out
}

// rememberedOutcome returns the outcome recorded for key, if it is within
// the window.
func (s *Store) rememberedOutcome(index uint64, key []byte) ([]byte, bool) {
	v, closer, err := s.db.Get(proposalKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		s.fatal(index, fmt.Errorf("read proposal key: %w", err))
	}
	defer closer.Close()
	if len(v) < 8 {
		// Not written by this package: treat the key as unknown rather than
		// stop; apply stays deterministic either way.
		s.logger.Error("malformed proposal key record; ignoring it", "raft_index", index, "key", fmt.Sprintf("%x", key))
		return nil, false
	}
	return append([]byte(nil), v[8:]...), true
}

// rememberKey records key's outcome in b, under the entry that applied it.
func (s *Store) rememberKey(b *pebble.Batch, index uint64, key, outcome []byte) {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(outcome)), index)
	v = append(v, outcome...)
	if err := b.Set(proposalKey(key), v, nil); err != nil {
		s.fatal(index, fmt.Errorf("record proposal key: %w", err))
	}
	if err := b.Set(proposalByIndexKey(index, key), nil, nil); err != nil {
		s.fatal(index, fmt.Errorf("record proposal key index: %w", err))
	}
}

// forgetKeys deletes, in b, the keys of entries that left the window when
// the entry at index is applied: those applied at or before index -
// IdempotencyWindow. A copy that could have needed one is refused as stale
// (applyBatch), so forgetting never lets a proposal apply twice. The
// counter "keys-forgotten" remembers how far it went, so that each entry
// reads only the keys it forgets, never the deletions before them (a scan
// from the start of the range walked every tombstone not yet compacted).
func (s *Store) forgetKeys(b *pebble.Batch, index uint64) {
	if index <= IdempotencyWindow {
		return
	}
	upTo := index - IdempotencyWindow
	var from uint64
	v, closer, err := s.db.Get(counterKey(counterKeysForgotten))
	switch {
	case err == nil:
		if len(v) == 8 {
			from = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		s.fatal(index, fmt.Errorf("read forgotten keys counter: %w", err))
	}
	if from >= upTo {
		return
	}
	err = scanRange(s.db, proposalByIndexKey(from+1, nil), proposalByIndexKey(upTo+1, nil), func(k, _ []byte) (bool, error) {
		if key, err := parseProposalByIndexKey(k); err == nil {
			if err := b.Delete(proposalKey(key), nil); err != nil {
				return false, err
			}
		}
		return true, b.Delete(k, nil)
	})
	if err == nil {
		err = b.Set(counterKey(counterKeysForgotten), binary.BigEndian.AppendUint64(nil, upTo), nil)
	}
	if err != nil {
		s.fatal(index, fmt.Errorf("forget proposal keys: %w", err))
	}
}

// commit writes the marker into b and commits it.
func (s *Store) commit(b *pebble.Batch, m appliedMarker, what string) {
	if err := b.Set(appliedKey(), m.encode(), nil); err != nil {
		_ = b.Close()
		s.fatal(m.Index, fmt.Errorf("set applied marker: %w", err))
	}
	if err := commitBatch(b); err != nil {
		// Not closed: after a failed write Pebble's commit pipeline may
		// still hold the batch, and the store is going down anyway.
		s.fatal(m.Index, fmt.Errorf("commit %s: %w", what, err))
	}
	_ = b.Close()
}

// commitBatch commits b without syncing. Pebble does not return a failed
// WAL write as an error: it panics with the I/O error (DB.commitWrite),
// leaving its commit pipeline locked, so that no later commit or Close
// can finish. The panic becomes an error here so that fatal can say what
// happened (a full disk reads differently from corruption) before the
// store stops; panics that carry no error are Pebble's own invariants and
// go on unchanged.
func commitBatch(b *pebble.Batch) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("pebble panicked: %w", e)
		}
	}()
	return b.Commit(pebble.NoSync)
}

// fatal stops the node on a storage failure: continuing could leave this
// node's projections different from the log's (see the package doc). It
// panics with an error wrapping err, so that the caller running Apply can
// tell a full disk (ENOSPC, EDQUOT) from other failures.
//
// A full disk is fatal too, though temporary: Pebble cannot carry on after
// a write failed for lack of space (see commitBatch; its error is sticky
// and its locks stay held), so the only way back is a new process once
// space is freed, which replays the entries after the applied marker. The
// cluster's storage guard keeps the disk from getting that full: this is
// the path for when something else filled it faster.
func (s *Store) fatal(index uint64, err error) {
	if isStorageFull(err) {
		s.logger.Error("apply failed: disk full; the store cannot continue in this process: free disk space and restart the node, which replays the log from the applied index",
			"raft_index", index, "applied_index", s.marker.applied(), "err", err)
	} else {
		s.logger.Error("apply failed; stopping", "raft_index", index, "err", err)
	}
	panic(fmt.Errorf("mailbox: apply entry %d: %w", index, err))
}

// isStorageFull reports whether err is the operating system saying the
// disk, or the user's quota, is full.
func isStorageFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// txn is one proposal's view: an indexed batch, so later events see earlier
// events' writes.
type txn struct {
	b        *pebble.Batch
	index    uint64
	proposal uint32 // position of the proposal in its entry
	event    uint32 // position of the event being applied in its proposal
	logger   *slog.Logger
	// beforeEvent is Store.testBeforeEvent.
	beforeEvent func(*evlog.Event)
	changes     changeSet
	// bumped holds the modseq each mailbox got in the current event, so a
	// mailbox changes modseq at most once per event (lookups only).
	bumped map[uint64]uint64
	// db is the committed database the spam mirror loads models from;
	// mirror is Store.spam, spam the proposal's writes to the models
	// (spam_mirror.go), applied to the mirror once the batch committed.
	db     *pebble.DB
	mirror *spamMirror
	spam   spamOverlay
}

// applyEventsGuarded is applyEvents with a panic in apply's own code (a
// bug met by this proposal on this state: the same on every node) turned
// into an error, so that it refuses the proposal instead of stopping every
// node at the same entry, again at each restart.
func (t *txn) applyEventsGuarded(events []*evlog.Event) (results []*evlog.EventResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.As(e, new(*storageError)) {
				panic(r)
			}
			// The stack goes to the log only: the outcome is recorded
			// with the proposal's key and must be the same on every node,
			// and a stack holds goroutine ids and addresses.
			t.logger.Error("panic while applying a proposal", "raft_index", t.index, "proposal", t.proposal, "panic", r, "stack", string(debug.Stack()))
			results, err = nil, fmt.Errorf("event %d: panic: %v", t.event, r)
		}
	}()
	return t.applyEvents(events)
}

func (t *txn) applyEvents(events []*evlog.Event) ([]*evlog.EventResult, error) {
	results := make([]*evlog.EventResult, 0, len(events))
	for i, ev := range events {
		t.event = uint32(i)
		t.bumped = map[uint64]uint64{}
		if t.beforeEvent != nil {
			t.beforeEvent(ev)
		}
		r, err := t.applyEvent(ev)
		if err != nil {
			var refusal *eventError
			if errors.As(err, &refusal) {
				refusal.msg = fmt.Sprintf("event %d (%s): %s", i, ev.Name(), refusal.msg)
				return nil, refusal
			}
			return nil, fmt.Errorf("event %d (%s): %w", i, ev.Name(), err)
		}
		if r == nil {
			r = &evlog.EventResult{}
		}
		results = append(results, r)
	}
	return results, nil
}

func (t *txn) applyEvent(ev *evlog.Event) (*evlog.EventResult, error) {
	switch k := ev.GetKind().(type) {
	case *evlog.Event_DomainAdded:
		return t.domainAdded(k.DomainAdded)
	case *evlog.Event_DomainRemoved:
		return t.domainRemoved(k.DomainRemoved)
	case *evlog.Event_DkimKeyAdded:
		return t.dkimKeyAdded(k.DkimKeyAdded)
	case *evlog.Event_DkimKeyRetired:
		return t.dkimKeyRetired(k.DkimKeyRetired)
	case *evlog.Event_DomainSettingsChanged:
		return t.domainSettingsChanged(k.DomainSettingsChanged)
	case *evlog.Event_UserCreated:
		return t.userCreated(k.UserCreated)
	case *evlog.Event_PasswordChanged:
		return t.passwordChanged(k.PasswordChanged)
	case *evlog.Event_UserDeleted:
		return t.userDeleted(k.UserDeleted)
	case *evlog.Event_AliasAdded:
		return t.aliasAdded(k.AliasAdded)
	case *evlog.Event_AliasRemoved:
		return t.aliasRemoved(k.AliasRemoved)
	case *evlog.Event_QuotaSet:
		return t.quotaSet(k.QuotaSet)
	case *evlog.Event_MailboxCreated:
		return t.mailboxCreated(k.MailboxCreated)
	case *evlog.Event_MailboxRenamed:
		return t.mailboxRenamed(k.MailboxRenamed)
	case *evlog.Event_MailboxDeleted:
		return t.mailboxDeleted(k.MailboxDeleted)
	case *evlog.Event_Subscribed:
		return t.subscribed(k.Subscribed)
	case *evlog.Event_BlobStored:
		return t.blobStored(k.BlobStored)
	case *evlog.Event_Delivered:
		return t.delivered(k.Delivered)
	case *evlog.Event_Appended:
		return t.appended(k.Appended)
	case *evlog.Event_FlagsChanged:
		return t.flagsChanged(k.FlagsChanged)
	case *evlog.Event_Copied:
		return t.copyMessages(k.Copied.GetMailboxId(), k.Copied.GetUids(), k.Copied.GetTargetMailboxId(), false, k.Copied.GetSavedUnix(), k.Copied.GetFlagRights())
	case *evlog.Event_Moved:
		return t.copyMessages(k.Moved.GetMailboxId(), k.Moved.GetUids(), k.Moved.GetTargetMailboxId(), true, k.Moved.GetSavedUnix(), k.Moved.GetFlagRights())
	case *evlog.Event_Expunged:
		return t.expunged(k.Expunged)
	case *evlog.Event_BlobsCollected:
		return t.blobsCollected(k.BlobsCollected)
	case *evlog.Event_BlobUnpinned:
		return t.blobUnpinned(k.BlobUnpinned)
	case *evlog.Event_ChunkStaged:
		return t.chunkStaged(k.ChunkStaged)
	case *evlog.Event_Queued:
		return t.queued(k.Queued)
	case *evlog.Event_AttemptFailed:
		return t.attemptFailed(k.AttemptFailed)
	case *evlog.Event_Sent:
		return t.sent(k.Sent)
	case *evlog.Event_Bounced:
		return t.bounced(k.Bounced)
	case *evlog.Event_QueueRetried:
		return t.queueRetried(k.QueueRetried)
	case *evlog.Event_QueueDeleted:
		return t.queueDeleted(k.QueueDeleted)
	case *evlog.Event_BanAdded:
		return t.banAdded(k.BanAdded)
	case *evlog.Event_BanRemoved:
		return t.banRemoved(k.BanRemoved)
	case *evlog.Event_BansPruned:
		return t.bansPruned(k.BansPruned)
	case *evlog.Event_DmarcRecorded:
		return t.dmarcRecorded(k.DmarcRecorded)
	case *evlog.Event_TlsResult:
		return t.tlsResult(k.TlsResult)
	case *evlog.Event_DmarcReportsSent:
		return t.dmarcReportsSent(k.DmarcReportsSent)
	case *evlog.Event_TlsReportsSent:
		return t.tlsReportsSent(k.TlsReportsSent)
	case *evlog.Event_ReportsPruned:
		return t.reportsPruned(k.ReportsPruned)
	case *evlog.Event_DmarcReportReceived:
		return t.dmarcReportReceived(k.DmarcReportReceived)
	case *evlog.Event_SpamTrained:
		return t.spamTrained(k.SpamTrained)
	case *evlog.Event_SpamPruned:
		return t.spamPruned(k.SpamPruned)
	case *evlog.Event_GreylistRecorded:
		return t.greylistRecorded(k.GreylistRecorded)
	case *evlog.Event_GreylistPruned:
		return t.greylistPruned(k.GreylistPruned)
	case *evlog.Event_SieveScriptPut:
		return t.sieveScriptPut(k.SieveScriptPut)
	case *evlog.Event_SieveScriptDeleted:
		return t.sieveScriptDeleted(k.SieveScriptDeleted)
	case *evlog.Event_SieveScriptRenamed:
		return t.sieveScriptRenamed(k.SieveScriptRenamed)
	case *evlog.Event_SieveScriptActivated:
		return t.sieveScriptActivated(k.SieveScriptActivated)
	case *evlog.Event_VacationReplied:
		return t.vacationReplied(k.VacationReplied)
	case *evlog.Event_DuplicateRecorded:
		return t.duplicateRecorded(k.DuplicateRecorded)
	case *evlog.Event_SievePruned:
		return t.sievePruned(k.SievePruned)
	case *evlog.Event_ForwardingSet:
		return t.forwardingSet(k.ForwardingSet)
	case *evlog.Event_SrsKeyAdded:
		return t.srsKeyAdded(k.SrsKeyAdded)
	case *evlog.Event_AclSet:
		return t.aclSet(k.AclSet) // apply_acl.go
	case *evlog.Event_MetadataSet:
		return t.metadataSet(k.MetadataSet) // apply_metadata.go
	default:
		// An event kind this build does not know (a newer proposer) or none.
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_INVALID, "unknown or empty event")
	}
}

// ---------------------------------------------------------------- storage helpers

// get returns a copy of the value at key, or ok == false.
func (t *txn) get(key []byte) (v []byte, ok bool, err error) {
	val, closer, err := t.b.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storageFailure("get %q: %w", key, err)
	}
	v = append([]byte(nil), val...)
	if err := closer.Close(); err != nil {
		return nil, false, storageFailure("get %q: %w", key, err)
	}
	return v, true, nil
}

func (t *txn) has(key []byte) (bool, error) {
	_, ok, err := t.get(key)
	return ok, err
}

// getRecord decodes the record at key into m.
func (t *txn) getRecord(key []byte, m proto.Message) (bool, error) {
	v, ok, err := t.get(key)
	if err != nil || !ok {
		return false, err
	}
	if err := evlog.UnmarshalRecord(v, m); err != nil {
		return false, fmt.Errorf("decode record %q: %w", key, err)
	}
	return true, nil
}

func (t *txn) put(key, value []byte) error {
	if err := t.b.Set(key, value, nil); err != nil {
		return storageFailure("set %q: %w", key, err)
	}
	return nil
}

func (t *txn) putRecord(key []byte, m proto.Message) error {
	v, err := evlog.MarshalRecord(m)
	if err != nil {
		return fmt.Errorf("encode record %q: %w", key, err)
	}
	return t.put(key, v)
}

func (t *txn) del(key []byte) error {
	if err := t.b.Delete(key, nil); err != nil {
		return storageFailure("delete %q: %w", key, err)
	}
	return nil
}

type kv struct{ key, value []byte }

// scan returns copies of the entries in [lower, upper), in key order. It
// collects before returning so callers may write while using the result.
func (t *txn) scan(lower, upper []byte) ([]kv, error) {
	var out []kv
	err := scanRange(t.b, lower, upper, func(k, v []byte) (bool, error) {
		out = append(out, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		return true, nil
	})
	return out, err
}

type iterable interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// scanRange calls fn for each entry in [lower, upper) until it returns
// false. k and v are valid only during the call. The store's own errors
// are storage failures; fn's pass through as they are.
func scanRange(r iterable, lower, upper []byte, fn func(k, v []byte) (bool, error)) (err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return storageFailure("new iterator: %w", err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = storageFailure("close iterator: %w", cerr)
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return storageFailure("read %q: %w", it.Key(), err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return storageFailure("iterate: %w", err)
	}
	return nil
}
