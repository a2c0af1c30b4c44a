package mailbox

import (
	"errors"
	"fmt"
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

// Apply applies the proposals of the committed log entry at index and
// returns one encoded log.Outcome per proposal. Proposals already applied
// before a crash (per the applied marker) are skipped and get a nil result.
// An entry without proposals only advances the marker. Calling Apply on a
// closed store, like a storage failure, panics (see the package doc).
func (s *Store) Apply(index uint64, proposals [][]byte) [][]byte {
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
		out, changes := s.applyProposal(index, next, proposals[i])
		s.setMarker(next)
		results[i] = out
		s.feed.publish(changes)
		if s.testAfterProposal != nil {
			s.testAfterProposal()
		}
	}
	return results
}

// applyProposal applies one proposal and commits it with the marker.
func (s *Store) applyProposal(index uint64, next appliedMarker, p []byte) ([]byte, []Change) {
	outcome := &evlog.Outcome{}
	var changes []Change
	batch, err := evlog.DecodeBatch(p)
	b := s.db.NewIndexedBatch()
	if err != nil {
		outcome.Error = evlog.ErrorCode_ERROR_CODE_INVALID
		outcome.Message = err.Error()
	} else {
		t := &txn{b: b, index: index}
		results, err := t.applyEvents(batch.GetEvents())
		var refusal *eventError
		switch {
		case errors.As(err, &refusal):
			outcome.Error, outcome.Message = refusal.code, refusal.msg
			// All or nothing: drop the batch's changes, keep only the marker.
			_ = b.Close()
			b = s.db.NewBatch()
			s.logger.Debug("proposal refused", "raft_index", index, "proposal", next.Done-1, "code", refusal.code.String(), "reason", refusal.msg)
		case err != nil:
			_ = b.Close()
			s.fatal(index, err)
		default:
			outcome.Results = results
			changes = t.changes.list
		}
	}
	s.commit(b, next, "proposal")
	out, err := evlog.EncodeOutcome(outcome)
	if err != nil {
		s.fatal(index, fmt.Errorf("encode outcome: %w", err))
	}
	return out, changes
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
	b       *pebble.Batch
	index   uint64
	changes changeSet
	// bumped holds the modseq each mailbox got in the current event, so a
	// mailbox changes modseq at most once per event (lookups only).
	bumped map[uint64]uint64
}

func (t *txn) applyEvents(events []*evlog.Event) ([]*evlog.EventResult, error) {
	results := make([]*evlog.EventResult, 0, len(events))
	for i, ev := range events {
		t.bumped = map[uint64]uint64{}
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
		return t.copyMessages(k.Copied.GetMailboxId(), k.Copied.GetUids(), k.Copied.GetTargetMailboxId(), false)
	case *evlog.Event_Moved:
		return t.copyMessages(k.Moved.GetMailboxId(), k.Moved.GetUids(), k.Moved.GetTargetMailboxId(), true)
	case *evlog.Event_Expunged:
		return t.expunged(k.Expunged)
	case *evlog.Event_BlobsCollected:
		return t.blobsCollected(k.BlobsCollected)
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
		return nil, false, fmt.Errorf("get %q: %w", key, err)
	}
	v = append([]byte(nil), val...)
	return v, true, closer.Close()
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
		return fmt.Errorf("set %q: %w", key, err)
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
		return fmt.Errorf("delete %q: %w", key, err)
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
// false. k and v are valid only during the call.
func scanRange(r iterable, lower, upper []byte, fn func(k, v []byte) (bool, error)) (err error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("new iterator: %w", err)
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close iterator: %w", cerr)
		}
	}()
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("read %q: %w", it.Key(), err)
		}
		more, err := fn(it.Key(), v)
		if err != nil || !more {
			return err
		}
	}
	return it.Error()
}
