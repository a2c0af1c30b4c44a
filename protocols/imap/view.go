package imap

import (
	"slices"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/acl"
)

// updateWriter is what report writes unilateral updates to (the
// session's responses, respond.go).
type updateWriter interface {
	WriteExpunge(seqNum uint32) error
	WriteNumMessages(n uint32) error
	// modseq goes out as MODSEQ once CONDSTORE is enabled (RFC 7162 §3.1).
	WriteMessageFlags(seqNum uint32, uid imap.UID, flags []imap.Flag, modseq uint64) error
	WriteMailboxFlags(flags []imap.Flag) error
	WriteNumRecent(n uint32) error
}

// selected is a session's selected mailbox: the shared state and the
// session's own view of it, which is exactly what the client has been told
// (RFC 9051 §7.4.1: sequence numbers change only through EXPUNGE and
// EXISTS responses the client has seen). Sequence numbers in commands are
// positions in view.
type selected struct {
	state    *mailboxState
	name     string
	readOnly bool
	// owner is the mailbox's owner; rights the user's on it (acl.All on
	// their own), read again when aclGen falls behind the hub's count
	// (shared.go).
	owner  string
	rights acl.Rights
	aclGen uint64
	view   *snapshot
	// suppress holds this session's own STORE results: a UID whose modseq
	// is at most the value here is not reported again as a unilateral
	// FETCH FLAGS (RFC 9051 §6.4.6: .SILENT means no FETCH for the
	// session's own change).
	suppress map[uint32]uint64
	// searchRes is the SEARCHRES "$" (RFC 5182), as UIDs.
	searchRes imap.UIDSet
	// keywords were announced to the client in untagged FLAGS, in that
	// order; knownKeywords holds them in lower case (keywords.go).
	keywords      []imap.Flag
	knownKeywords map[string]bool
	// again are UIDs whose flags the next report writes whether they
	// changed or not (keywords.go, reportAgain).
	again map[uint32]bool
	// recent are the UIDs recent in this session; showRecent is false
	// once IMAP4rev2 is enabled (recent.go).
	recent     recentSet
	showRecent bool
	// contexts are the search contexts kept current (RFC 5267 §4,
	// searchctx.go).
	contexts []*searchContext
}

// report brings the view up to cur, writing what changed (RFC 9051 §7.4):
// EXPUNGE for messages gone (only when allowed: never during FETCH, STORE
// or SEARCH, §7.4.1), FETCH FLAGS for messages whose flags changed, and
// EXISTS when messages were added. New UIDs are always above every UID the
// view holds (UIDs are assigned in increasing order), so new messages only
// ever extend the sequence.
//
// A user whose r right on a shared mailbox was taken (RFC 4314 §4; the
// rights are read again before each command and each IDLE wake-up,
// syncRights) hears nothing more of it: the view stays where it was, and
// catches up if the right comes back.
func (sel *selected) report(w updateWriter, cur *snapshot, allowExpunge bool) error {
	if cur == sel.view && len(sel.again) == 0 || !sel.rights.Has(acl.Read) {
		return nil
	}
	// Search contexts (searchctx.go): REMOVEFROM before the EXPUNGEs,
	// ADDTO once the client knows the new messages.
	pending, err := sel.contextsRemove(cur, allowExpunge)
	if err != nil {
		return err
	}
	if err := sel.reportView(w, cur, allowExpunge); err != nil {
		return err
	}
	return sel.contextsAdd(pending)
}

// reportView is report without the search contexts.
func (sel *selected) reportView(w updateWriter, cur *snapshot, allowExpunge bool) error {
	old := sel.view
	// Keywords first (keywords.go): FLAGS names every keyword before a
	// FETCH below carries it.
	if sel.newKeywords(cur) {
		if err := w.WriteMailboxFlags(sel.mailboxFlags()); err != nil {
			return err
		}
	}
	// Expunges, from the highest sequence number down so that each number
	// is valid when the client reads it.
	var kept []uint32
	var keptMsgs []msgState
	deferred := false
	// With QRESYNC, one VANISHED for them all (RFC 7162 §3.2.10).
	vanished := vanishedMode(w)
	for i := len(old.uids) - 1; i >= 0; i-- {
		if cur.index(old.uids[i]) >= 0 {
			continue
		}
		if !allowExpunge {
			deferred = true
			continue
		}
		if vanished != nil {
			continue
		}
		if err := w.WriteExpunge(uint32(i + 1)); err != nil {
			return err
		}
	}
	if vanished != nil && allowExpunge {
		if gone := expungedBetween(old, cur); gone != nil {
			if err := vanished.WriteVanished(gone); err != nil {
				return err
			}
		}
	}
	// The view after the expunges: old's UIDs still in cur (plus, when
	// expunges are deferred, the gone ones), then cur's new UIDs.
	maxOld := old.maxUID()
	for i, uid := range old.uids {
		if j := cur.index(uid); j >= 0 {
			kept = append(kept, uid)
			keptMsgs = append(keptMsgs, cur.msgs[j])
		} else if deferred {
			kept = append(kept, uid)
			keptMsgs = append(keptMsgs, old.msgs[i])
		}
	}
	// Flag changes, in the sequence numbers of the view after expunges.
	for seq, uid := range kept {
		i := old.index(uid)
		j := cur.index(uid)
		if j < 0 {
			continue
		}
		if !sel.again[uid] {
			if cur.msgs[j].modseq == old.msgs[i].modseq {
				continue
			}
			if ms, ok := sel.suppress[uid]; ok && cur.msgs[j].modseq <= ms {
				continue
			}
			if slices.Equal(cur.msgs[j].flags, old.msgs[i].flags) {
				continue
			}
		}
		if err := w.WriteMessageFlags(uint32(seq+1), imap.UID(uid), sel.withRecent(uid, imapFlags(cur.msgs[j].flags)), cur.msgs[j].modseq); err != nil {
			return err
		}
	}
	sel.suppress = nil
	sel.again = nil
	added := 0
	for j, uid := range cur.uids {
		if uid > maxOld {
			kept = append(kept, uid)
			keptMsgs = append(keptMsgs, cur.msgs[j])
			added++
		}
	}
	// EXISTS only grows (RFC 9051 §7.4.1): expunges were reported above.
	if added > 0 {
		sel.noteRecent(&sel.state.hub.recent, maxOld, kept[len(kept)-1])
		if err := w.WriteNumMessages(uint32(len(kept))); err != nil {
			return err
		}
		if sel.showRecent {
			if err := w.WriteNumRecent(sel.recent.count(kept)); err != nil {
				return err
			}
		}
	}
	if deferred {
		// The view's modseq stays below the expunges it does not hold yet,
		// and a CONDSTORE client is told so: it may have seen higher MODSEQs
		// (RFC 7162 §3.2; cmd_condstore.go).
		sel.view = &snapshot{mailboxID: cur.mailboxID, modseq: old.modseq, uidValidity: cur.uidValidity,
			uidNext: cur.uidNext, gone: cur.gone, uids: kept, msgs: keptMsgs}
		return deferredHighestModseq(w, old.modseq)
	}
	sel.view = cur
	return nil
}

// expungeOwn removes uids from the view after this session expunged or
// moved them, writing one EXPUNGE each through w, highest first, or one
// VANISHED once QRESYNC is enabled (RFC 7162 §3.2.10).
func (sel *selected) expungeOwn(uids []uint32, w expungeWriter) error {
	drop := make(map[uint32]bool, len(uids))
	for _, u := range uids {
		drop[u] = true
	}
	if _, silent := w.(noExpunges); !silent {
		// REMOVEFROM first, numbered as the client still numbers them
		// (searchctx.go).
		if err := sel.contextsExpunged(drop); err != nil {
			return err
		}
	}
	if vw := vanishedMode(w); vw != nil {
		var gone imap.UIDSet
		for _, uid := range sel.view.uids {
			if drop[uid] {
				gone.AddNum(imap.UID(uid))
			}
		}
		if gone != nil {
			if err := vw.WriteVanished(gone); err != nil {
				return err
			}
		}
		sel.view = sel.view.without(drop)
		return nil
	}
	for i := len(sel.view.uids) - 1; i >= 0; i-- {
		if drop[sel.view.uids[i]] {
			if err := w.WriteExpunge(uint32(i + 1)); err != nil {
				return err
			}
		}
	}
	sel.view = sel.view.without(drop)
	return nil
}

// resolve maps a sequence or UID set to the view's (seq, uid) pairs in
// sequence order. "*" is the last message of the view (RFC 9051 §9,
// seq-number); SEARCHRES "$" is the saved result (RFC 5182).
func (sel *selected) resolve(set imap.NumSet) []seqUID {
	v := sel.view
	if imap.IsSearchRes(set) {
		set = sel.searchRes
	}
	var out []seqUID
	switch set := set.(type) {
	case imap.SeqSet:
		n := uint32(len(v.uids))
		for _, r := range set {
			lo, hi := staticRange(r.Start, r.Stop, n)
			if lo == 0 {
				lo = 1
			}
			for s := lo; s <= hi && s <= n; s++ {
				out = append(out, seqUID{s, v.uids[s-1]})
			}
		}
		slices.SortFunc(out, func(a, b seqUID) int { return int(a.seq) - int(b.seq) })
		out = slices.CompactFunc(out, func(a, b seqUID) bool { return a.seq == b.seq })
	case imap.UIDSet:
		max := v.maxUID()
		for i, uid := range v.uids {
			for _, r := range set {
				lo, hi := staticRange(uint32(r.Start), uint32(r.Stop), max)
				if uid >= lo && uid <= hi {
					out = append(out, seqUID{uint32(i + 1), uid})
					break
				}
			}
		}
	}
	return out
}

type seqUID struct {
	seq uint32
	uid uint32
}

// staticRange replaces "*" (0) with max and orders the bounds (RFC 9051
// §9: "n:m" and "m:n" are the same set).
func staticRange(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}
