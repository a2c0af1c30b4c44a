package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/propose"
)

// data receives the message and delivers it (RFC 5321 §4.1.1.4). Its
// return is the reply to the end of data: 250 only once the delivery is
// committed and applied here (docs/DESIGN.md invariant 1).
func (s *session) data(r io.Reader) error {
	// The trace fields are made before the message is read (RFC 5321
	// §4.4: the time it arrives); they are stored on top of it at the end.
	id := newID()
	now := s.srv.cfg.Now()
	t := trace{
		Helo: s.conn.Hostname(), RemoteIP: s.remote, Host: s.srv.cfg.Hostname,
		TLS: s.tls, Auth: s.user != "", UTF8: s.utf8, ID: id, Date: now,
	}
	if st, ok := s.conn.TLSConnectionState(); ok {
		t.TLSInfo = tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
	}
	if s.rcptCount == 1 {
		t.For = s.firstRcpt // RFC 5321 §4.4: only when there is one recipient
	}
	// The checks (pipeline.Check: authentication verdicts, signing) see
	// the message as it streams into the log (ChunkStaged).
	runs, err := pipeline.Start(s.ctx, s.srv.cfg.Checks, s.envelope(now))
	if err != nil {
		se := checkReply(err)
		s.log.Warn("smtp message refused before its body", "id", id, "from", s.from, "code", se.Code, "err", err)
		return se
	}
	up := s.srv.newUpload(s.ctx)
	stored, err := readMessage(runs.Reader(r), s.srv.cfg.MaxMessageSize, up.stage)
	if err == nil {
		err = up.wait()
	}
	if err != nil {
		runs.Abort()
		up.abandon()
		se := replyFor(err)
		s.log.Info("smtp message refused", "id", id, "from", s.from, "rcpt", s.rcptCount, "code", se.Code, "reason", se.Message, "err", err)
		return se
	}
	msgID := headerValue(stored.head, "Message-ID")
	log := s.log.With("id", id, "from", s.from, "rcpt", s.rcptCount, "size", stored.size, "msgid", msgID)

	checkCtx, cancelChecks := context.WithTimeout(s.ctx, s.srv.cfg.CheckTimeout)
	verdict, err := runs.Finish(checkCtx)
	cancelChecks()
	if err == nil && verdict.Action == pipeline.Refuse {
		err = verdict.Reply
	}
	if err != nil {
		up.abandon()
		se := checkReply(err)
		log.Info("smtp message refused by checks", "code", se.Code, "reason", se.Message, "checks", strings.Join(verdict.Notes, "; "), "err", err)
		if verdict.Action == pipeline.Refuse && len(verdict.Events) > 0 {
			// What the checks record (a DMARC result for the sender's
			// aggregate report, RFC 7489 §7.2) holds for a refused
			// message too; it is proposed alone, and its failure
			// changes nothing for the client.
			s.srv.recordRefused(s.ctx, verdict.Events, log)
		}
		return se
	}
	if len(verdict.Notes) > 0 {
		log = log.With("checks", strings.Join(verdict.Notes, "; "))
	}

	// The session's context: the delivery stops waiting when the
	// connection closes or the server shuts down (the outcome is then
	// unknown to the client, which was told nothing and retries).
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.cfg.ProposeTimeout)
	defer cancel()
	if lc := limitedConnOf(s.conn.Conn()); lc != nil {
		// A client that hangs up meanwhile ends the wait too.
		stop := lc.watchClose(cancel)
		defer stop()
	}
	// Recipients whose checks decided differently get copies of their
	// own (copies.go).
	headFor := func(prepend []byte) []byte { return storedHead(s.from, prepend, t) }
	p := s.planDelivery(verdict, stored, headFor, log) // sieve.go
	groups := p.groups
	if len(p.squeezed) > 0 {
		log.Warn("smtp recipients' own header fields left out: their copies would cost too much", "count", len(p.squeezed), "limit", maxCopyBytes)
	}
	if len(groups) == 0 && len(p.redirects) == 0 && len(s.nonLocal) == 0 {
		return s.discardAll(ctx, up, verdict.Events, p.discarded, log)
	}
	forwardFrom := s.from
	if len(p.redirects) > 0 {
		if forwardFrom, err = s.forwardSender(); err != nil {
			// A sender SRS cannot carry (a quoted local part, too long):
			// forwarded as it is, as postsrsd does; SPF at the
			// destination may fail, but nothing is lost.
			log.Warn("smtp redirects keep the sender: SRS could not rewrite it", "err", err)
			forwardFrom = s.from
		}
	}
	count, depth := s.srv.cfg.mailboxLimits()
	d := delivery{
		from: s.from, user: s.user, local: s.local, nonLocal: s.nonLocal, body: stored, date: now,
		params: s.params, envID: s.envID, ret: s.ret, upload: up,
		groups: groups, relayHead: headFor(verdict.Prepend), events: verdict.Events,
		redirects: p.redirects, forwardFrom: forwardFrom, discarded: len(p.discarded) > 0,
		maxMailboxes: count, maxNameDepth: depth,
	}
	res, err := s.srv.deliver(ctx, d)
	if err != nil {
		up.abandon() // a no-op when the upload was committed after all
		se := replyFor(err)
		level := log.Info
		if se.Code/100 == 4 {
			level = log.Warn
		}
		level("smtp delivery failed", "code", se.Code, "raft_index", res.index, "err", err)
		return se
	}
	skipped := res.skipped
	if len(skipped) > 0 {
		if len(res.filed) == 0 && !d.relayed() {
			se := skippedReply(skipped)
			log.Info("smtp delivery refused at apply", "skipped", describeSkipped(skipped), "code", se.Code, "raft_index", res.index)
			return se
		}
		// SMTP has one reply for all recipients after DATA (per-recipient
		// replies exist only in LMTP, RFC 2033 §4.2): the others got it,
		// so the message is accepted, and apply queued a DSN to the
		// sender for the skipped ones in the same commit (RFC 3464; as
		// Postfix does when its local delivery agent refuses a recipient).
		// With several copies (copies.go) the message is accepted even
		// when every recipient was skipped: each Delivered is marked
		// relayed, so apply queued their DSNs whatever the others did.
		log.Warn("smtp delivered with recipients skipped at apply; DSN queued to the sender", "skipped", describeSkipped(skipped), "raft_index", res.index)
	}
	// One line per local copy, with its mailbox and UID, so that a
	// message can be followed to the mailbox on every node with grep.
	for _, f := range res.filed {
		log.Info("smtp delivered", "user", f.user, "mailbox", f.mailbox, "uid", f.uid, "raft_index", res.index)
	}
	for _, r := range p.redirects {
		log.Info("smtp redirected", "user", r.user, "rcpt", r.to, "reason", "forwarded with sender "+forwardFrom, "raft_index", res.index)
	}
	if len(p.discarded) > 0 {
		log.Info("smtp discarded for some recipients", "count", len(p.discarded), "raft_index", res.index)
	}
	if len(s.nonLocal) > 0 {
		log.Info("smtp queued for relay", "relayed", len(s.nonLocal), "raft_index", res.index)
	}
	return nil
}

// discardAll ends a message that no recipient keeps and nothing relays
// (every local recipient's filter discarded it): 250 without storing it,
// once the checks' events (a vacation reply, duplicate records) are
// committed, since they are what the delivery did.
func (s *session) discardAll(ctx context.Context, up *upload, events []*evlog.Event, discarded []string, log *slog.Logger) error {
	up.abandon()
	var index uint64
	if len(events) > 0 {
		f, err := propose.SubmitAsync(ctx, s.srv.cfg.Proposer, events...)
		if err == nil {
			_, err = f.Wait(ctx)
			index = f.Index()
		}
		if err != nil {
			se := replyFor(err)
			log.Warn("smtp discarded message's events not committed", "code", se.Code, "err", err)
			return se
		}
	}
	log.Info("smtp discarded by every recipient's filter; nothing stored", "count", len(discarded), "raft_index", index)
	return nil
}

// delivery is one accepted message on its way to the log.
type delivery struct {
	// from is the envelope sender: the DSN for recipients apply skips
	// goes there (empty: the null reverse-path, no DSN).
	from, user string
	local      []string // canonical users
	nonLocal   []string
	params     []RecipientParams // DSN parameters of nonLocal
	envID, ret string
	body       *storedBody
	upload     *upload // where body's staged chunks are (nil: none)
	// groups are the local recipients by the copy they get (copies.go),
	// each with the header fields stored on top of body; the relayed copy
	// gets relayHead (the fields of the whole message).
	groups    []copyGroup
	relayHead []byte
	date      time.Time
	events    []*evlog.Event // the checks' own, proposed with the delivery
	// redirects are copies queued for forwarding (sieve.go), with
	// forwardFrom as their envelope sender; discarded: some local
	// recipient gets no copy.
	redirects   []redirectCopy
	forwardFrom string
	discarded   bool
	// Limits for the mailboxes fileinto :create makes (0: none).
	maxMailboxes, maxNameDepth uint32
}

// relayed reports whether the delivery is accepted whatever apply does
// with one group's recipients (Delivered.relayed): something else is
// queued or filed, or a recipient's discard was its delivery.
func (d delivery) relayed() bool {
	return len(d.nonLocal) > 0 || len(d.groups) > 1 || len(d.redirects) > 0 || d.discarded
}

// chunkWindow is how many chunk proposals of one message are in flight
// at once: enough to fill a group-commit entry (4 MiB) with a large
// message's chunks instead of paying one round trip per 256 KiB, few
// enough that a session's proposals stay a few MiB.
const chunkWindow = 8

// pinMargin is added to a delivery's deadline for its chunks' pin: it
// covers clock skew between this node and the collector's.
const pinMargin = time.Minute

// unpinTimeout bounds the proposal that ends a refused delivery's pin.
const unpinTimeout = 2 * time.Second

// delivered is what deliver reports of a committed delivery.
type delivered struct {
	index   uint64 // the log index of the delivery's entry (0: unknown)
	skipped []*evlog.SkippedRecipient
	filed   []filed // local copies, by copy then in recipient order
}

// filed is one local copy of a message.
type filed struct {
	user, mailbox string
	uid           uint32
}

// deliver proposes the message: every chunk but the last in a proposal of
// its own, chunkWindow of them in flight at once, then, when all are
// committed, the last chunk with the Delivered event (and the Relay's
// events) in ONE proposal, so that one commit makes the message visible to
// all its recipients at once (docs/DESIGN.md invariants 1 and 4). It
// returns the recipients apply skipped, with apply's reason for each, and
// where the copies went.
func (s *Server) deliver(ctx context.Context, d delivery) (res delivered, err error) {
	var uploadID []byte
	if d.upload != nil {
		uploadID = d.upload.id
	}
	// Apply puts the first head on top of the staged chunks and this
	// last one, in this proposal (mailbox/apply_staged.go); other heads
	// are copies of that body (copies.go).
	// The streamed body keeps the message's header block: the first
	// group's that does, else the relayed copy's.
	firstHead := d.relayHead
	if i := slices.IndexFunc(d.groups, func(g copyGroup) bool { return !g.skip }); i >= 0 {
		firstHead = d.groups[i].head
	}
	last, err := d.body.last(firstHead, uploadID)
	if err != nil {
		return res, err
	}
	blobs := newBodies(d.body, last)
	var deliveries []*evlog.Event
	_, offset := d.date.Zone()
	for _, g := range d.groups {
		blob := blobs.forHead(g.head, g.skip)
		deliveries = append(deliveries, &evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
			Blob: blob.Hash, Size: blob.Size, Recipients: recipientsOf(g, s.publicAccount),
			InternalDateUnix: d.date.Unix(), InternalDateOffset: int32(offset),
			// For the DSN of a recipient apply cannot deliver to; with
			// several copies, the message is accepted whatever happens to
			// this one's recipients (see data).
			ReturnPath: d.from, Envid: d.envID, Ret: DSNReturn(d.ret), Relayed: d.relayed(),
			MaxMailboxes: d.maxMailboxes, MaxNameDepth: d.maxNameDepth,
		}}})
	}
	var queued []*evlog.Event
	if len(d.nonLocal)+len(d.redirects) > 0 && s.cfg.Relay == nil {
		return res, errNoRelay
	}
	for _, r := range d.redirects {
		blob := blobs.forHead(r.head, r.skip)
		evs, err := s.cfg.Relay.QueueEvents(Outbound{
			From: d.forwardFrom, Recipients: r.to, Blob: blob.Hash, Size: blob.Size, Received: d.date,
		})
		if err != nil {
			return res, fmt.Errorf("relay a redirect: %w", err)
		}
		queued = append(queued, evs...)
	}
	if len(d.nonLocal) > 0 {
		relayed := blobs.forHead(d.relayHead, false)
		queued, err = s.cfg.Relay.QueueEvents(Outbound{
			From: d.from, Recipients: d.nonLocal, Blob: relayed.Hash, Size: relayed.Size, Received: d.date, User: d.user,
			EnvID: d.envID, Return: d.ret, Params: d.params,
		})
		if err != nil {
			return res, fmt.Errorf("relay: %w", err)
		}
		s.stampSendLimits(queued)
	}
	// The bodies first (a copy after the body it copies), then what
	// references them.
	events := make([]*evlog.Event, 0, len(blobs.stored)+len(deliveries)+len(queued)+len(d.events))
	for _, b := range blobs.stored {
		events = append(events, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: b}})
	}
	deliveredAt := len(events)
	events = append(events, deliveries...)
	events = append(events, queued...)
	events = append(events, d.events...)
	f, err := propose.SubmitAsync(ctx, s.cfg.Proposer, events...)
	if err != nil {
		return res, err
	}
	out, err := f.Wait(ctx)
	if res.index = f.Index(); res.index == 0 && (err == nil || out != nil) {
		res.index = s.appliedIndex() // a proposer that does not report the index
	}
	if err != nil {
		return res, err
	}
	if len(queued) > 0 {
		if n, ok := s.cfg.Relay.(interface{ Queued() }); ok {
			n.Queued() // wake the queue worker (when it runs on this node)
		}
	}
	for i, g := range d.groups {
		if deliveredAt+i >= len(out.GetResults()) {
			break
		}
		r := out.GetResults()[deliveredAt+i]
		skipped := r.GetSkippedRecipients()
		if len(skipped) == 0 {
			// An apply from before reasons were reported.
			for _, a := range r.GetSkipped() {
				skipped = append(skipped, &evlog.SkippedRecipient{Address: a})
			}
		}
		res.skipped = append(res.skipped, skipped...)
		res.filed = append(res.filed, filedCopies(g, skipped, r.GetUids(), r.GetMailboxes())...)
	}
	return res, nil
}

// upload is one message's staged chunks on their way to the log: each
// full chunk read is proposed as ChunkStaged at once, chunkWindow of them
// in flight; reading waits for the oldest before going on, so a session
// holds about chunkWindow chunks, never the whole message.
type upload struct {
	srv      *Server
	ctx      context.Context // the session's
	id       []byte
	staged   uint32
	inflight []staging
}

// staging is one ChunkStaged in flight.
type staging struct {
	f      *propose.Future
	cancel context.CancelFunc
	chunk  uint32
}

// newUploadID is 16 random bytes: an upload's name until its body's is
// known.
func newUploadID() []byte {
	id := make([]byte, 16)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24)
	return id
}

func (s *Server) newUpload(ctx context.Context) *upload {
	return &upload{srv: s, ctx: ctx, id: newUploadID()}
}

// stage proposes data as the upload's next chunk (a stageFunc). Each
// chunk pins the upload for as long as the client may take to send the
// next one (ReadTimeout) and the delivery that follows may still be
// proposed, plus pinMargin for clock skew with the collector's node: a
// session that dies leaves it to expire (mailbox/apply_staged.go).
func (u *upload) stage(data []byte) error {
	if len(u.inflight) == chunkWindow {
		if err := u.waitOldest(); err != nil {
			return err
		}
	}
	s := u.srv
	until := s.cfg.Now().Add(s.cfg.ReadTimeout + s.cfg.ProposeTimeout + pinMargin).Unix()
	ctx, cancel := context.WithTimeout(u.ctx, s.cfg.ProposeTimeout)
	// docs/DESIGN.md invariant 4: no Raft entry exceeds a fixed bound.
	f, err := propose.SubmitAsync(ctx, s.cfg.Proposer, &evlog.Event{Kind: &evlog.Event_ChunkStaged{ChunkStaged: &evlog.ChunkStaged{
		UploadId: u.id, Chunk: u.staged, Data: data, PinnedUntilUnix: until}}})
	if err != nil {
		cancel()
		return fmt.Errorf("stage chunk %d: %w", u.staged, err)
	}
	u.inflight = append(u.inflight, staging{f: f, cancel: cancel, chunk: u.staged})
	u.staged++
	return nil
}

// waitOldest waits until the oldest chunk in flight is committed.
func (u *upload) waitOldest() error {
	st := u.inflight[0]
	u.inflight = u.inflight[1:]
	defer st.cancel()
	if _, err := st.f.Wait(u.ctx); err != nil {
		return fmt.Errorf("stage chunk %d: %w", st.chunk, err)
	}
	return nil
}

// wait returns once every chunk staged so far is committed.
func (u *upload) wait() error {
	for len(u.inflight) > 0 {
		if err := u.waitOldest(); err != nil {
			return err
		}
	}
	return nil
}

// abandon deletes the staged chunks of a message that was refused or
// whose delivery failed, at once rather than when their pin expires. It
// runs even when the session is gone, but briefly; if it fails, the pin's
// expiry still ends the upload. An upload already assembled is gone, and
// abandoning it changes nothing.
func (u *upload) abandon() {
	if u.staged == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), unpinTimeout)
	defer cancel()
	// Chunks still in flight first, so that none commits after the abandon.
	for _, st := range u.inflight {
		_, _ = st.f.Wait(ctx) // its outcome no longer matters
		st.cancel()
	}
	u.inflight = nil
	if _, err := propose.Submit(ctx, u.srv.cfg.Proposer, &evlog.Event{Kind: &evlog.Event_BlobsCollected{
		BlobsCollected: &evlog.BlobsCollected{AbandonedUploads: [][]byte{u.id}}}}); err != nil {
		u.srv.log.Info("smtp could not abandon a refused message's staged chunks; their pin expires", "err", err)
	}
}

// skippedReply answers the end of DATA when apply delivered to none of the
// recipients, from apply's reasons (the directory is not read again: it
// may have changed since). A recipient over its quota makes it 452 4.2.2,
// temporary, as at RCPT (quota.go): the user may make room, and the
// sender's retry then meets the RCPT check. Only when every recipient was
// deleted since RCPT is it 550 5.1.1. A reason this build does not know
// (or none, from an older apply) is 451: the sender keeps the message.
func skippedReply(skipped []*evlog.SkippedRecipient) *gosmtp.SMTPError {
	reply := errNoSuchUser
	for _, r := range skipped {
		switch r.GetReason() {
		case evlog.ErrorCode_ERROR_CODE_OVER_QUOTA:
			return errMailboxFull
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER:
		default:
			reply = errTemporary
		}
	}
	return reply
}

// describeSkipped is skipped recipients with their reasons, for the log.
func describeSkipped(skipped []*evlog.SkippedRecipient) []string {
	out := make([]string, len(skipped))
	for i, r := range skipped {
		out[i] = r.GetAddress() + " (" + r.GetReason().String() + ")"
	}
	return out
}

// DSNReturn is RET (RFC 3461 §4.3), as MAIL gave it, as the events carry
// it (the outbound queue's Relay uses it too).
func DSNReturn(ret string) evlog.DsnReturn {
	switch strings.ToUpper(ret) {
	case "FULL":
		return evlog.DsnReturn_DSN_RETURN_FULL
	case "HDRS":
		return evlog.DsnReturn_DSN_RETURN_HEADERS
	}
	return evlog.DsnReturn_DSN_RETURN_UNSPECIFIED
}

// appliedIndex is this node's applied Raft index when the Directory knows
// it (*mailbox.Store does), read right after the commit: the delivery's
// entry is at or below it. Only for proposers that do not report the
// entry's own index (*cluster.Node does).
func (s *Server) appliedIndex() uint64 {
	if a, ok := s.cfg.Directory.(interface{ AppliedIndex() uint64 }); ok {
		return a.AppliedIndex()
	}
	return 0
}

// envelope is what the checks know of the transaction before its body.
func (s *session) envelope(now time.Time) pipeline.Envelope {
	return pipeline.Envelope{
		Submission: s.srv.cfg.Kind.submission(), User: s.user,
		RemoteIP: s.remote, Helo: s.conn.Hostname(), From: s.from,
		Local: slices.Clone(s.local), Remote: slices.Clone(s.nonLocal),
		RcptTo: maps.Clone(s.rcptTo), TLS: s.tls, Received: now,
	}
}

// checkReply is the reply for a check's refusal (its own *pipeline.Reply)
// or failure: a check that could not decide is a temporary failure, never
// a permanent refusal nor a pass (RFC 5321 §4.2.5; RFC 7208 §8.6 and RFC
// 7489 §6.6.3 ask the same of SPF and DMARC temperrors).
func checkReply(err error) *gosmtp.SMTPError {
	var r *pipeline.Reply
	if errors.As(err, &r) && r.Code >= 400 && r.Code < 600 {
		return &gosmtp.SMTPError{Code: r.Code, EnhancedCode: gosmtp.EnhancedCode(r.Enhanced), Message: r.Text}
	}
	return errChecksFailed
}

// recordTimeout bounds the proposal of a refused message's records.
const recordTimeout = 2 * time.Second

// recordRefused proposes the checks' events of a refused message.
func (s *Server) recordRefused(ctx context.Context, events []*evlog.Event, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, recordTimeout)
	defer cancel()
	if _, err := propose.Submit(ctx, s.cfg.Proposer, events...); err != nil {
		log.Warn("smtp refused message's records not kept", "err", err)
	}
}
