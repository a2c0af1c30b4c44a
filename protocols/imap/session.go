package imap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
	"github.com/surat-mail/surat/protocols/imap/wire"
	"github.com/surat-mail/surat/protocols/login"
)

// delim is the hierarchy delimiter (mailbox names are '/' separated).
const delim = '/'

// pinMargin is added to an APPEND's chunk pin to cover clock skew between
// this node and the collector's.
const pinMargin = time.Minute

// session is one IMAP connection: its wire state (conn.go, dispatch.go)
// and what the backend methods below need. One goroutine serves it
// (Server.serveConn); only bye and cred are touched from others.
type session struct {
	srv    *Server
	remote string
	log    *slog.Logger
	user   string      // canonical address once logged in
	auth   *login.Conn // this connection on the login path; made at first use
	sel    *selected
	cred   atomic.Pointer[credential] // bound at login (revoke.go)
	// ctx ends with the session: its end (LOGOUT, the connection
	// dropped), the client gone while a command waits (limits.go), or the
	// server's Close. Every wait of a command (logins, proposals) takes it.
	ctx    context.Context
	cancel context.CancelFunc

	// The connection: conn is what the session reads and writes (TLS
	// after STARTTLS), base the one accepted (for deadlines set from other
	// goroutines).
	conn, base net.Conn
	tls        bool
	br         *bufio.Reader
	bw         *bufio.Writer
	dec        *wire.Decoder
	enc        *wire.Encoder
	state      connState
	// rev2 and utf8 are the extensions the client enabled (RFC 5161):
	// IMAP4rev2 and UTF8=ACCEPT.
	rev2, utf8 bool
	cond       condState // CONDSTORE and QRESYNC (cmd_condstore.go)
	// statusID: the STATUS or LIST being served asked for MAILBOXID
	// (RFC 8474 §4.2; cmd_status.go, cmd_list.go).
	statusID bool
	// bye is the BYE pending, set from any goroutine (requestBye).
	bye atomic.Pointer[string]

	// deflate is the compression under bw once COMPRESS is on (RFC 4978,
	// cmd_compress.go); flush ends its batch.
	deflate *deflateWriter

	// notify is the NOTIFY set (RFC 5465, notify.go), nil if none.
	notify *notifyState
}

// Login checks a password through the node's one login path
// (protocols/login; AUTHENTICATE PLAIN comes here too, RFC 4616)
// and maps its outcome to RFC 5530's response codes. After too many
// failures on one connection the server says BYE and closes it (RFC 9051
// §7.1.5).
func (s *session) Login(username, password string) error {
	if s.auth == nil {
		s.auth = s.srv.cfg.Login.NewConn(s.remote, s.log)
	}
	// The command was read in full; a client gone while its password
	// waits for a verification slot gives the slot up.
	stop := s.watchClient()
	o := s.auth.Login(s.ctx, username, password)
	stop()
	if o.Close {
		text := "Too many failed logins, closing connection"
		if o.Result == login.Banned {
			text = "Client address banned, closing connection"
		}
		return &byeError{text}
	}
	switch o.Result {
	case login.OK:
		s.user = o.User
		s.log = s.log.With("user", o.User)
		return nil
	case login.Temporary:
		return errAuthTemporary
	case login.Locked:
		return no(imap.ResponseCodeUnavailable, fmt.Sprintf("Too many failed logins, try again in %d seconds", o.RetrySeconds()))
	}
	if o.Slowed > 0 {
		return errAuthFailedSlowed
	}
	return errAuthFailed
}

// mailboxByName finds one of the user's mailboxes.
func (s *session) mailboxByName(name string) (*evlog.MailboxRecord, error) {
	mb, err := s.srv.cfg.Store.MailboxByName(s.user, name)
	if errors.Is(err, mailbox.ErrNotFound) {
		return nil, errNonExistent
	}
	if err != nil {
		return nil, replyFor(err)
	}
	return mb, nil
}

// ev wraps one event kind (the oneof interface is unexported).
func ev(kind any) *evlog.Event {
	e := &evlog.Event{}
	switch k := kind.(type) {
	case *evlog.Event_MailboxCreated:
		e.Kind = k
	case *evlog.Event_MailboxRenamed:
		e.Kind = k
	case *evlog.Event_MailboxDeleted:
		e.Kind = k
	case *evlog.Event_Subscribed:
		e.Kind = k
	case *evlog.Event_BlobStored:
		e.Kind = k
	case *evlog.Event_Appended:
		e.Kind = k
	case *evlog.Event_FlagsChanged:
		e.Kind = k
	case *evlog.Event_Copied:
		e.Kind = k
	case *evlog.Event_Moved:
		e.Kind = k
	case *evlog.Event_Expunged:
		e.Kind = k
	default:
		panic("imap: ev: unexpected event kind")
	}
	return e
}

// responseCodeUseAttr is RFC 6154 §6's USEATTR (not in go-imap).
const responseCodeUseAttr imap.ResponseCode = "USEATTR"

// Create proposes MailboxCreated (RFC 9051 §6.3.4); a trailing delimiter
// only says the client means to create names below it. CREATE-SPECIAL-USE
// (RFC 6154 §3) passes one attribute through.
func (s *session) Create(name string, options *imap.CreateOptions) error {
	name = strings.TrimRight(name, string(delim))
	if name == "" {
		return errInvalidName
	}
	var special string
	if options != nil && len(options.SpecialUse) > 0 {
		if len(options.SpecialUse) > 1 {
			return no(responseCodeUseAttr, "Only one special-use attribute per mailbox")
		}
		special = string(options.SpecialUse[0])
	}
	if err := s.checkMailboxLimits(name, "", 1); err != nil { // mailboxlimits.go
		return err
	}
	maxCount, maxDepth := s.srv.cfg.mailboxLimits()
	_, err := s.propose(ev(&evlog.Event_MailboxCreated{MailboxCreated: &evlog.MailboxCreated{
		Address: s.user, Name: name, SpecialUse: special,
		UidValidityHint: uint32(s.srv.cfg.Now().Unix()),
		MaxMailboxes:    maxCount, MaxNameDepth: maxDepth,
	}}))
	if err != nil {
		s.log.Info("imap create failed", "mailbox", name, "err", err)
		if special != "" && strings.Contains(err.Error(), "special-use") {
			return no(responseCodeUseAttr, "Unknown special-use attribute")
		}
		return replyFor(err)
	}
	return nil
}

// Delete proposes MailboxDeleted (RFC 9051 §6.3.5); mailboxes below it
// stay, and INBOX cannot be deleted.
func (s *session) Delete(name string) error {
	mb, err := s.mailboxByName(name)
	if err != nil {
		return err
	}
	if mb.GetName() == "INBOX" {
		return errInboxDelete
	}
	_, err = s.propose(ev(&evlog.Event_MailboxDeleted{MailboxDeleted: &evlog.MailboxDeleted{MailboxId: mb.GetId()}}))
	return replyFor(err)
}

// Rename proposes MailboxRenamed (RFC 9051 §6.3.6): the mailbox keeps its
// id, UIDs and UIDVALIDITY; renaming INBOX moves its messages to a new
// mailbox and leaves INBOX empty.
func (s *session) Rename(oldName, newName string, _ *imap.RenameOptions) error {
	newName = strings.TrimRight(newName, string(delim))
	if newName == "" {
		return errInvalidName
	}
	mb, err := s.mailboxByName(oldName)
	if err != nil {
		return err
	}
	// Renaming INBOX moves its messages to a new mailbox and leaves what
	// is below INBOX where it is (mailbox/doc.go).
	from, adds := mb.GetName(), 0
	if from == "INBOX" {
		from, adds = "", 1
	}
	if err := s.checkMailboxLimits(newName, from, adds); err != nil { // mailboxlimits.go
		return err
	}
	maxCount, maxDepth := s.srv.cfg.mailboxLimits()
	_, err = s.propose(ev(&evlog.Event_MailboxRenamed{MailboxRenamed: &evlog.MailboxRenamed{
		MailboxId: mb.GetId(), NewName: newName, UidValidityHint: uint32(s.srv.cfg.Now().Unix()),
		MaxMailboxes: maxCount, MaxNameDepth: maxDepth,
	}}))
	return replyFor(err)
}

// subscribe edits the subscription list (RFC 9051 §6.3.7, §6.3.8); a
// name need not exist to be subscribed.
func (s *session) subscribe(name string, on bool) error {
	name = strings.TrimRight(name, string(delim))
	if name == "" {
		return errInvalidName
	}
	// Names need not exist to be subscribed: their number is bounded by
	// the mailbox limit on its own (mailboxlimits.go).
	maxCount, _ := s.srv.cfg.mailboxLimits()
	_, err := s.propose(ev(&evlog.Event_Subscribed{Subscribed: &evlog.Subscribed{
		Address: s.user, Name: name, Subscribed: on, MaxSubscriptions: maxCount,
	}}))
	return replyFor(err)
}

// listEntry is one name LIST may report.
type listEntry struct {
	name        string
	rec         *evlog.MailboxRecord // nil: a parent that does not exist
	subscribed  bool
	hasChildren bool
	childSub    bool // a descendant is subscribed and matches no pattern (CHILDINFO, RFC 5258 §3.5)
	// shared: another user's mailbox, on which the user holds rights
	// (shared.go)
	shared bool
	rights acl.Rights
}

// List implements LIST with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC
// 5819), SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348); LSUB arrives as
// LIST (SUBSCRIBED). Special-use attributes are always returned, which RFC
// 6154 §2 allows. A missing parent of an existing mailbox is returned as
// \Noselect (RFC 3501 §6.3.8) or, when only subscriptions name it,
// \NonExistent (RFC 5258 §3).
func (s *session) List(w func(*imap.ListData) error, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		// RFC 9051 §6.3.9: an empty pattern asks for the delimiter.
		return w(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: delim, Mailbox: ""})
	}
	st := s.srv.cfg.Store
	boxes, err := st.Mailboxes(s.user)
	if err != nil {
		return replyFor(err)
	}
	subs, err := st.Subscriptions(s.user)
	if err != nil {
		return replyFor(err)
	}
	entries := map[string]*listEntry{}
	entry := func(name string) *listEntry {
		e := entries[name]
		if e == nil {
			e = &listEntry{name: name}
			entries[name] = e
		}
		return e
	}
	for _, mb := range boxes {
		entry(mb.GetName()).rec = mb
	}
	if err := s.listShared(entry); err != nil { // shared.go
		return err
	}
	for _, name := range subs {
		entry(name).subscribed = true
	}
	// Parents: every prefix of an existing or subscribed name.
	for _, e := range snapshotEntries(entries) {
		name := e.name
		// RFC 5258 §3.5: RECURSIVEMATCH reports a parent for a subscribed
		// descendant the patterns do not match (one they match is listed
		// itself), as Dovecot does.
		unmatchedSub := e.subscribed && !matchAny(e.name, canonicalInbox(ref), patterns)
		for {
			i := strings.LastIndexByte(name, delim)
			if i <= 0 {
				break
			}
			name = name[:i]
			p := entry(name)
			if e.rec != nil {
				p.hasChildren = true
			}
			if unmatchedSub {
				p.childSub = true
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sortMailboxNames(names)
	ref = canonicalInbox(ref)
	for _, name := range names {
		e := entries[name]
		if !matchAny(name, ref, patterns) {
			continue
		}
		if options.SelectSubscribed && !e.subscribed {
			// RFC 5258 §3.5: RECURSIVEMATCH reports a parent of a
			// subscribed name with CHILDINFO.
			if !(options.SelectRecursiveMatch && e.childSub) {
				continue
			}
		}
		if options.SelectSpecialUse && (e.rec == nil || e.rec.GetSpecialUse() == "" || e.shared) {
			continue
		}
		if e.rec == nil && !e.hasChildren && !options.SelectSubscribed {
			continue // only a subscription names it: not listed by plain LIST
		}
		data := &imap.ListData{Mailbox: name, Delim: delim}
		switch {
		case e.rec == nil && e.hasChildren:
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
		case e.rec == nil:
			data.Attrs = append(data.Attrs, imap.MailboxAttrNonExistent)
		}
		if e.hasChildren {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if e.subscribed && (options.SelectSubscribed || options.ReturnSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if e.rec != nil && e.rec.GetSpecialUse() != "" && !e.shared {
			data.Attrs = append(data.Attrs, imap.MailboxAttr(e.rec.GetSpecialUse()))
		}
		if options.SelectRecursiveMatch && e.childSub {
			data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		if options.ReturnStatus != nil && e.rec != nil && (!e.shared || e.rights.Has(acl.Read)) {
			if data.Status, err = s.status(e.rec, options.ReturnStatus); err != nil {
				return replyFor(err)
			}
		}
		if err := w(data); err != nil {
			return err
		}
	}
	return nil
}

// sortMailboxNames sorts names as LIST returns them: INBOX first, then
// bytewise.
func sortMailboxNames(names []string) {
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "INBOX") != (names[j] == "INBOX") {
			return names[i] == "INBOX"
		}
		return names[i] < names[j]
	})
}

func snapshotEntries(m map[string]*listEntry) []*listEntry {
	out := make([]*listEntry, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// canonicalInbox spells a leading "inbox" component as INBOX (RFC 9051
// §5.1: INBOX is case-insensitive), for references and patterns.
func canonicalInbox(s string) string {
	first, rest, below := strings.Cut(s, string(delim))
	if strings.EqualFold(first, "INBOX") {
		if below {
			return "INBOX" + string(delim) + rest
		}
		return "INBOX"
	}
	return s
}

func matchAny(name, ref string, patterns []string) bool {
	for _, p := range patterns {
		if listMatch(name, ref, canonicalInbox(p)) {
			return true
		}
	}
	return false
}

// Status answers STATUS (RFC 9051 §6.3.11) with STATUS=SIZE (RFC 8438).
func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	b, err := s.lookup(name) // shared.go
	if err != nil {
		return nil, err
	}
	if err := b.need(acl.Read); err != nil { // RFC 4314 §4
		return nil, err
	}
	data, err := s.status(b.rec, options)
	if err != nil {
		return nil, replyFor(err)
	}
	data.Mailbox = name
	return data, nil
}

func (s *session) status(mb *evlog.MailboxRecord, options *imap.StatusOptions) (*imap.StatusData, error) {
	data := &imap.StatusData{Mailbox: mb.GetName()}
	if options.NumMessages {
		n := mb.GetMessages()
		data.NumMessages = &n
	}
	if options.UIDNext {
		data.UIDNext = imap.UID(mb.GetUidNext())
	}
	if options.UIDValidity {
		data.UIDValidity = mb.GetUidValidity()
	}
	if options.Size {
		size := int64(mb.GetSize())
		data.Size = &size
	}
	if options.NumRecent {
		n := statusRecent(&s.srv.hub.recent, mb)
		data.NumRecent = &n
	}
	if options.AppendLimit {
		limit := s.srv.cfg.AppendLimit
		data.AppendLimit = &limit
	}
	if options.HighestModSeq {
		data.HighestModSeq = mb.GetHighestModseq() // RFC 7162 §3.1.6
	}
	if options.NumUnseen || options.NumDeleted {
		var seen, deleted uint32
		err := s.srv.cfg.Store.Messages(mb.GetId(), func(_ uint32, m *evlog.MessageRecord) bool {
			for _, f := range m.GetFlags() {
				switch f {
				case `\Seen`:
					seen++
				case `\Deleted`:
					deleted++
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		// The counts come from one scan, MESSAGES from the record: a
		// change between them can only make UNSEEN briefly inexact.
		unseen := uint32(0)
		if total := mb.GetMessages(); total > seen {
			unseen = total - seen
		}
		if options.NumUnseen {
			data.NumUnseen = &unseen
		}
		if options.NumDeleted {
			data.NumDeleted = &deleted
		}
	}
	return data, nil
}

// appendTarget checks an APPEND before its message literal is accepted
// (so that a refused one is never sent, RFC 9051 §6.3.12, RFC 7889): the
// mailbox exists ([TRYCREATE] if not), the size is within APPENDLIMIT
// ([TOOBIG]) and the user's quota ([OVERQUOTA]; apply checks again).
func (s *session) appendTarget(name string, size int64) (*evlog.MailboxRecord, error) {
	if size > int64(s.srv.cfg.AppendLimit) {
		return nil, no(imap.ResponseCodeTooBig, "Message exceeds the APPENDLIMIT")
	}
	b, err := s.lookup(name) // shared.go
	if err == errNonExistent && !s.inOtherNamespace(name) {
		return nil, errTryCreate
	}
	if err != nil {
		return nil, err
	}
	if err := b.need(acl.Insert); err != nil { // RFC 4314 §4
		return nil, err
	}
	mb := b.rec
	// The owner's quota: a message in a shared mailbox is the owner's.
	if err := s.roomFor(mb.GetAddress(), size, 1); err != nil {
		return nil, err
	}
	return mb, nil
}

// roomFor refuses, with OVERQUOTA, messages more messages of bytes octets
// in all for owner's account, before the bodies cross the cluster (RFC
// 9208 §4.3); apply checks again when they are filed. A failed read is
// not a refusal: apply decides then.
func (s *session) roomFor(owner string, bytes int64, messages int) error {
	u, err := s.srv.cfg.Store.User(owner)
	if err == nil && mailbox.OverQuota(u, uint64(bytes), uint64(messages)) {
		return errOverQuota
	}
	return nil
}

// Append stores a message in mb (RFC 9051 §6.3.12; appendTarget checked
// it) and answers APPENDUID (RFC 4315 §3). The body goes as BlobStored
// chunks: all but the last in proposals of their own, the last with the
// Appended event, so no Raft entry exceeds log.ChunkSize plus a little
// (docs/DESIGN.md invariant 4). The OK comes once the Appended event is
// committed and applied here.
func (s *session) Append(mb *evlog.MailboxRecord, body []byte, options *imap.AppendOptions) (*imap.AppendData, error) {
	chunks := evlog.Chunks(body)
	last := chunks[len(chunks)-1]
	// Each chunk pins the body against the blob collector until the
	// Appended that references it commits (docs/DESIGN.md, large
	// messages), for as long as the chunks may take to commit one by one,
	// plus a margin for clock skew between this node and the collector's.
	until := s.srv.cfg.Now().Add(time.Duration(len(chunks))*s.srv.cfg.ProposeTimeout + pinMargin).Unix()
	for _, c := range chunks[:len(chunks)-1] {
		c.PinnedUntilUnix = until
		if _, err := s.propose(ev(&evlog.Event_BlobStored{BlobStored: c})); err != nil {
			s.log.Warn("imap append chunk failed", "mailbox", mb.GetName(), "err", err)
			return nil, replyFor(err)
		}
	}
	appended, err := s.appendedEvent(mb, last.Hash, last.Size, options)
	if err != nil {
		return nil, err
	}
	out, err := s.propose(ev(&evlog.Event_BlobStored{BlobStored: last}), ev(&evlog.Event_Appended{Appended: appended}))
	if err != nil {
		s.log.Info("imap append failed", "mailbox", mb.GetName(), "size", len(body), "err", err)
		if errors.Is(replyFor(err), errNonExistent) {
			return nil, errTryCreate
		}
		return nil, replyFor(err)
	}
	s.refreshSelected(mb.GetId())
	res := out.GetResults()
	if len(res) < 2 || len(res[1].GetUids()) == 0 {
		return nil, nil // committed; no APPENDUID to give
	}
	// The apply line on every node names the same user, mailbox and uid,
	// with the entry's raft_index (mailbox/apply.go).
	s.log.Info("imap append", "mailbox", mb.GetName(), evlog.UIDRangesAttr(res[1].GetUids()), "size", len(body))
	if l := s.srv.cfg.SpamLearner; l != nil {
		l.Appended(s.ctx, s.user, mb.GetSpecialUse(), body)
	}
	return &imap.AppendData{UIDValidity: res[1].GetUidValidity(), UID: imap.UID(res[1].GetUids()[0].GetFirst())}, nil
}

// appendedEvent files the body hash of size octets in mb with APPEND's
// options: the internal date given or now, now as the save date (RFC
// 8514), and the flags the user's rights on mb allow (RFC 4314 §4).
func (s *session) appendedEvent(mb *evlog.MailboxRecord, hash []byte, size uint64, options *imap.AppendOptions) (*evlog.Appended, error) {
	date := options.Time
	if date.IsZero() {
		date = s.srv.cfg.Now()
	}
	_, offset := date.Zone()
	flags := make([]string, len(options.Flags))
	for i, f := range options.Flags {
		flags[i] = string(f)
	}
	flags, err := s.allowedFlags(mb, flags) // shared.go
	if err != nil {
		return nil, err
	}
	return &evlog.Appended{
		MailboxId: mb.GetId(), Blob: hash, Size: size, Flags: flags,
		InternalDateUnix: date.Unix(), InternalDateOffset: int32(offset),
		SavedUnix: s.srv.cfg.Now().Unix(),
	}, nil
}

// appendMore checks a further message of a MULTIAPPEND (RFC 3502) into
// mb, of size octets, after count messages of total octets, as
// appendTarget checks the first.
func (s *session) appendMore(mb *evlog.MailboxRecord, count int, total, size int64) error {
	if size > int64(s.srv.cfg.AppendLimit) {
		return no(imap.ResponseCodeTooBig, "Message exceeds the APPENDLIMIT")
	}
	return s.roomFor(mb.GetAddress(), total+size, count+1)
}

// refreshSelected brings the node's state of the selected mailbox up to
// date right after this session changed mailbox id, so that the poll at
// the end of the command reports the change (read-your-writes).
func (s *session) refreshSelected(id uint64) {
	if s.sel != nil && s.sel.state.id == id {
		if _, err := s.sel.state.refresh(false); err != nil {
			s.log.Warn("imap refresh failed", "err", err)
		}
	}
}
