package imap

import (
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/sortthread"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// Search contexts (RFC 5267 §4, CONTEXT=SEARCH and CONTEXT=SORT): a SEARCH
// or SORT with RETURN (UPDATE) leaves a context, named by the command's
// tag, whose result the server keeps current. As the selected mailbox
// changes — messages added, expunged, or their flags changed, by this
// session or any other on any node — the view's update (report in
// view.go, expungeOwn) tells each context what changed, the context
// evaluates its search program on those messages only, and sends
//
//	* ESEARCH (TAG "t") [UID] REMOVEFROM (pos set)
//	* ESEARCH (TAG "t") [UID] ADDTO (pos set)
//
// (§4.3). A SEARCH context sends position 0 ("positions are not
// required", §4.3) and one set; a SORT context sends each message with its
// position in the sort order (1-based): REMOVEFROM from the last position
// down, each position counted before that message's removal, and ADDTO
// from the first up, each position the message's position once added, so
// that a client applying them in order holds the server's result.
// REMOVEFROM goes out before the EXPUNGE responses of the same update,
// numbered as the client numbers messages then; ADDTO after EXISTS.
//
// Contexts live in the selected mailbox: SELECT, EXAMINE, CLOSE and
// UNSELECT end them. A session holds at most maxSearchContexts; beyond,
// and for search programs a change cannot be evaluated on alone (message
// numbers, which shift on expunge; "*" and "$", whose meaning moves; RECENT
// and WITHIN, which change with no event), the command answers its result
// with OK [NOUPDATE "tag"] (§4.3.1) and keeps no context. Everything here
// runs on the session goroutine (conn.go).

// maxSearchContexts bounds the contexts one session keeps (RFC 5267
// §4.3.1 lets a server refuse more).
const maxSearchContexts = 10

// searchContext is one context.
type searchContext struct {
	s        *session
	tag      string
	uid      bool                   // UID SEARCH/UID SORT: updates carry UIDs
	criteria *wire.SearchCriteria   // the search program
	sort     []sortthread.Criterion // nil for SEARCH
	// result is the UIDs the client holds: ascending for SEARCH, in sort
	// order for SORT.
	result []uint32
	ended  bool // NOUPDATE sent (add): dropped once the update is out
}

// incrementalCriteria reports whether a change can be evaluated on the
// changed message alone for every key of c.
func incrementalCriteria(c *wire.SearchCriteria) bool {
	if len(c.SeqNum) > 0 || c.Younger != 0 || c.Older != 0 {
		return false
	}
	for _, set := range c.UID {
		if imap.IsSearchRes(set) {
			return false
		}
		for _, r := range set {
			if r.Start == 0 || r.Stop == 0 { // "*"
				return false
			}
		}
	}
	for _, f := range append(slices.Clone(c.Flag), c.NotFlag...) {
		if f == wire.FlagRecent {
			return false
		}
	}
	for i := range c.Not {
		if !incrementalCriteria(&c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !incrementalCriteria(&c.Or[i][0]) || !incrementalCriteria(&c.Or[i][1]) {
			return false
		}
	}
	return true
}

// contextFor finds the context named tag.
func (sel *selected) contextFor(tag string) int {
	return slices.IndexFunc(sel.contexts, func(c *searchContext) bool { return c.tag == tag })
}

// registerContext keeps a context for a SEARCH or SORT with RETURN
// (UPDATE) whose result, as UIDs in the client's order, is result. It
// returns the NOUPDATE response code when it keeps none (RFC 5267 §4.3.1),
// "" when it does.
func (s *session) registerContext(tag string, uid bool, criteria *wire.SearchCriteria, sort []sortthread.Criterion, partial bool, result []uint32) string {
	sel := s.sel
	switch {
	case partial, len(sel.contexts) >= maxSearchContexts, !incrementalCriteria(criteria):
		return `NOUPDATE ` + quoteTag(tag)
	}
	sel.contexts = append(sel.contexts, &searchContext{s: s, tag: tag, uid: uid, criteria: criteria, sort: sort, result: result})
	return ""
}

// quoteTag quotes a command tag: tags hold neither '"' nor '\' (RFC 9051
// §9, tag is astring-char less "+", and quoted-specials are no
// astring-char).
func quoteTag(tag string) string { return `"` + tag + `"` }

// uidsOfSeqs maps the view's sequence numbers to UIDs, in the order given.
func (sel *selected) uidsOfSeqs(seqs []uint32) []uint32 {
	out := make([]uint32, 0, len(seqs))
	for _, n := range seqs {
		if n >= 1 && int(n) <= len(sel.view.uids) {
			out = append(out, sel.view.uids[n-1])
		}
	}
	return out
}

// contextPending is what report found for the contexts before the view
// moved on: the UIDs each context gains, written once the client knows
// their numbers (contextsAdd).
type contextPending map[*searchContext][]uint32

// contextsRemove evaluates every context on the messages that changed
// between the view (what the client knows) and cur: new messages and
// those whose modseq moved. It writes REMOVEFROM, numbered in the view
// before any EXPUNGE of this update, for messages that no longer match or
// are gone (when expunges may be reported, allowExpunge), and returns the
// messages to add.
func (sel *selected) contextsRemove(cur *snapshot, allowExpunge bool) (contextPending, error) {
	if len(sel.contexts) == 0 {
		return nil, nil
	}
	old := sel.view
	// The changed messages, once for every context: a merge of two
	// ascending UID lists.
	var changed []int // positions in cur
	gone := map[uint32]bool{}
	i, j := 0, 0
	for i < len(old.uids) || j < len(cur.uids) {
		switch {
		case j >= len(cur.uids) || i < len(old.uids) && old.uids[i] < cur.uids[j]:
			if allowExpunge {
				gone[old.uids[i]] = true
			}
			i++
		case i >= len(old.uids) || cur.uids[j] < old.uids[i]:
			changed = append(changed, j)
			j++
		default:
			if old.msgs[i].modseq != cur.msgs[j].modseq {
				changed = append(changed, j)
			}
			i++
			j++
		}
	}
	if len(changed) == 0 && len(gone) == 0 {
		return nil, nil
	}
	pending := contextPending{}
	for _, ctx := range sel.contexts {
		drop := map[uint32]bool{}
		var add []uint32
		in := make(map[uint32]bool, len(ctx.result))
		for _, u := range ctx.result {
			in[u] = true
			if gone[u] {
				drop[u] = true
			}
		}
		for _, k := range changed {
			uid := cur.uids[k]
			c := &candidate{s: ctx.s, sel: sel, uid: uid, rec: cur.msgs[k].rec}
			match := c.match(ctx.criteria)
			if c.err != nil {
				// Unread (the store failed): the result stays as the
				// client has it rather than be wrongly updated.
				ctx.s.log.Warn("imap search context: evaluation failed", "mailbox", sel.name, "uid", uid, "err", c.err)
				continue
			}
			switch {
			case match && !in[uid]:
				add = append(add, uid)
			case !match && in[uid]:
				drop[uid] = true
			}
		}
		if len(drop) > 0 {
			if err := ctx.remove(drop); err != nil {
				return nil, err
			}
		}
		if len(add) > 0 {
			pending[ctx] = add
		}
	}
	return pending, nil
}

// contextsAdd writes the ADDTO responses report found, numbered in the
// view the client now holds.
func (sel *selected) contextsAdd(pending contextPending) error {
	for _, ctx := range sel.contexts {
		if add := pending[ctx]; len(add) > 0 {
			if err := ctx.add(add); err != nil {
				return err
			}
		}
	}
	sel.contexts = slices.DeleteFunc(sel.contexts, func(c *searchContext) bool { return c.ended })
	return nil
}

// contextsExpunged writes REMOVEFROM for messages this session expunged
// (EXPUNGE, MOVE; expungeOwn), before their EXPUNGE responses.
func (sel *selected) contextsExpunged(drop map[uint32]bool) error {
	for _, ctx := range sel.contexts {
		mine := map[uint32]bool{}
		for _, u := range ctx.result {
			if drop[u] {
				mine[u] = true
			}
		}
		if len(mine) > 0 {
			if err := ctx.remove(mine); err != nil {
				return err
			}
		}
	}
	return nil
}

// number is how the client names uid: itself, or its sequence number in
// the view.
func (ctx *searchContext) number(uid uint32) uint32 {
	if ctx.uid {
		return uid
	}
	return uint32(ctx.s.sel.view.index(uid) + 1)
}

// start begins an ESEARCH update of ctx (RFC 5267 §4.3).
func (ctx *searchContext) start() *wire.Encoder {
	e := ctx.s.enc.Untagged().Atom("ESEARCH").SP().Open().Atom("TAG").SP().String(ctx.tag).Close()
	if ctx.uid {
		e.SP().Atom("UID")
	}
	return e
}

// remove takes drop out of ctx's result and writes REMOVEFROM.
func (ctx *searchContext) remove(drop map[uint32]bool) error {
	e := ctx.start()
	if ctx.sort == nil {
		var nums imap.SeqSet
		for _, u := range ctx.result {
			if drop[u] {
				nums.AddNum(ctx.number(u))
			}
		}
		e.SP().Atom("REMOVEFROM").SP().Open().Number(0).SP().NumSet(nums).Close()
	} else {
		for i := len(ctx.result) - 1; i >= 0; i-- {
			if u := ctx.result[i]; drop[u] {
				e.SP().Atom("REMOVEFROM").SP().Open().Number(uint32(i + 1)).SP().Number(ctx.number(u)).Close()
			}
		}
	}
	ctx.result = slices.DeleteFunc(ctx.result, func(u uint32) bool { return drop[u] })
	return e.CRLF().Err()
}

// add puts uids into ctx's result and writes ADDTO; for SORT the new
// order is the sort of the result and uids over the view (the result
// alone, not the mailbox, is sorted again). When the sort keys cannot be
// read (the store failed), the context ends with an untagged
// NO [NOUPDATE "tag"] (RFC 5267 §4.3.1) rather than send a wrong order.
func (ctx *searchContext) add(uids []uint32) error {
	sel := ctx.s.sel
	if ctx.sort == nil {
		var nums imap.SeqSet
		for _, u := range uids {
			nums.AddNum(ctx.number(u))
		}
		ctx.result = append(ctx.result, uids...)
		slices.Sort(ctx.result)
		ctx.result = slices.Compact(ctx.result)
		return ctx.start().SP().Atom("ADDTO").SP().Open().Number(0).SP().NumSet(nums).Close().CRLF().Err()
	}
	all := append(slices.Clone(ctx.result), uids...)
	idx := make([]int, 0, len(all))
	for _, u := range all {
		if k := sel.view.index(u); k >= 0 {
			idx = append(idx, k)
		}
	}
	slices.Sort(idx)
	order, err := ctx.s.srv.sortView(sel.view, idx, ctx.sort, true)
	if err != nil {
		ctx.s.log.Warn("imap search context: sort failed, context ended", "mailbox", sel.name, "err", err)
		ctx.ended = true
		ctx.s.enc.Status("*", "NO", "NOUPDATE "+quoteTag(ctx.tag), "Search context ended")
		return ctx.s.enc.Err()
	}
	e := ctx.start()
	added := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		added[u] = true
	}
	for i, u := range order {
		if added[u] {
			e.SP().Atom("ADDTO").SP().Open().Number(uint32(i + 1)).SP().Number(ctx.number(u)).Close()
		}
	}
	ctx.result = order
	return e.CRLF().Err()
}

// partialOf cuts the results (in the order returned) to the PARTIAL range
// p (RFC 5267 §4.4, RFC 9394 §3: counted from the end when negative).
func partialOf(ids []uint32, p *wire.PartialRange) []uint32 {
	n := uint32(len(ids))
	first, last := p.First, p.Last // 1-based, first <= last
	if p.FromEnd {
		if first > n {
			return nil
		}
		first, last = n-min(last, n)+1, n-first+1
	}
	if first > n {
		return nil
	}
	return ids[first-1 : min(last, n)]
}

// writePartial writes "PARTIAL (range set)" or "PARTIAL (range NIL)".
func writePartial(e *wire.Encoder, p *wire.PartialRange, ids []uint32, ordered bool) {
	rng := utoa(p.First) + ":" + utoa(p.Last)
	if p.FromEnd {
		rng = "-" + utoa(p.First) + ":-" + utoa(p.Last)
	}
	e.SP().Atom("PARTIAL").SP().Open().Raw(rng).SP()
	switch {
	case len(ids) == 0:
		e.Atom("NIL")
	case ordered:
		e.Raw(orderedSet(ids))
	default:
		var set imap.SeqSet
		for _, id := range ids {
			set.AddNum(id)
		}
		e.NumSet(set)
	}
	e.Close()
}

// cmdCancelUpdate: CANCELUPDATE (RFC 5267 §4.5) ends the contexts named;
// a name that is no context is BAD, and none is ended then.
func cmdCancelUpdate(s *session, c *command) error {
	tags, err := c.dec.ReadCancelUpdate()
	if err != nil {
		return err
	}
	for _, t := range tags {
		if s.sel.contextFor(t) < 0 {
			return bad("Unknown search context " + t)
		}
	}
	for _, t := range tags {
		if i := s.sel.contextFor(t); i >= 0 {
			s.sel.contexts = slices.Delete(s.sel.contexts, i, i+1)
		}
	}
	return nil
}
