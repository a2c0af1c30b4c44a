package imap

import (
	"container/list"
	"fmt"
	"sync"

	"github.com/surat-mail/surat/protocols/imap/sortthread"
)

// SORT and THREAD (RFC 5256, RFC 5957 SORT=DISPLAY, RFC 5267 ESORT) over
// a session's view: the search criteria pick view positions, then the
// messages' keys come from the view's records (ARRIVAL, SIZE) and, only
// when a criterion or the algorithm needs them, from header summaries
// (package sortthread). Summaries are kept per body in a cache of their
// own (summaryCache, a share of Config.HeaderCacheSize): a summary is a
// few hundred bytes where a header block is kilobytes, so a 10,000-message
// mailbox's stay cached when its headers would not, and a second SORT
// reads nothing from the store. Headers of the summaries that miss are
// read ahead a batch at a time under one store view, as FETCH does.

// summaryCacheShare: the summary cache is bounded by 1/summaryCacheShare
// of the header cache's bytes (16 MiB of 64 MiB: some 40,000 summaries).
const summaryCacheShare = 4

// summaryCache holds the SORT/THREAD summaries of message headers, keyed
// by body hash (immutable, like the header cache's entries), bounded by
// an estimate of their bytes, least recently used out. Safe for
// concurrent use.
type summaryCache struct {
	max int64

	mu      sync.Mutex
	size    int64
	lru     *list.List // of *summaryEntry, most recent first
	entries map[string]*list.Element
}

type summaryEntry struct {
	key string
	sum *sortthread.Summary
}

func newSummaryCache(max int64) *summaryCache {
	return &summaryCache{max: max, lru: list.New(), entries: map[string]*list.Element{}}
}

// summaryCost estimates the bytes an entry holds.
func summaryCost(key string, s *sortthread.Summary) int64 {
	n := len(key) + len(s.Subject) + len(s.From) + len(s.To) + len(s.Cc) + len(s.DisplayFrom) +
		len(s.DisplayTo) + len(s.MessageID) + 16*len(s.References)
	for _, r := range s.References {
		n += len(r)
	}
	return int64(n) + 256 // the entry, list and map cells, string headers
}

func (c *summaryCache) get(hash []byte) *sortthread.Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[string(hash)]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*summaryEntry).sum
}

func (c *summaryCache) add(hash []byte, s *sortthread.Summary) {
	e := &summaryEntry{key: string(hash), sum: s}
	cost := summaryCost(e.key, s)
	if cost > c.max/8 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[e.key]; ok {
		return
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.size += cost
	for c.size > c.max {
		el := c.lru.Back()
		old := el.Value.(*summaryEntry)
		c.lru.Remove(el)
		delete(c.entries, old.key)
		c.size -= summaryCost(old.key, old.sum)
	}
}

// sortMessages describes the messages at positions idx of the view v
// (0-based, in mailbox order) for package sortthread: IDs are sequence
// numbers, or UIDs with uid. Header summaries are read only with
// withHeader.
func (srv *Server) sortMessages(v *snapshot, idx []int, uid, withHeader bool) ([]sortthread.Message, error) {
	msgs := make([]sortthread.Message, 0, len(idx))
	sums := srv.headers.summaries
	for start := 0; start < len(idx); start += prefetchBatch {
		batch := idx[start:min(start+prefetchBatch, len(idx))]
		if withHeader {
			// Headers are read ahead only for the summaries not cached.
			var miss [][]byte
			for _, i := range batch {
				if i >= 0 && i < len(v.uids) && sums.get(v.msgs[i].rec.GetBlob()) == nil {
					miss = append(miss, v.msgs[i].rec.GetBlob())
				}
			}
			if len(miss) > 0 {
				srv.prefetchHeaders(miss)
			}
		}
		for _, i := range batch {
			if i < 0 || i >= len(v.uids) {
				continue
			}
			rec := v.msgs[i].rec
			m := sortthread.Message{ID: uint32(i + 1), Arrival: rec.GetInternalDateUnix(), Size: rec.GetSize()}
			if uid {
				m.ID = v.uids[i]
			}
			if withHeader {
				sum, err := srv.sortSummary(rec.GetBlob())
				if err != nil {
					return nil, fmt.Errorf("sort: header of uid %d: %w", v.uids[i], err)
				}
				m.Summary = sum
			}
			msgs = append(msgs, m)
		}
	}
	return msgs, nil
}

// sortSummary is the summary of the header of the body with hash: from
// the summary cache, or made from the header (through the header cache;
// from the whole body when its header is too long to be read on its own)
// and cached.
func (srv *Server) sortSummary(hash []byte) (*sortthread.Summary, error) {
	sums := srv.headers.summaries
	if s := sums.get(hash); s != nil {
		return s, nil
	}
	var header []byte
	e, err := srv.header(hash)
	switch {
	case err != nil:
		return nil, err
	case e != nil:
		header = e.header
	default:
		if header, err = srv.cfg.Store.Blob(hash); err != nil {
			return nil, err
		}
	}
	s := sortthread.Summarize(header)
	sums.add(hash, s)
	return s, nil
}

// sortView answers SORT / UID SORT (RFC 5256 §3) for the view positions
// idx: sequence numbers, or UIDs with uid, in the order criteria give.
func (srv *Server) sortView(v *snapshot, idx []int, criteria []sortthread.Criterion, uid bool) ([]uint32, error) {
	withHeader := false
	for _, c := range criteria {
		withHeader = withHeader || c.Key.NeedsHeader()
	}
	msgs, err := srv.sortMessages(v, idx, uid, withHeader)
	if err != nil {
		return nil, err
	}
	return sortthread.Sort(msgs, criteria), nil
}

// threadView answers THREAD / UID THREAD (RFC 5256 §3) with alg for the
// view positions idx.
func (srv *Server) threadView(v *snapshot, idx []int, alg sortthread.Algorithm, uid bool) ([]*sortthread.Thread, error) {
	msgs, err := srv.sortMessages(v, idx, uid, true)
	if err != nil {
		return nil, err
	}
	return sortthread.Threads(msgs, alg), nil
}
