package imap

import (
	"bufio"
	"bytes"
	"container/list"
	"sync"

	"github.com/emersion/go-message/textproto"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

// defaultHeaderCacheSize bounds the node's header cache when
// Config.HeaderCacheSize is zero.
const defaultHeaderCacheSize = 64 << 20

// maxHeaderRead is the longest header block read on its own; a message
// whose header is longer (or has no end within it) is served from its
// whole body, uncached.
const maxHeaderRead = 1 << 20

// headerCache holds the header blocks of message bodies, keyed by blob
// hash, for ENVELOPE, header-only FETCH sections and header SEARCH
// criteria. Bodies are content-addressed and immutable, so an entry never
// goes stale and needs no invalidation; a collected body's entry only
// ages out. One cache per Server, shared by all its sessions; bounded by
// the bytes it holds (header, key and an allowance for the parsed
// envelope), least recently used first out. Safe for concurrent use.
type headerCache struct {
	max int64

	mu      sync.Mutex
	size    int64
	lru     *list.List // of *headerEntry, most recent first
	entries map[string]*list.Element
}

// headerEntry is one body's header block: header is the raw bytes up to
// and including the blank line that ends it (the whole body if it has
// none). Immutable once made, apart from the envelope parsed on first use.
type headerEntry struct {
	key    string
	header []byte

	once sync.Once
	env  *imapmsg.Envelope

	hOnce  sync.Once
	parsed *textproto.Header
}

// entryOverhead is charged per entry on top of its bytes: the list and
// map cells, the entry and the parsed structures' own overhead.
const entryOverhead = 512

func (e *headerEntry) cost() int64 {
	// The raw bytes, and about as much again for each of the parsed header
	// and envelope.
	return int64(len(e.key)) + 3*int64(len(e.header)) + entryOverhead
}

// envelope is the ENVELOPE of the header (imapmsg), parsed once.
func (e *headerEntry) envelope() *imapmsg.Envelope {
	e.once.Do(func() { e.env = imapmsg.ParseEnvelope(e.header) })
	return e.env
}

// shared is the parsed header, parsed once and shared by every caller: it
// must only be read (never Set, Add or Del). A header that does not parse
// is empty, as SEARCH treats it.
func (e *headerEntry) shared() *textproto.Header {
	e.hOnce.Do(func() {
		if h, err := e.parse(); err == nil {
			e.parsed = &h
		} else {
			e.parsed = &textproto.Header{}
		}
	})
	return e.parsed
}

// parse reads the header into a fresh textproto.Header the caller may
// keep.
func (e *headerEntry) parse() (textproto.Header, error) {
	return textproto.ReadHeader(bufio.NewReader(bytes.NewReader(e.header)))
}

func newHeaderCache(max int64) *headerCache {
	return &headerCache{max: max, lru: list.New(), entries: map[string]*list.Element{}}
}

func (c *headerCache) get(hash []byte) *headerEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[string(hash)]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*headerEntry)
}

// add stores header under hash and returns the entry (an existing one if
// another session added it first). An entry too large for the cache is
// returned but not kept.
func (c *headerCache) add(hash, header []byte) *headerEntry {
	e := &headerEntry{key: string(hash), header: header}
	if e.cost() > c.max/8 {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*headerEntry)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.size += e.cost()
	for c.size > c.max {
		el := c.lru.Back()
		old := el.Value.(*headerEntry)
		c.lru.Remove(el)
		delete(c.entries, old.key)
		c.size -= old.cost()
	}
	return e
}

// stats is the number of entries and the bytes charged (tests).
func (c *headerCache) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.size
}

// headerEnd is the length of the header block at the start of p, through
// the blank line that ends it (as textproto.ReadHeader reads it), or -1
// when p holds no blank line.
func headerEnd(p []byte) int {
	switch {
	case bytes.HasPrefix(p, []byte("\n")):
		return 1
	case bytes.HasPrefix(p, []byte("\r\n")):
		return 2
	}
	end := -1
	if i := bytes.Index(p, []byte("\n\n")); i >= 0 {
		end = i + 2
	}
	if i := bytes.Index(p, []byte("\n\r\n")); i >= 0 && (end < 0 || i+3 < end) {
		end = i + 3
	}
	return end
}

// header returns the header block of the body with hash, from the cache or
// by reading the body only up to the end of its header. It returns nil
// (and no error) when the header is too long to read on its own: the
// caller then parses the whole body, as before.
func (s *Server) header(hash []byte) (*headerEntry, error) {
	if e := s.headers.get(hash); e != nil {
		return e, nil
	}
	prefix, complete, err := s.cfg.Store.BlobPrefix(hash, stopAtHeader)
	if err != nil {
		return nil, err
	}
	return s.addHeader(hash, prefix, complete), nil
}

// prefetchHeaders reads into the cache, under one store view, the headers
// of those bodies that miss it. Errors are left for header to meet again.
func (s *Server) prefetchHeaders(hashes [][]byte) {
	var miss [][]byte
	for _, h := range hashes {
		if s.headers.get(h) == nil {
			miss = append(miss, h)
		}
	}
	if len(miss) == 0 {
		return
	}
	type read struct {
		prefix   []byte
		complete bool
	}
	got := make([]read, len(miss))
	err := s.cfg.Store.BlobPrefixes(miss, stopAtHeader, func(i int, prefix []byte, complete bool, err error) {
		if err == nil {
			got[i] = read{prefix, complete}
		}
	})
	if err != nil {
		return
	}
	for i, r := range got {
		if r.prefix != nil || r.complete {
			s.addHeader(miss[i], r.prefix, r.complete)
		}
	}
}

func stopAtHeader(p []byte) bool { return headerEnd(p) >= 0 || len(p) >= maxHeaderRead }

// addHeader caches the header block found in prefix (complete: the whole
// body), or returns nil when it is too long to read on its own.
func (s *Server) addHeader(hash, prefix []byte, complete bool) *headerEntry {
	end := headerEnd(prefix)
	switch {
	case end >= 0 && end <= maxHeaderRead:
		prefix = bytes.Clone(prefix[:end])
	case end < 0 && complete && len(prefix) <= maxHeaderRead:
		// No blank line: the whole body is the header.
	default:
		return nil
	}
	return s.headers.add(hash, prefix)
}
