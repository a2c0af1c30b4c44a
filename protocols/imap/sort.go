package imap

import (
	"fmt"

	"github.com/surat-mail/surat/protocols/imap/sortthread"
)

// SORT and THREAD (RFC 5256, RFC 5957 SORT=DISPLAY, RFC 5267 ESORT) over
// a session's view: the search criteria pick view positions, then the
// messages' keys come from the view's records (ARRIVAL, SIZE) and, only
// when a criterion or the algorithm needs them, from header summaries
// (package sortthread) kept with the node's header cache entries
// (headercache.go), so a second SORT of a mailbox reads nothing. Headers
// that miss the cache are read ahead a batch at a time under one store
// view, as FETCH does. A mailbox whose headers do not fit the header cache
// (Config.HeaderCacheSize) has them read again at each SORT.

// sortSummary is the SORT/THREAD summary of the entry's header, computed
// once.
func (e *headerEntry) sortSummary() *sortthread.Summary {
	e.sumOnce.Do(func() { e.summary = sortthread.Summarize(e.header) })
	return e.summary
}

// sortMessages describes the messages at positions idx of the view v
// (0-based, in mailbox order) for package sortthread: IDs are sequence
// numbers, or UIDs with uid. Header summaries are read only with
// withHeader.
func (srv *Server) sortMessages(v *snapshot, idx []int, uid, withHeader bool) ([]sortthread.Message, error) {
	msgs := make([]sortthread.Message, 0, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(v.uids) {
			continue
		}
		if withHeader && k%prefetchBatch == 0 {
			hashes := make([][]byte, 0, prefetchBatch)
			for _, j := range idx[k:min(k+prefetchBatch, len(idx))] {
				if j >= 0 && j < len(v.uids) {
					hashes = append(hashes, v.msgs[j].rec.GetBlob())
				}
			}
			srv.prefetchHeaders(hashes)
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
	return msgs, nil
}

// sortSummary is the summary of the header of the body with hash: from
// the header cache, or from the whole body when its header is too long to
// be read on its own.
func (srv *Server) sortSummary(hash []byte) (*sortthread.Summary, error) {
	e, err := srv.header(hash)
	if err != nil {
		return nil, err
	}
	if e != nil {
		return e.sortSummary(), nil
	}
	body, err := srv.cfg.Store.Blob(hash)
	if err != nil {
		return nil, err
	}
	return sortthread.Summarize(body), nil
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
