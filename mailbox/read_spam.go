package mailbox

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// SpamTokenCounts are one token's counts in a model: the messages trained
// as spam, and as ham, that contained it.
type SpamTokenCounts struct{ Spam, Ham uint32 }

// SpamTotals are a model's trained messages by class.
type SpamTotals struct{ Spam, Ham uint64 }

// SpamModelStatus describes one model.
type SpamModelStatus struct {
	User   string // "": the global model
	Spam   uint64 // messages trained as spam (retrains moved out)
	Ham    uint64 // messages trained as ham
	Tokens uint64 // distinct tokens kept
	// Bytes estimates the model's size in the store before compression:
	// its keys and values.
	Bytes uint64
}

// SpamCounts returns the counts of tokens (a token never trained has zero
// counts) in user's model ("" the global one), and the model's totals. A
// model never trained costs one read. The tokens come from the store's
// in-memory mirror of the models (spam_mirror.go), which loads a model on
// its first use; a model too large for the mirror costs a point read per
// token (bloom filters skip the files that lack it). It is not one
// consistent view: a training applied meanwhile may count for some tokens
// and not others, or in the totals and not the tokens, which moves a
// probability by one message's worth at most.
func (s *Store) SpamCounts(user string, tokens []uint64) ([]SpamTokenCounts, SpamTotals, error) {
	counts := make([]SpamTokenCounts, len(tokens))
	var totals SpamTotals
	err := s.readDB(func(db *pebble.DB) error {
		v, ok, err := readValue(db, spamTotalsKey(user))
		if err != nil || !ok {
			return err
		}
		t := decodeSpamTotals(v)
		totals = SpamTotals{Spam: t.spam, Ham: t.ham}
		mirrored, err := s.spam.with(db, user, func(m map[uint64]spamToken) {
			for i, tok := range tokens {
				if rec, ok := m[tok]; ok {
					counts[i] = SpamTokenCounts{Spam: rec.spam, Ham: rec.ham}
				}
			}
		})
		if err != nil || mirrored {
			return err
		}
		key := spamTokenPrefix(user)
		n := len(key)
		for i, tok := range tokens {
			key = binary.BigEndian.AppendUint64(key[:n], tok)
			v, closer, err := db.Get(key)
			if errors.Is(err, pebble.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("mailbox: spam model token: %w", err)
			}
			if rec, ok := decodeSpamToken(v); ok {
				counts[i] = SpamTokenCounts{Spam: rec.spam, Ham: rec.ham}
			}
			closer.Close()
		}
		return nil
	})
	return counts, totals, err
}

// SpamStatus describes user's model ("" the global one); a model never
// trained is all zeros.
func (s *Store) SpamStatus(user string) (SpamModelStatus, error) {
	st := SpamModelStatus{User: user}
	err := s.point(func(r getter) error {
		v, ok, err := readValue(r, spamTotalsKey(user))
		if err != nil || !ok {
			return err
		}
		st = spamStatusOf(user, decodeSpamTotals(v))
		return nil
	})
	return st, err
}

func spamStatusOf(user string, t spamTotals) SpamModelStatus {
	perToken := uint64(len(spamTokenKey(user, 0)) + spamTokenValueLen)
	return SpamModelStatus{User: user, Spam: t.spam, Ham: t.ham, Tokens: t.tokens,
		Bytes: t.tokens*perToken + uint64(len(spamTotalsKey(user))+spamTotalsValueLen)}
}

// SpamModels describes every trained model, the global one first, users
// in address order.
func (s *Store) SpamModels() ([]SpamModelStatus, error) {
	var out []SpamModelStatus
	err := s.view(func(r reader) error {
		p := []byte(prefixSpamTotals)
		return scanRange(r, p, prefixEnd(p), func(k, v []byte) (bool, error) {
			out = append(out, spamStatusOf(string(k[len(p):]), decodeSpamTotals(v)))
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: spam models: %w", err)
	}
	return out, nil
}

// SpamPruneHistogram counts the tokens of user's model that a SpamPruned
// would drop, for the pruner to choose its bounds: hist[c-1][i] is the
// number of tokens counted c times in all (1 ≤ c ≤ maxCount) and last seen
// before cuts[i] (unix seconds). It reads the whole model.
func (s *Store) SpamPruneHistogram(user string, maxCount uint32, cuts []int64) ([][]uint64, error) {
	hist := make([][]uint64, maxCount)
	for c := range hist {
		hist[c] = make([]uint64, len(cuts))
	}
	err := s.view(func(r reader) error {
		p := spamTokenPrefix(user)
		return scanRange(r, p, prefixEnd(p), func(k, v []byte) (bool, error) {
			rec, ok := decodeSpamToken(v)
			c := uint64(rec.spam) + uint64(rec.ham)
			if !ok || c == 0 || c > uint64(maxCount) {
				return true, nil
			}
			for i, cut := range cuts {
				if int64(rec.seen) < cut {
					hist[c-1][i]++
				}
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: spam prune histogram: %w", err)
	}
	return hist, nil
}
