package mailbox

import (
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// spamMirrorMaxEntries bounds the tokens the mirror holds across models.
// An entry costs about 35 bytes of Go heap in a model loaded from Pebble
// (a map slot of an 8-byte key and a 12-byte spamToken, padded to 24
// bytes, plus the map's control bytes and load-factor slack:
// BenchmarkSpamMirrorBytes), up to twice that in a map that grew by
// doubling through apply; so the cap is 70 to 140 MB: the global model of
// a large corpus (~650k tokens for SpamAssassin's public corpus) and the
// busiest users' models.
const spamMirrorMaxEntries = 2_000_000

// spamMirror is an exact in-memory copy of the classifier's models (the
// "spt/" records), so that apply and SpamCounts look a token up in a Go
// map instead of a Pebble point read (~3 µs each, mostly memtable seeks;
// a message has hundreds of tokens). Pebble stays the source of truth: the
// mirror is not part of snapshots or the digest, and apply writes Pebble
// exactly as without it.
//
// A model is loaded lazily, on its first use by a read or by apply, by
// iterating its prefix in the committed database under the write lock;
// once loaded, a token absent from its map is absent from Pebble. Apply
// records what a proposal writes in a spamOverlay and hands it to update
// only after the proposal's batch committed: the overlay holds absolute
// values, so applying it to a model loaded after the commit (which already
// has them) is harmless, and a refused proposal's overlay is dropped.
//
// The mirror holds at most max entries: loading a model that would pass it
// evicts other models, least recently used first; a model that does not
// fit even then is not mirrored, and its reads and apply use Pebble point
// reads as before.
type spamMirror struct {
	mu      sync.RWMutex
	models  map[string]*spamMirrorModel
	entries int // tokens held across models
	max     int // spamMirrorMaxEntries; tests lower it
	// disabled turns the mirror off (tests comparing apply with and
	// without it): every model is "not mirrored".
	disabled bool
	clock    atomic.Uint64 // orders uses for eviction
}

// spamMirrorModel is one loaded model.
type spamMirrorModel struct {
	tokens map[uint64]spamToken
	used   atomic.Uint64 // clock value of the last use
}

func newSpamMirror() *spamMirror {
	return &spamMirror{models: map[string]*spamMirrorModel{}, max: spamMirrorMaxEntries}
}

// with runs fn on user's model under the read lock (fn must not keep the
// map), loading the model from db first if needed. It returns false,
// without calling fn, when the model is not mirrored (disabled, or too
// large for the cap): the caller reads Pebble instead. The caller holds
// the store's read lock, so db stays open.
func (m *spamMirror) with(db *pebble.DB, user string, fn func(tokens map[uint64]spamToken)) (bool, error) {
	if m.disabled {
		return false, nil
	}
	m.mu.RLock()
	if mod := m.models[user]; mod != nil {
		mod.used.Store(m.clock.Add(1))
		fn(mod.tokens)
		m.mu.RUnlock()
		return true, nil
	}
	m.mu.RUnlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	mod := m.models[user]
	if mod == nil {
		var err error
		if mod, err = m.load(db, user); err != nil || mod == nil {
			return false, err
		}
	}
	mod.used.Store(m.clock.Add(1))
	fn(mod.tokens)
	return true, nil
}

// load reads user's model from db into the mirror, evicting other models
// to make room; nil when it does not fit. Under the write lock.
func (m *spamMirror) load(db *pebble.DB, user string) (*spamMirrorModel, error) {
	v, ok, err := readValue(db, spamTotalsKey(user))
	if err != nil {
		return nil, err
	}
	// The totals count the model's tokens (apply keeps them exact), so a
	// model that cannot fit is known without reading it.
	size := 0
	if ok {
		n := decodeSpamTotals(v).tokens
		if n > uint64(m.max) {
			return nil, nil
		}
		size = int(n)
	}
	m.evict(m.max-size, user)
	if m.entries+size > m.max {
		return nil, nil
	}
	mod := &spamMirrorModel{tokens: make(map[uint64]spamToken, size)}
	p := spamTokenPrefix(user)
	room := m.max - m.entries
	fits := true
	err = scanRange(db, p, prefixEnd(p), func(k, v []byte) (bool, error) {
		if len(k) != len(p)+8 {
			return true, nil // not a token key: no point read finds it
		}
		// A value that does not decode counts zero but is present, as
		// for a point read.
		rec, _ := decodeSpamToken(v)
		if len(mod.tokens) >= room {
			fits = false
			return false, nil
		}
		mod.tokens[binary.BigEndian.Uint64(k[len(p):])] = rec
		return true, nil
	})
	if err != nil || !fits {
		return nil, err
	}
	m.models[user] = mod
	m.entries += len(mod.tokens)
	return mod, nil
}

// evict drops models, least recently used first, other than keep, until
// the mirror holds at most limit entries or only keep is left. Under the
// write lock.
func (m *spamMirror) evict(limit int, keep string) {
	if m.entries <= limit {
		return
	}
	type victim struct {
		user string
		used uint64
	}
	var vs []victim
	for u, mod := range m.models {
		if u != keep {
			vs = append(vs, victim{u, mod.used.Load()})
		}
	}
	slices.SortFunc(vs, func(a, b victim) int {
		if a.used < b.used {
			return -1
		}
		if a.used > b.used {
			return 1
		}
		return 0
	})
	for _, v := range vs {
		if m.entries <= limit {
			return
		}
		m.drop(v.user)
	}
}

// drop forgets user's model. Under the write lock.
func (m *spamMirror) drop(user string) {
	if mod := m.models[user]; mod != nil {
		m.entries -= len(mod.tokens)
		delete(m.models, user)
	}
}

// clear forgets every model (the store's database was replaced).
func (m *spamMirror) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.models)
	m.entries = 0
}

// update applies a committed proposal's overlay. Models not loaded are
// left alone: loading reads the committed state, which has the overlay.
func (m *spamMirror) update(ov spamOverlay) {
	if len(ov) == 0 || m.disabled {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for user, o := range ov {
		if o.reset {
			// The model was deleted (UserDeleted): whatever the proposal
			// wrote after that is loaded again from Pebble when used.
			m.drop(user)
			continue
		}
		mod := m.models[user]
		if mod == nil {
			continue
		}
		for tok, w := range o.tokens {
			_, had := mod.tokens[tok]
			switch {
			case w.deleted && had:
				delete(mod.tokens, tok)
				m.entries--
			case !w.deleted:
				if !had {
					m.entries++
				}
				mod.tokens[tok] = w.rec
			}
		}
		if m.entries > m.max {
			m.evict(m.max, user)
			if m.entries > m.max {
				// The model grew past the cap alone: read from Pebble
				// from now on.
				m.drop(user)
			}
		}
	}
}

// spamOverlay is what one proposal wrote to the models, by user: reads
// within the proposal see it before the mirror, and the mirror gets it
// once the proposal committed.
type spamOverlay map[string]*spamOverlayModel

type spamOverlayModel struct {
	// reset: the model was deleted in this proposal; tokens not in tokens
	// are absent.
	reset  bool
	tokens map[uint64]spamOverlayToken
}

// spamOverlayToken is a token's new record, or its deletion.
type spamOverlayToken struct {
	rec     spamToken
	deleted bool
}

// model returns user's overlay, creating it.
func (ov spamOverlay) model(user string) *spamOverlayModel {
	o := ov[user]
	if o == nil {
		o = &spamOverlayModel{tokens: map[uint64]spamOverlayToken{}}
		ov[user] = o
	}
	return o
}
