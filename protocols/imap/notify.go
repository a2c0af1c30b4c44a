package imap

import (
	"crypto/sha256"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// NOTIFY (RFC 5465): what a session asked to hear of, and how it hears it.
//
// The node's one feed subscription (hub.go) offers every change to each
// NOTIFY session's notifyWatch, which keeps those that may concern the
// session (its user's, those of the mailboxes it watches, ACL changes and
// Resets) in a bounded queue and wakes the session. Only the session's own
// goroutine turns them into responses (the connection's one writer,
// conn.go): between commands (awaitCommand, while a reader goroutine waits
// for the next command, as IDLE's waits for DONE), during IDLE, and after
// each command. Mailboxes other than the selected one are reported as
// STATUS (MessageNew, MessageExpunge, FlagChange, §5.2-§5.3) and LIST
// (MailboxName, SubscriptionChange, §5.4-§5.5); the selected mailbox as
// the usual EXISTS, EXPUNGE and FETCH, with MessageNew's fetch attributes.

// notifyEvents is a set of the events served.
type notifyEvents uint8

const (
	evMessageNew notifyEvents = 1 << iota
	evMessageExpunge
	evFlagChange
	evMailboxName
	evSubscriptionChange
	evMailboxMetadata // MailboxMetadataChange
	evServerMetadata  // ServerMetadataChange

	// evMessages are the events reported as STATUS for a mailbox other
	// than the selected one.
	evMessages = evMessageNew | evMessageExpunge | evFlagChange
)

// notifyEventNames are the events served, as RFC 5465 §5 spells them
// (BADEVENT lists them). AnnotationChange (RFC 5257 per-message
// annotations, not served) is refused, as Dovecot 2.3 refuses it.
var notifyEventNames = []struct {
	name string
	ev   notifyEvents
}{
	{"MessageNew", evMessageNew},
	{"MessageExpunge", evMessageExpunge},
	{"FlagChange", evFlagChange},
	{"MailboxName", evMailboxName},
	{"SubscriptionChange", evSubscriptionChange},
	{"MailboxMetadataChange", evMailboxMetadata},
	{"ServerMetadataChange", evServerMetadata},
}

// defaultNotifyQueue bounds the changes a NOTIFY session may have waiting
// (Config.notifyQueue overrides it in tests): past it, the session gets
// NOTIFICATIONOVERFLOW and its NOTIFY ends (RFC 5465 §5.8).
const defaultNotifyQueue = 1000

// notifyGroup is one event group of NOTIFY SET other than the selected
// one: a filter (RFC 5465 §6) and its events.
type notifyGroup struct {
	filter string   // INBOXES, PERSONAL, SUBSCRIBED, SUBTREE, MAILBOXES
	names  []string // SUBTREE's and MAILBOXES' mailboxes
	events notifyEvents
}

// watchedBox is a mailbox the session may see (its own, or one shared
// with it), with the events its filters ask for (zero: none).
type watchedBox struct {
	name   string
	own    bool
	rights acl.Rights
	events notifyEvents
}

// notifyState is a session's NOTIFY; nil when none is set (or after NOTIFY
// NONE, or an overflow).
type notifyState struct {
	groups []notifyGroup
	// selEvents are the selected mailbox's events (SELECTED or
	// SELECTED-DELAYED, §6); delayed holds its expunges back until a
	// command that may report them; fetch are MessageNew's attributes.
	selEvents notifyEvents
	delayed   bool
	fetch     *wire.FetchOptions
	// anyFlags: some group asks for FlagChange, so STATUS carries
	// HIGHESTMODSEQ, as Dovecot sends it (and always once CONDSTORE is on).
	anyFlags bool
	// serverMeta: some group asks for ServerMetadataChange (RFC 5465
	// §5.8), which is about the server, whatever the filter.
	serverMeta bool
	// meta are the annotations the client may see (name → value digest)
	// of the mailboxes watched for MailboxMetadataChange, and of the
	// server (id 0) for ServerMetadataChange: the feed says that a
	// mailbox's annotations changed, the unsolicited METADATA (RFC 5464
	// §4.4.2) names which, so they are compared.
	meta map[uint64]map[string][sha256.Size]byte

	watch *notifyWatch
	known map[uint64]watchedBox // every mailbox the user may see
	subs  map[string]bool       // the subscriptions last read
}

// notifyWatch is the part of a NOTIFY the hub's goroutine reaches: offer
// queues a change for the session and wakes it.
type notifyWatch struct {
	user       string
	limit      int
	serverMeta bool // keep the server's annotation changes
	// ids are the mailboxes of other users the session watches, whose
	// changes carry their owner's address; replaced by the session.
	ids atomic.Pointer[map[uint64]bool]

	mu       sync.Mutex
	pending  []mailbox.Change
	overflow bool
	wake     chan struct{} // one slot: a wake pending
}

// offer queues c if it may concern the session. Never blocks: it runs on
// the hub's goroutine.
func (w *notifyWatch) offer(c mailbox.Change) {
	switch c.Kind {
	case mailbox.Reset, mailbox.ACLChanged:
		// Every session: rights, and the mailboxes shared with it, may
		// have changed.
	case mailbox.MetadataChanged:
		if c.MailboxID == 0 {
			if !w.serverMeta {
				return
			}
		} else if c.Address != w.user && !(*w.ids.Load())[c.MailboxID] {
			return
		}
	case mailbox.MessagesAdded, mailbox.MessagesExpunged, mailbox.FlagsChanged,
		mailbox.MailboxCreated, mailbox.MailboxRenamed, mailbox.MailboxDeleted, mailbox.SubscriptionsChanged:
		if c.Address != w.user && !(*w.ids.Load())[c.MailboxID] {
			return
		}
	default:
		return
	}
	w.mu.Lock()
	switch {
	case w.overflow:
	case len(w.pending) >= w.limit:
		w.overflow, w.pending = true, nil
	default:
		w.pending = append(w.pending, c)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns the queued changes, and whether the queue overflowed.
func (w *notifyWatch) take() ([]mailbox.Change, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, o := w.pending, w.overflow
	w.pending = nil
	return p, o
}

// addWatch and removeWatch register a NOTIFY session with the hub.
func (h *hub) addWatch(w *notifyWatch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watches[w] = struct{}{}
}

func (h *hub) removeWatch(w *notifyWatch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.watches, w)
}

// offerWatches hands c to every NOTIFY session on the node.
func (h *hub) offerWatches(c mailbox.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watches {
		w.offer(c)
	}
}

// notifyWake is the channel that wakes the session for its NOTIFY; nil
// (never ready) without one.
func (s *session) notifyWake() <-chan struct{} {
	if s.notify == nil {
		return nil
	}
	return s.notify.watch.wake
}

// stopNotify ends the session's NOTIFY (NOTIFY NONE, a new NOTIFY SET,
// an overflow, the session's end).
func (s *session) stopNotify() {
	if s.notify != nil {
		s.srv.hub.removeWatch(s.notify.watch)
		s.notify = nil
	}
}

// eventsFor are the events the groups ask for on the mailbox name (own:
// one of the user's, not a shared one; subscribed: in the subscriptions).
func (n *notifyState) eventsFor(name string, own, subscribed bool) notifyEvents {
	var ev notifyEvents
	for _, g := range n.groups {
		switch g.filter {
		case "INBOXES", "PERSONAL":
			// INBOXES: every mailbox of the personal namespace, as
			// Dovecot takes it: Sieve may file mail into any of them.
			if own {
				ev |= g.events
			}
		case "SUBSCRIBED":
			if subscribed {
				ev |= g.events
			}
		case "SUBTREE":
			for _, m := range g.names {
				if name == m || strings.HasPrefix(name, m+string(delim)) {
					ev |= g.events
					break
				}
			}
		case "MAILBOXES":
			if slices.Contains(g.names, name) {
				ev |= g.events
			}
		}
	}
	return ev
}

// resolve reads the mailboxes the user may see, with the events the
// groups ask for on each, and tells the watch which other users'
// mailboxes to keep changes of.
func (s *session) resolve(n *notifyState) error {
	subs, err := s.srv.cfg.Store.Subscriptions(s.user)
	if err != nil {
		return replyFor(err)
	}
	n.subs = make(map[string]bool, len(subs))
	for _, name := range subs {
		n.subs[name] = true
	}
	own, err := s.srv.cfg.Store.Mailboxes(s.user)
	if err != nil {
		return replyFor(err)
	}
	shared, err := s.srv.cfg.Store.SharedWith(s.user)
	if err != nil {
		return replyFor(err)
	}
	n.known = make(map[uint64]watchedBox, len(own)+len(shared))
	for _, mb := range own {
		name := mb.GetName()
		n.known[mb.GetId()] = watchedBox{name: name, own: true, rights: acl.All, events: n.eventsFor(name, true, n.subs[name])}
	}
	ids := map[uint64]bool{}
	pub := ""
	if len(shared) > 0 {
		pub = s.publicAccount() // public.go
	}
	for _, m := range shared {
		name := sharedListName(m, pub) // under Other Users, or Shared
		ev := n.eventsFor(name, false, n.subs[name])
		n.known[m.Mailbox.GetId()] = watchedBox{name: name, rights: m.Rights, events: ev}
		if ev != 0 {
			ids[m.Mailbox.GetId()] = true
		}
	}
	n.watch.ids.Store(&ids)
	// The annotations of what is watched for them now and was not before.
	meta := map[uint64]map[string][sha256.Size]byte{}
	if n.serverMeta {
		meta[0] = n.meta[0]
	}
	for id, b := range n.known {
		if b.events&evMailboxMetadata != 0 && b.rights.Has(acl.Lookup|acl.Read) {
			meta[id] = n.meta[id]
		}
	}
	for id, m := range meta {
		if m == nil {
			if meta[id], err = s.readMeta(id); err != nil {
				return err
			}
		}
	}
	n.meta = meta
	return nil
}

// readMeta reads the annotations of mailbox id (0: the server's) that the
// user sees, as digests by name.
func (s *session) readMeta(id uint64) (map[string][sha256.Size]byte, error) {
	entries, err := s.srv.cfg.Store.Metadata(s.user, id, []string{"/private", "/shared"}, mailbox.DepthInfinity)
	if err != nil {
		return nil, replyFor(err)
	}
	m := make(map[string][sha256.Size]byte, len(entries))
	for _, e := range entries {
		m[e.Name] = sha256.Sum256(e.Value)
	}
	return m, nil
}

// reportMeta writes the unsolicited METADATA (RFC 5464 §4.4.2, RFC 5465
// §5.7, §5.8) naming the annotations of mailbox id (0: the server's) set,
// changed or removed since they were last read.
func (s *session) reportMeta(id uint64) error {
	n := s.notify
	old, ok := n.meta[id]
	if !ok {
		return nil
	}
	name := ""
	if id != 0 {
		b, ok := n.known[id]
		if !ok {
			return nil
		}
		name = b.name
	}
	cur, err := s.readMeta(id)
	if err != nil {
		return nil // read again at the next change
	}
	n.meta[id] = cur
	var changed []string
	for e, v := range cur {
		if ov, ok := old[e]; !ok || ov != v {
			changed = append(changed, e)
		}
	}
	for e := range old {
		if _, ok := cur[e]; !ok {
			changed = append(changed, e)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	slices.Sort(changed)
	enc := s.enc.Untagged().Atom("METADATA").SP().Mailbox(name)
	for _, e := range changed {
		enc.SP().AString(e)
	}
	return enc.CRLF().Err()
}

// notifyStatusOptions are the items of a NOTIFY STATUS: those Dovecot
// sends, HIGHESTMODSEQ once CONDSTORE is on or FlagChange asked for.
func (s *session) notifyStatusOptions() *imap.StatusOptions {
	return &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, NumUnseen: true,
		HighestModSeq: s.cond.condstore || s.notify.anyFlags}
}

// sendNotifyStatus writes the STATUS of a watched mailbox other than the
// selected one (RFC 5465 §5.2): only with the r right on a shared one
// (RFC 4314 §4), and nothing for a mailbox gone meanwhile.
func (s *session) sendNotifyStatus(id uint64, b watchedBox) error {
	if !b.rights.Has(acl.Read) || (s.sel != nil && s.sel.state.id == id) {
		return nil
	}
	rec, err := s.srv.cfg.Store.Mailbox(id)
	if err != nil {
		return nil // gone (its MailboxName says so) or unreadable now
	}
	s.statusID = false
	data, err := s.status(rec, s.notifyStatusOptions())
	if err != nil {
		return nil
	}
	data.Mailbox = b.name
	return s.writeStatus(data)
}

// initialNotifyStatus writes NOTIFY SET STATUS's STATUS responses (RFC
// 5465 §3): one per watched mailbox with message events, other than the
// selected one, in name order.
func (s *session) initialNotifyStatus() error {
	n := s.notify
	ids := make([]uint64, 0, len(n.known))
	for id, b := range n.known {
		if b.events&evMessages != 0 {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uint64) int { return strings.Compare(n.known[a].name, n.known[b].name) })
	for _, id := range ids {
		if err := s.sendNotifyStatus(id, n.known[id]); err != nil {
			return err
		}
	}
	return nil
}

// deliverNotifications writes what the queued changes mean to the client;
// the caller flushes. An overflow ends the NOTIFY with NOTIFICATIONOVERFLOW
// (RFC 5465 §5.8): the client must issue NOTIFY again.
func (s *session) deliverNotifications() error {
	n := s.notify
	if n == nil {
		return nil
	}
	changes, overflow := n.watch.take()
	if overflow {
		s.stopNotify()
		s.enc.Status("*", "OK", "NOTIFICATIONOVERFLOW", "Too many notifications pending, NOTIFY ended")
		return s.enc.Err()
	}
	// Message events by mailbox, in order of arrival; which of them go out
	// as STATUS is decided once the mailboxes were read again, if they
	// must be.
	var order []uint64
	want := map[uint64]notifyEvents{}
	add := func(id uint64, ev notifyEvents) {
		if _, ok := want[id]; !ok {
			order = append(order, id)
		}
		want[id] |= ev
	}
	reresolve, subsChanged := false, false
	var metaOrder []uint64
	metaSeen := map[uint64]bool{}
	for _, c := range changes {
		switch c.Kind {
		case mailbox.MetadataChanged:
			if !metaSeen[c.MailboxID] {
				metaSeen[c.MailboxID] = true
				metaOrder = append(metaOrder, c.MailboxID)
			}
		case mailbox.MessagesAdded, mailbox.MessagesExpunged, mailbox.FlagsChanged:
			add(c.MailboxID, map[mailbox.ChangeKind]notifyEvents{
				mailbox.MessagesAdded: evMessageNew, mailbox.MessagesExpunged: evMessageExpunge, mailbox.FlagsChanged: evFlagChange,
			}[c.Kind])
			if _, ok := n.known[c.MailboxID]; !ok && c.Address == s.user {
				reresolve = true // a mailbox made by a change of its own (INBOX renamed)
			}
		case mailbox.SubscriptionsChanged:
			subsChanged, reresolve = true, true
		case mailbox.Reset:
			subsChanged, reresolve = true, true
			for id := range n.known {
				add(id, evMessages)
			}
		case mailbox.ACLChanged:
			// Another user's mailbox concerns the session only if it
			// showed it, or may show it now.
			if _, ok := n.known[c.MailboxID]; ok {
				reresolve = true
			} else if r, err := s.srv.cfg.Store.Rights(s.user, c.MailboxID); err != nil || r != acl.None {
				reresolve = true
			}
		default: // created, renamed, deleted
			reresolve = true
		}
	}
	if reresolve {
		old, oldSubs := n.known, n.subs
		if err := s.resolve(n); err != nil {
			n.known, n.subs = old, oldSubs
			return nil // read again at the next change
		}
		if err := s.reportMailboxNames(old, n.known); err != nil {
			return err
		}
		if subsChanged {
			if err := s.reportSubscriptions(oldSubs, n.subs); err != nil {
				return err
			}
		}
	}
	for _, id := range order {
		if b, ok := n.known[id]; ok && b.events&want[id] != 0 {
			if err := s.sendNotifyStatus(id, b); err != nil {
				return err
			}
		}
	}
	for _, id := range metaOrder {
		if err := s.reportMeta(id); err != nil {
			return err
		}
	}
	return nil
}

// reportMailboxNames writes MailboxName's LIST responses (RFC 5465 §5.4)
// for what changed between two readings of the user's mailboxes: a new
// one (created, or newly shared), one gone (\NonExistent), one renamed
// (with OLDNAME, RFC 5258 §3.5).
func (s *session) reportMailboxNames(old, cur map[uint64]watchedBox) error {
	type entry struct {
		name, oldName string
		gone          bool
	}
	var out []entry
	for id, b := range cur {
		o, had := old[id]
		switch {
		case !had && b.events&evMailboxName != 0:
			out = append(out, entry{name: b.name})
		case had && o.name != b.name && (b.events|o.events)&evMailboxName != 0:
			out = append(out, entry{name: b.name, oldName: o.name})
		}
	}
	for id, o := range old {
		if _, ok := cur[id]; !ok && o.events&evMailboxName != 0 {
			out = append(out, entry{name: o.name, gone: true})
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	for _, e := range out {
		var attrs []string
		if e.gone {
			attrs = []string{string(imap.MailboxAttrNonExistent)}
		}
		enc := s.enc.Untagged().Atom("LIST").SP().List(len(attrs), func(i int) { s.enc.Atom(attrs[i]) })
		enc.SP().Quoted(string(delim)).SP().Mailbox(e.name)
		if e.oldName != "" {
			enc.SP().Open().Quoted("OLDNAME").SP().Open().Mailbox(e.oldName).Close().Close()
		}
		if enc.CRLF().Err() != nil {
			return enc.Err()
		}
	}
	return nil
}

// reportSubscriptions writes SubscriptionChange's LIST responses (RFC 5465
// §5.5): \Subscribed for a name subscribed since, none for one dropped.
func (s *session) reportSubscriptions(old, cur map[string]bool) error {
	var changed []string
	for name := range cur {
		if !old[name] {
			changed = append(changed, name)
		}
	}
	for name := range old {
		if !cur[name] {
			changed = append(changed, name)
		}
	}
	sortMailboxNames(changed)
	for _, name := range changed {
		own := !acl.IsOtherUsers(name) && !acl.IsPublic(name)
		if (s.notify.eventsFor(name, own, true)|s.notify.eventsFor(name, own, false))&evSubscriptionChange == 0 {
			continue
		}
		var attrs []string
		if cur[name] {
			attrs = []string{string(imap.MailboxAttrSubscribed)}
		}
		enc := s.enc.Untagged().Atom("LIST").SP().List(len(attrs), func(i int) { s.enc.Atom(attrs[i]) })
		if enc.SP().Quoted(string(delim)).SP().Mailbox(name).CRLF().Err() != nil {
			return enc.Err()
		}
	}
	return nil
}

// reportSelected brings the client's view of the selected mailbox up to
// date outside a command, for NOTIFY's SELECTED events (RFC 5465 §5.1):
// EXISTS, FETCH FLAGS and (not with SELECTED-DELAYED) EXPUNGE, then
// MessageNew's fetch attributes for the new messages (§5.2). It returns
// the channel closed when a newer snapshot replaces the one reported (nil
// when no SELECTED events are asked for): taken with that snapshot, so
// that a change landing between the report and the wait still wakes it.
func (s *session) reportSelected() (<-chan struct{}, error) {
	n, sel := s.notify, s.sel
	if n == nil || sel == nil || n.selEvents == 0 {
		return nil, nil
	}
	s.syncRights()
	before := sel.view.maxUID()
	cur, wake := sel.state.current()
	if err := sel.report(s.updates(), cur, !n.delayed && n.selEvents&evMessageExpunge != 0); err != nil {
		return nil, err
	}
	after := sel.view.maxUID()
	if n.fetch == nil || after <= before || !sel.rights.Has(acl.Read) {
		return wake, nil
	}
	o := n.fetch
	err := s.Fetch(&fetchWriter{s: s, obsolete: o.Obsolete, ext: newFetchExt(o)},
		imap.UIDSet{{Start: imap.UID(before + 1), Stop: imap.UID(after)}}, &o.FetchOptions)
	return wake, err
}

// notifyFetch is MessageNew's fetch attributes as the notifications use
// them: with UID, so that the client can tell the message, and never
// setting \Seen (a notification changes nothing, and it is written while
// the connection is read for the next command, when no proposal may
// watch it).
func notifyFetch(o *wire.FetchOptions) *wire.FetchOptions {
	if o == nil {
		return nil
	}
	c := *o
	c.UID = true
	c.BodySection = slices.Clone(o.BodySection)
	obsolete := map[*imap.FetchItemBodySection]string{}
	for i, bs := range c.BodySection {
		p := *bs
		p.Peek = true
		c.BodySection[i] = &p
		if name, ok := o.Obsolete[bs]; ok {
			obsolete[&p] = name
		}
	}
	c.Obsolete = obsolete
	c.BinarySection = slices.Clone(o.BinarySection)
	for i, bs := range c.BinarySection {
		p := *bs
		p.Peek = true
		c.BinarySection[i] = &p
	}
	return &c
}

// awaitCommand waits for the client's next command while a NOTIFY is on,
// writing the notifications that come meanwhile (RFC 5465 §3: the server
// may send them at any time). A goroutine waits for the command's first
// byte, as IDLE's reads DONE; the session's goroutine alone writes.
func (s *session) awaitCommand() error {
	if s.br.Buffered() > 0 {
		return nil
	}
	selWake, err := s.notifyOutside()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.br.Peek(1)
		done <- err
	}()
	stop := func(err error) error {
		_ = s.base.SetReadDeadline(time.Unix(1, 0))
		<-done
		return err
	}
	for {
		select {
		case err := <-done:
			return err
		case <-s.notifyWake():
		case <-selWake:
		case <-s.ctx.Done():
			return stop(s.ctx.Err())
		}
		if selWake, err = s.notifyOutside(); err != nil {
			return stop(err)
		}
	}
}

// notifyOutside writes and flushes what NOTIFY has to say outside a
// command, and returns reportSelected's wake-up channel.
func (s *session) notifyOutside() (<-chan struct{}, error) {
	selWake, err := s.reportSelected()
	if err != nil {
		return nil, err
	}
	if err := s.deliverNotifications(); err != nil {
		return nil, err
	}
	return selWake, s.flush()
}
