package mailbox

import (
	"encoding/binary"
	"math"

	evlog "github.com/surat-mail/surat/log"
)

// Bounds and encodings of the classifier's models (protocols/spam/bayes
// owns tokens and arithmetic; apply only counts).
const (
	// MaxSpamTokens bounds the tokens of one SpamTrained (bayes.MaxTokens).
	MaxSpamTokens = 4096
	// spamTokenValueLen: spam u32, ham u32, last-seen unix u32.
	spamTokenValueLen = 12
	// spamTotalsValueLen: spam messages u64, ham messages u64, tokens u64.
	spamTotalsValueLen = 24
)

// spamTotals is a model's "spm/" record.
type spamTotals struct{ spam, ham, tokens uint64 }

func decodeSpamTotals(v []byte) spamTotals {
	if len(v) != spamTotalsValueLen {
		return spamTotals{}
	}
	return spamTotals{binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]), binary.BigEndian.Uint64(v[16:])}
}

func (s spamTotals) encode() []byte {
	v := make([]byte, 0, spamTotalsValueLen)
	v = binary.BigEndian.AppendUint64(v, s.spam)
	v = binary.BigEndian.AppendUint64(v, s.ham)
	return binary.BigEndian.AppendUint64(v, s.tokens)
}

// spamToken is a token's "spt/" record.
type spamToken struct{ spam, ham, seen uint32 }

func decodeSpamToken(v []byte) (spamToken, bool) {
	if len(v) != spamTokenValueLen {
		return spamToken{}, false
	}
	return spamToken{binary.BigEndian.Uint32(v), binary.BigEndian.Uint32(v[4:]), binary.BigEndian.Uint32(v[8:])}, true
}

func (t spamToken) appendTo(v []byte) []byte {
	v = binary.BigEndian.AppendUint32(v, t.spam)
	v = binary.BigEndian.AppendUint32(v, t.ham)
	return binary.BigEndian.AppendUint32(v, t.seen)
}

// spamSeconds clamps a proposer's unix time to the u32 a token keeps.
func spamSeconds(unix int64) uint32 {
	return uint32(min(max(unix, 0), math.MaxUint32))
}

// checkSpamUser validates a model's owner: "" (global) or an existing user.
func (t *txn) checkSpamUser(user string) error {
	if user == "" {
		return nil
	}
	_, err := t.loadUser(user)
	return err
}

// spamTrained adds one message's tokens to a model. Counts saturate at
// the u32 maximum; a retrain first takes one from the other class's
// counts and total, stopping at zero, since the message may have been
// trained before a prune dropped its tokens, or never.
func (t *txn) spamTrained(e *evlog.SpamTrained) (*evlog.EventResult, error) {
	user, tokens := e.GetUser(), e.GetTokens()
	if err := t.checkSpamUser(user); err != nil {
		return nil, err
	}
	switch {
	case len(tokens) > MaxSpamTokens:
		return nil, refuse(errInvalid, "spam training: %d tokens, at most %d", len(tokens), MaxSpamTokens)
	case e.GetTrainedUnix() < 0:
		return nil, refuse(errInvalid, "spam training: trained_unix before the epoch")
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i] <= tokens[i-1] {
			return nil, refuse(errInvalid, "spam training: tokens not sorted and distinct")
		}
	}
	tv, _, err := t.get(spamTotalsKey(user))
	if err != nil {
		return nil, err
	}
	totals := decodeSpamTotals(tv)
	seen := spamSeconds(e.GetTrainedUnix())
	recs, known, err := t.spamTokens(user, tokens)
	if err != nil {
		return nil, err
	}
	ov := t.spamOverlay().model(user)
	if len(ov.tokens) == 0 {
		ov.tokens = make(map[uint64]spamOverlayToken, len(tokens))
	}
	key := spamTokenPrefix(user)
	n := len(key)
	val := make([]byte, 0, spamTokenValueLen)
	for i, tok := range tokens {
		key = binary.BigEndian.AppendUint64(key[:n], tok)
		rec := recs[i]
		if !known[i] {
			totals.tokens++
		}
		if e.GetSpam() {
			if e.GetRetrain() && rec.ham > 0 {
				rec.ham--
			}
			if rec.spam < math.MaxUint32 {
				rec.spam++
			}
		} else {
			if e.GetRetrain() && rec.spam > 0 {
				rec.spam--
			}
			if rec.ham < math.MaxUint32 {
				rec.ham++
			}
		}
		rec.seen = max(rec.seen, seen)
		if err := t.put(key, rec.appendTo(val[:0])); err != nil {
			return nil, err
		}
		ov.tokens[tok] = spamOverlayToken{rec: rec}
	}
	if e.GetSpam() {
		if e.GetRetrain() && totals.ham > 0 {
			totals.ham--
		}
		totals.spam++
	} else {
		if e.GetRetrain() && totals.spam > 0 {
			totals.spam--
		}
		totals.ham++
	}
	return nil, t.put(spamTotalsKey(user), totals.encode())
}

// spamPruned drops a model's tokens counted at most max_count times in
// all and last seen before seen_before_unix. It reads the whole model: the
// pruner proposes it rarely (when a model passes its bound), and the cost
// is one pass over the model's keys.
func (t *txn) spamPruned(e *evlog.SpamPruned) (*evlog.EventResult, error) {
	user := e.GetUser()
	if err := t.checkSpamUser(user); err != nil {
		return nil, err
	}
	tv, ok, err := t.get(spamTotalsKey(user))
	if err != nil || !ok {
		return nil, err // nothing trained: nothing to prune
	}
	totals := decodeSpamTotals(tv)
	maxCount, before := uint64(e.GetMaxCount()), e.GetSeenBeforeUnix()
	var drop [][]byte
	p := spamTokenPrefix(user)
	err = scanRange(t.b, p, prefixEnd(p), func(k, v []byte) (bool, error) {
		rec, ok := decodeSpamToken(v)
		if !ok || uint64(rec.spam)+uint64(rec.ham) <= maxCount && int64(rec.seen) < before {
			drop = append(drop, append([]byte(nil), k...))
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	ov := t.spamOverlay().model(user)
	for _, k := range drop {
		if err := t.del(k); err != nil {
			return nil, err
		}
		if len(k) == len(p)+8 {
			ov.tokens[binary.BigEndian.Uint64(k[len(p):])] = spamOverlayToken{deleted: true}
		}
	}
	totals.tokens -= min(totals.tokens, uint64(len(drop)))
	return nil, t.put(spamTotalsKey(user), totals.encode())
}

// deleteSpamModel deletes a user's model (UserDeleted).
func (t *txn) deleteSpamModel(user string) error {
	if err := t.deletePrefix(spamTokenPrefix(user)); err != nil {
		return err
	}
	ov := t.spamOverlay().model(user)
	ov.reset = true
	clear(ov.tokens)
	return t.del(spamTotalsKey(user))
}

// spamOverlay returns the proposal's overlay of model writes, creating it.
func (t *txn) spamOverlay() spamOverlay {
	if t.spam == nil {
		t.spam = spamOverlay{}
	}
	return t.spam
}

// spamTokens returns the records of tokens in user's model as this
// proposal sees them (zero and known false for a token the model lacks):
// from the proposal's own writes, then the mirror; from the batch (Pebble
// point reads) when the model is not mirrored.
func (t *txn) spamTokens(user string, tokens []uint64) ([]spamToken, []bool, error) {
	recs := make([]spamToken, len(tokens))
	known := make([]bool, len(tokens))
	ov := t.spam[user]
	var mirrored bool
	if ov == nil || !ov.reset {
		var err error
		mirrored, err = t.mirror.with(t.db, user, func(m map[uint64]spamToken) {
			for i, tok := range tokens {
				recs[i], known[i] = m[tok]
			}
		})
		if err != nil {
			return nil, nil, storageFailure("spam mirror: %w", err)
		}
	}
	if ov != nil && (mirrored || ov.reset) {
		for i, tok := range tokens {
			if w, ok := ov.tokens[tok]; ok {
				recs[i], known[i] = w.rec, !w.deleted
			} else if ov.reset {
				recs[i], known[i] = spamToken{}, false
			}
		}
	}
	if mirrored || ov != nil && ov.reset {
		return recs, known, nil
	}
	// Not mirrored: the indexed batch holds the proposal's own writes.
	key := spamTokenPrefix(user)
	n := len(key)
	for i, tok := range tokens {
		key = binary.BigEndian.AppendUint64(key[:n], tok)
		v, ok, err := t.get(key)
		if err != nil {
			return nil, nil, err
		}
		recs[i], _ = decodeSpamToken(v)
		known[i] = ok
	}
	return recs, known, nil
}
