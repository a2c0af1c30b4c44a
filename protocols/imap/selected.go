package imap

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// systemFlags are the flags every mailbox offers (RFC 9051 §2.3.2).
var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}

// Select opens a mailbox (RFC 9051 §6.3.2, EXAMINE §6.3.3). The session's
// view starts as the node's current snapshot; UIDVALIDITY and UIDs come
// from the projection, so they are the same on every node.
func (s *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	s.unselect()
	b, err := s.lookup(name) // shared.go
	if err != nil {
		return nil, err
	}
	if err := b.need(acl.Read); err != nil {
		return nil, err
	}
	mb := b.rec
	st, err := s.srv.hub.acquire(mb.GetId())
	if err != nil {
		return nil, replyFor(err)
	}
	cur, _ := st.current()
	if cur.gone {
		s.srv.hub.release(st)
		return nil, errNonExistent
	}
	// RFC 4314 §4: READ-ONLY without any right to change the mailbox.
	readOnly := options != nil && options.ReadOnly || !b.rights.Writable()
	s.sel = &selected{state: st, name: b.name, readOnly: readOnly, view: cur, owner: b.owner, rights: b.rights, aclGen: aclUnknown}
	flags := slices.Clone(systemFlags)
	seen := map[string]bool{}
	var firstUnseen uint32
	for i, m := range cur.msgs {
		isSeen := false
		for _, f := range m.flags {
			if f == `\Seen` {
				isSeen = true
			}
			if !strings.HasPrefix(f, `\`) && !seen[strings.ToLower(f)] {
				seen[strings.ToLower(f)] = true
				flags = append(flags, imap.Flag(f))
			}
		}
		if !isSeen && firstUnseen == 0 {
			firstUnseen = uint32(i + 1)
		}
	}
	s.sel.initKeywords(flags)
	s.sel.showRecent = !s.rev2
	s.sel.noteRecent(&s.srv.hub.recent, 0, cur.maxUID())
	permanent := append(slices.Clone(flags), imap.FlagWildcard)
	if s.sel.readOnly {
		permanent = nil // RFC 9051 §6.3.3
	}
	permanent = permittedFlags(b.rights, permanent)
	s.log.Debug("imap select", "mailbox", mb.GetName(), "exists", len(cur.uids), "read_only", s.sel.readOnly)
	return &imap.SelectData{
		Flags:             flags,
		PermanentFlags:    permanent,
		NumMessages:       uint32(len(cur.uids)),
		NumRecent:         s.sel.recent.count(cur.uids),
		FirstUnseenSeqNum: firstUnseen,
		UIDNext:           imap.UID(cur.uidNext),
		UIDValidity:       cur.uidValidity,
	}, nil
}

func (s *session) Unselect() error {
	s.unselect()
	return nil
}

func (s *session) unselect() {
	if s.sel != nil {
		s.srv.hub.release(s.sel.state)
		s.sel = nil
	}
}

// Poll reports what changed since the client last heard (RFC 9051 §7.4),
// at the end of every command. A cheap check of the mailbox's HIGHESTMODSEQ
// first, so that a change applied here a moment ago is not missed while the
// feed is still on its way.
func (s *session) Poll(w updateWriter, allowExpunge bool) error {
	if s.sel == nil {
		return nil
	}
	cur, err := s.sel.state.refresh(false)
	if err != nil {
		s.log.Warn("imap poll: refresh failed", "err", err)
		cur, _ = s.sel.state.current()
	}
	return s.sel.report(w, cur, allowExpunge)
}

// uidRanges turns sorted UIDs into ranges for an event.
func uidRanges(uids []uint32) []*evlog.UidRange {
	return evlog.RangesOf(uids)
}

func uidsOf(pairs []seqUID) []uint32 {
	out := make([]uint32, len(pairs))
	for i, p := range pairs {
		out[i] = p.uid
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// expandRanges lists the UIDs of ranges (results from apply).
func expandRanges(ranges []*evlog.UidRange) []uint32 {
	var out []uint32
	for _, r := range ranges {
		for u := uint64(r.GetFirst()); u <= uint64(r.GetLast()); u++ {
			out = append(out, uint32(u))
		}
	}
	return out
}

func toUIDSet(ranges []*evlog.UidRange) imap.UIDSet {
	var set imap.UIDSet
	for _, r := range ranges {
		set.AddRange(imap.UID(r.GetFirst()), imap.UID(r.GetLast()))
	}
	return set
}

// Expunge removes the \Deleted messages (RFC 9051 §6.4.3), or those of them
// in uids (UID EXPUNGE, RFC 4315 §2.1). Only messages the client knows are
// candidates: a \Deleted message it has not been told of stays until then.
func (s *session) Expunge(w expungeWriter, uids *imap.UIDSet) error {
	sel := s.sel
	if sel.readOnly || !sel.rights.Has(acl.Expunge) {
		// Nothing is expunged from an EXAMINEd mailbox, or by a user
		// without the e right (RFC 4314 §4); CLOSE calls this too, and
		// must then succeed (RFC 9051 §6.4.1).
		return nil
	}
	cur, err := sel.state.refresh(false)
	if err != nil {
		return replyFor(err)
	}
	var target []uint32
	for _, uid := range sel.view.uids {
		if uids != nil && !uids.Contains(imap.UID(uid)) {
			continue
		}
		if j := cur.index(uid); j >= 0 && slices.Contains(cur.msgs[j].flags, `\Deleted`) {
			target = append(target, uid)
		}
	}
	if len(target) == 0 {
		return nil
	}
	out, err := s.propose(ev(&evlog.Event_Expunged{Expunged: &evlog.Expunged{
		MailboxId: sel.state.id, Uids: uidRanges(target),
	}}))
	if err != nil {
		s.log.Info("imap expunge failed", "mailbox", sel.name, "err", err)
		return replyFor(err)
	}
	var removed []uint32
	if res := out.GetResults(); len(res) > 0 {
		removed = expandRanges(res[0].GetSourceUids())
	}
	s.refreshSelected(sel.state.id)
	if len(removed) > 0 {
		s.log.Info("imap expunge", "mailbox", sel.name, evlog.UIDAttr(removed))
	}
	// Expunged by another session meanwhile: reported by the next poll.
	return sel.expungeOwn(removed, w)
}

// Store changes flags (RFC 9051 §6.4.6) through one FlagsChanged event;
// without .SILENT the new flags of every message named are returned,
// read from the store after apply. With UNCHANGEDSINCE (RFC 7162 §3.1.3)
// apply leaves alone the messages changed since; they are returned as the
// MODIFIED set (sequence numbers, or UIDs for UID STORE), and every
// message that did change gets a FETCH with its MODSEQ, .SILENT or not.
// Once CONDSTORE is enabled each FETCH carries UID and MODSEQ.
func (s *session) Store(w *fetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) (modified imap.NumSet, err error) {
	sel := s.sel
	if sel.readOnly {
		return nil, errReadOnly
	}
	pairs := sel.resolve(numSet)
	if len(pairs) == 0 {
		return nil, nil
	}
	_, isUID := numSet.(imap.UIDSet)
	conditional := options != nil
	if conditional && options.UnchangedSince == 0 {
		// Every message has a modseq of at least 1: nothing to propose
		// (apply reads 0 as "no condition").
		return unchangedSinceZero(pairs, isUID), nil
	}
	op := evlog.FlagOp_FLAG_OP_REPLACE
	switch flags.Op {
	case imap.StoreFlagsAdd:
		op = evlog.FlagOp_FLAG_OP_ADD
	case imap.StoreFlagsDel:
		op = evlog.FlagOp_FLAG_OP_REMOVE
	}
	names := make([]string, len(flags.Flags))
	for i, f := range flags.Flags {
		names[i] = string(f)
	}
	fc := &evlog.FlagsChanged{MailboxId: sel.state.id, Uids: uidRanges(uidsOf(pairs)), Op: op, Flags: names}
	if !sel.rights.Has(acl.Seen | acl.Write | acl.DeleteMessage) {
		// A user who may change only some flags (RFC 4314 §4): the
		// others are ignored, as Dovecot does, and keep their state
		// even under FLAGS (replace), UNCHANGEDSINCE or not.
		fc.Flags, fc.FlagRights = acl.AllowedFlags(sel.rights, names), uint32(sel.rights)
	}
	if conditional {
		fc.UnchangedSince = options.UnchangedSince
	}
	out, err := s.propose(ev(&evlog.Event_FlagsChanged{FlagsChanged: fc}))
	if err != nil {
		s.log.Info("imap store failed", "mailbox", sel.name, "err", err)
		return nil, replyFor(err)
	}
	changed := map[uint32]bool{}
	failed := map[uint32]bool{}
	if res := out.GetResults(); len(res) > 0 {
		sel.suppress = map[uint32]uint64{}
		for _, uid := range expandRanges(res[0].GetUids()) {
			sel.suppress[uid] = res[0].GetModseq()
			changed[uid] = true
		}
		for _, uid := range expandRanges(res[0].GetSourceUids()) {
			failed[uid] = true
		}
		if conditional {
			modified = modifiedSet(sel.view, res[0], isUID)
		}
	}
	s.refreshSelected(sel.state.id)
	cond := s.cond.condstore
	for _, p := range pairs {
		if failed[p.uid] || (flags.Silent && !(conditional && changed[p.uid])) {
			continue
		}
		m, err := s.srv.cfg.Store.Message(sel.state.id, p.uid)
		if err != nil {
			continue // expunged meanwhile
		}
		fl, hidden := sel.visibleFlags(m.GetFlags())
		if hidden { // a new keyword: the poll announces it, then the flags (keywords.go)
			sel.reportAgain(p.uid)
			continue
		}
		rw := w.CreateMessage(p.seq)
		if isUID || cond {
			rw.WriteUID(imap.UID(p.uid))
		}
		if !flags.Silent {
			rw.WriteFlags(sel.withRecent(p.uid, fl))
		}
		if cond {
			rw.WriteModSeq(m.GetModseq())
		}
		if err := rw.Close(); err != nil {
			return nil, err
		}
	}
	return modified, nil
}

// target resolves the destination of COPY/MOVE: [TRYCREATE] when it does
// not exist (RFC 9051 §6.4.7).
func (s *session) target(dest string) (*evlog.MailboxRecord, error) {
	b, err := s.lookup(dest) // shared.go
	if err == errNonExistent && !s.inOtherNamespace(dest) {
		return nil, errTryCreate
	}
	if err != nil {
		return nil, err
	}
	if err := b.need(acl.Insert); err != nil { // RFC 4314 §4
		return nil, err
	}
	return b.rec, nil
}

// Copy files copies of messages into dest (RFC 9051 §6.4.7) with COPYUID
// (RFC 4315 §3).
func (s *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	sel := s.sel
	dst, err := s.target(dest)
	if err != nil {
		return nil, err
	}
	pairs := sel.resolve(numSet)
	if len(pairs) == 0 {
		return nil, nil
	}
	flagRights, err := s.copyFlagRights(dst) // shared.go
	if err != nil {
		return nil, err
	}
	out, err := s.propose(ev(&evlog.Event_Copied{Copied: &evlog.Copied{
		MailboxId: sel.state.id, Uids: uidRanges(uidsOf(pairs)), TargetMailboxId: dst.GetId(),
		SavedUnix:  s.srv.cfg.Now().Unix(), // RFC 8514 SAVEDATE
		FlagRights: flagRights,
	}}))
	if err != nil {
		s.log.Info("imap copy failed", "mailbox", sel.name, toMailbox(dst.GetName(), nil), "err", err)
		if replyFor(err) == errNonExistent {
			return nil, errTryCreate
		}
		return nil, replyFor(err)
	}
	s.refreshSelected(dst.GetId())
	res := out.GetResults()
	if len(res) == 0 || len(res[0].GetUids()) == 0 {
		return nil, nil
	}
	s.log.Info("imap copy", "mailbox", sel.name, evlog.UIDRangesAttr(res[0].GetSourceUids()), toMailbox(dst.GetName(), res[0].GetUids()))
	s.learnFiled(dst, res[0].GetUids())
	return &imap.CopyData{
		UIDValidity: res[0].GetUidValidity(),
		SourceUIDs:  toUIDSet(res[0].GetSourceUids()),
		DestUIDs:    toUIDSet(res[0].GetUids()),
	}, nil
}

// Move moves messages (RFC 6851 §3) with one Moved event: COPYUID first,
// then an EXPUNGE for each moved message. A move into the selected mailbox
// itself is allowed, as Dovecot does (RFC 6851 does not forbid it): the
// messages get new UIDs, which the poll reports with EXISTS.
func (s *session) Move(w moveWriter, numSet imap.NumSet, dest string) error {
	sel := s.sel
	if sel.readOnly {
		return errReadOnly
	}
	dst, err := s.target(dest)
	if err != nil {
		return err
	}
	pairs := sel.resolve(numSet)
	if len(pairs) == 0 {
		return nil
	}
	flagRights, err := s.copyFlagRights(dst) // shared.go
	if err != nil {
		return err
	}
	out, err := s.propose(ev(&evlog.Event_Moved{Moved: &evlog.Moved{
		MailboxId: sel.state.id, Uids: uidRanges(uidsOf(pairs)), TargetMailboxId: dst.GetId(),
		SavedUnix:  s.srv.cfg.Now().Unix(), // RFC 8514 SAVEDATE
		FlagRights: flagRights,
	}}))
	if err != nil {
		s.log.Info("imap move failed", "mailbox", sel.name, toMailbox(dst.GetName(), nil), "err", err)
		if replyFor(err) == errNonExistent {
			return errTryCreate
		}
		return replyFor(err)
	}
	s.refreshSelected(sel.state.id)
	res := out.GetResults()
	if len(res) == 0 || len(res[0].GetUids()) == 0 {
		return nil
	}
	s.log.Info("imap move", "mailbox", sel.name, evlog.UIDRangesAttr(res[0].GetSourceUids()), toMailbox(dst.GetName(), res[0].GetUids()))
	s.learnFiled(dst, res[0].GetUids())
	if err := w.WriteCopyData(&imap.CopyData{
		UIDValidity: res[0].GetUidValidity(),
		SourceUIDs:  toUIDSet(res[0].GetSourceUids()),
		DestUIDs:    toUIDSet(res[0].GetUids()),
	}); err != nil {
		return err
	}
	return sel.expungeOwn(expandRanges(res[0].GetSourceUids()), w)
}

// toMailbox is the log group naming where COPY or MOVE put messages:
// to.mailbox and to.uid or to.uids, the keys of the source spelled the same
// (docs/DESIGN.md, Conventions).
func toMailbox(name string, uids []*evlog.UidRange) slog.Attr {
	attrs := []any{slog.String("mailbox", name)}
	if len(uids) > 0 {
		attrs = append(attrs, evlog.UIDRangesAttr(uids))
	}
	return slog.Group("to", attrs...)
}
