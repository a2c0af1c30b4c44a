package outbound

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
	"github.com/surat-mail/surat/protocols/propose"
)

// DefaultSchedule is the backoff between attempts; the last value repeats
// until the entry expires.
var DefaultSchedule = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
}

// Store is the read side the worker needs (*mailbox.Store has it).
type Store interface {
	DueQueueEntries(now int64, limit int) ([]*evlog.QueueRecord, error)
	QueueLength() (int, error)
	Blob(hash []byte) ([]byte, error)
	ResolveAddress(address string) (string, error)
	IsLocalDomain(domain string) (bool, error)
	UnreferencedBlobs(touchedBefore uint64, now int64, limit int) ([][]byte, error)
	UploadsPinnedBefore(before int64) (int, error)
	AppliedIndex() uint64
}

// Cluster is what the worker needs from the local node (*cluster.Node).
type Cluster interface {
	IsLeader() bool
	// Ready: a leader is known and this node has applied what it knows
	// to be committed.
	Ready() bool
	Propose(ctx context.Context, proposal []byte) ([]byte, error)
}

// Deliverer makes one delivery attempt (*Transport is the real one).
type Deliverer interface {
	Deliver(ctx context.Context, domain string, env Envelope) Attempt
}

// Config configures a Worker.
type Config struct {
	Store     Store     // required
	Cluster   Cluster   // required
	Deliverer Deliverer // required
	// IsNotFound reports whether a Store error means "no such address".
	IsNotFound func(error) bool
	// OneRoute: every recipient goes to the same host (a smarthost), so
	// an entry is sent in one transaction rather than one per domain.
	OneRoute bool

	Hostname     string   // Reporting-MTA of DSNs
	LocalDomains []string // the first one signs DSNs (MAILER-DAEMON@)
	// SignDSN, when set, returns the DKIM-Signature fields to prepend to
	// a DSN sent as MAILER-DAEMON@domain (dkimsign.Keys.Sign); an error
	// sends it unsigned.
	SignDSN func(domain string, msg []byte) ([]byte, error)

	Schedule       []time.Duration // backoff; nil: DefaultSchedule
	PollInterval   time.Duration   // due-entry scan; default 1 s
	LeaderCheck    time.Duration   // leadership poll; default 200 ms
	MaxConcurrent  int             // attempts at once; default 8
	ScanLimit      int             // entries per scan; default 256
	ProposeTimeout time.Duration   // default 30 s
	// DelayWarning, when positive, sends one "delayed" DSN (RFC 3464
	// Action: delayed) for recipients still pending this long after
	// queueing, if they asked for it (RFC 3461 NOTIFY=DELAY, or no
	// NOTIFY). 0: never (Postfix's delay_warning_time default).
	DelayWarning time.Duration
	// HoldOff is how long an entry whose outcome could not be recorded
	// waits before this node tries it again; default 30 s.
	HoldOff time.Duration

	// CollectInterval runs the blob collector; default 1 min, negative:
	// never. CollectDistance is how many log entries must have passed
	// since a body was last touched; default 1000.
	CollectInterval time.Duration
	CollectDistance uint64

	// TLSReport, when set, receives the TLS-RPT outcome (RFC 8460) of
	// every TLS session with an MX host and of every MTA-STS policy that
	// could not be fetched, as the attempt that met it ends. It runs on
	// the attempt's goroutine: it must not block for long.
	TLSReport func(ctx context.Context, o tlsrpt.Outcome)

	Now        func() time.Time // the proposer's clock; default time.Now
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() error {
	if c.Store == nil || c.Cluster == nil || c.Deliverer == nil {
		return errors.New("outbound: Store, Cluster and Deliverer are required")
	}
	if c.IsNotFound == nil {
		c.IsNotFound = func(error) bool { return false }
	}
	if len(c.Schedule) == 0 {
		c.Schedule = DefaultSchedule
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PollInterval, time.Second)
	def(&c.LeaderCheck, 200*time.Millisecond)
	def(&c.ProposeTimeout, 30*time.Second)
	def(&c.HoldOff, 30*time.Second)
	def(&c.CollectInterval, time.Minute)
	if c.CollectDistance == 0 {
		c.CollectDistance = 1000
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 8
	}
	if c.ScanLimit <= 0 {
		c.ScanLimit = 256
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	return nil
}

// Worker delivers the outbound queue while its node leads.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	sem     chan struct{}
	wake    chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	inflight map[string]bool      // queue ids being attempted here
	holdOff  map[string]time.Time // queue ids not to try before then
}

// New builds a Worker; Run starts it.
func New(cfg Config) (*Worker, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	w := &Worker{
		cfg: cfg, log: cfg.Logger.With("component", "queue"),
		sem: make(chan struct{}, cfg.MaxConcurrent), wake: make(chan struct{}, 1),
		inflight: map[string]bool{}, holdOff: map[string]time.Time{},
	}
	m, err := newMetrics(cfg.Registerer, cfg.Store)
	if err != nil {
		return nil, err
	}
	w.metrics = m
	return w, nil
}

// Wake asks for a scan now (a message was queued).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works the queue until ctx ends, then waits for attempts in flight
// (they stop promptly: their connections are cut).
func (w *Worker) Run(ctx context.Context) {
	tick := time.NewTicker(w.cfg.LeaderCheck)
	defer tick.Stop()
	var (
		lctx        context.Context
		lcancel     context.CancelFunc
		lastScan    time.Time
		lastCollect = time.Now()
		woken       bool
	)
	defer func() {
		if lcancel != nil {
			lcancel()
		}
		w.wg.Wait()
	}()
	for {
		leader := w.cfg.Cluster.IsLeader()
		if !leader && lcancel != nil {
			lcancel() // stop attempts in flight: the next leader takes over
			lcancel = nil
			w.log.Info("queue worker paused: no longer leader")
		}
		if leader && lcancel == nil && w.cfg.Cluster.Ready() && w.barrier(ctx) {
			lctx, lcancel = context.WithCancel(ctx)
			lastScan = time.Time{}
			w.log.Info("queue worker active: this node leads")
		}
		if lcancel != nil {
			if woken || time.Since(lastScan) >= w.cfg.PollInterval {
				woken = false
				lastScan = time.Now()
				w.scan(lctx)
			}
			if w.cfg.CollectInterval > 0 && time.Since(lastCollect) >= w.cfg.CollectInterval {
				lastCollect = time.Now()
				w.collect(lctx)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.wake:
			woken = true
		}
	}
}

// barrier commits an empty proposal in the new leader's term: once it is
// applied here, so is everything an earlier leader committed, and the
// queue read from the store is the one the old leader left.
func (w *Worker) barrier(ctx context.Context) bool {
	data, err := evlog.EncodeBatch(&evlog.Batch{})
	if err != nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, w.cfg.ProposeTimeout)
	defer cancel()
	if _, err := w.cfg.Cluster.Propose(pctx, data); err != nil {
		w.log.Warn("queue worker: barrier failed; will retry", "err", err)
		return false
	}
	return true
}

// scan starts attempts for due entries, as many as there are free slots.
func (w *Worker) scan(ctx context.Context) {
	now := w.cfg.Now()
	due, err := w.cfg.Store.DueQueueEntries(now.Unix(), w.cfg.ScanLimit)
	if err != nil {
		w.log.Error("queue scan failed", "err", err)
		return
	}
	for _, q := range due {
		key := string(q.GetId())
		w.mu.Lock()
		busy := w.inflight[key]
		until, held := w.holdOff[key]
		if held && !now.Before(until) {
			delete(w.holdOff, key)
			held = false
		}
		w.mu.Unlock()
		if busy || held {
			continue
		}
		select {
		case w.sem <- struct{}{}:
		default:
			return // every slot busy; the rest waits for the next scan
		}
		w.mu.Lock()
		w.inflight[key] = true
		w.mu.Unlock()
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			defer func() {
				w.mu.Lock()
				delete(w.inflight, key)
				w.mu.Unlock()
				<-w.sem
			}()
			w.attempt(ctx, q)
		}()
	}
}

func (w *Worker) hold(id []byte) {
	w.mu.Lock()
	w.holdOff[string(id)] = w.cfg.Now().Add(w.cfg.HoldOff)
	w.mu.Unlock()
}

// attempt delivers one entry's pending recipients and records the outcome.
func (w *Worker) attempt(ctx context.Context, q *evlog.QueueRecord) {
	qid := hex.EncodeToString(q.GetId())
	log := w.log.With("queue_id", qid, "from", q.GetMailFrom())
	body, err := w.cfg.Store.Blob(q.GetBlob())
	if err != nil {
		log.Error("queue entry body unreadable", "err", err)
		w.hold(q.GetId())
		return
	}
	var rcpts []*evlog.QueueRecipientState
	for _, r := range q.GetRecipients() {
		if r.GetStatus() == evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_PENDING {
			rcpts = append(rcpts, r)
		}
	}
	if len(rcpts) == 0 {
		return
	}
	results := map[string]Result{}
	mta := map[string]string{}
	dsnOK := map[string]bool{}
	tlsOf := map[string]TLSOutcome{}
	if q.GetLocalFailure() {
		// Local recipients apply could not deliver to after the message
		// was accepted (mailbox full, user gone): nothing to attempt; they
		// bounce with the reason apply recorded, and the sender gets a DSN
		// (RFC 3464), as from an MTA whose local delivery agent refused.
		for _, r := range rcpts {
			results[r.GetAddress()] = Result{Class: Permanent, Reply: r.GetReply(), Status: r.GetEnhancedStatus()}
		}
		w.record(ctx, q, rcpts, results, mta, dsnOK, tlsOf, body, log)
		return
	}
	tlsOptional := tlsNotRequired(body)
	for _, group := range w.groups(rcpts) {
		env := Envelope{From: q.GetMailFrom(), EnvID: q.GetEnvid(), Return: returnName(q.GetRet()), Body: withoutReturnPath(body),
			RequireTLS: q.GetRequireTls(), TLSOptional: tlsOptional}
		for _, r := range group.rcpts {
			env.Recipients = append(env.Recipients, Recipient{Address: r.GetAddress(), Notify: r.GetNotify(), ORCPT: r.GetOrcpt()})
		}
		a := w.cfg.Deliverer.Deliver(ctx, group.domain, env)
		w.metrics.observeTLS(a.TLS)
		if a.TLS.State == TLSFailed {
			log.Warn("queue: TLS required and not had; nothing sent", "remote", a.RemoteMTA, "tls_detail", a.TLS.Detail)
		}
		w.tlsReports(ctx, a.Reports, log)
		for _, r := range group.rcpts {
			res, ok := a.Results[r.GetAddress()]
			if !ok {
				res = Result{Class: Temporary, Reply: "no answer for this recipient", Status: "4.4.1"}
			}
			results[r.GetAddress()] = res
			mta[r.GetAddress()] = a.RemoteMTA
			dsnOK[r.GetAddress()] = a.DSN
			tlsOf[r.GetAddress()] = a.TLS
		}
	}
	w.record(ctx, q, rcpts, results, mta, dsnOK, tlsOf, body, log)
}

type domainGroup struct {
	domain string
	rcpts  []*evlog.QueueRecipientState
}

// groups splits recipients by domain (one transaction per destination),
// keeping the queue's order; with OneRoute all go together.
func (w *Worker) groups(rcpts []*evlog.QueueRecipientState) []domainGroup {
	if w.cfg.OneRoute {
		return []domainGroup{{domain: domainOf(rcpts[0].GetAddress()), rcpts: rcpts}}
	}
	var out []domainGroup
	for _, r := range rcpts {
		d := domainOf(r.GetAddress())
		found := false
		for i := range out {
			if out[i].domain == d {
				out[i].rcpts = append(out[i].rcpts, r)
				found = true
				break
			}
		}
		if !found {
			out = append(out, domainGroup{domain: d, rcpts: []*evlog.QueueRecipientState{r}})
		}
	}
	return out
}

func domainOf(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}

func returnName(r evlog.DsnReturn) string {
	switch r {
	case evlog.DsnReturn_DSN_RETURN_FULL:
		return "FULL"
	case evlog.DsnReturn_DSN_RETURN_HEADERS:
		return "HDRS"
	}
	return ""
}

// record proposes the attempt's outcome, with a DSN when one is due, as
// one batch. It is proposed even when leadership was lost meanwhile (the
// proposal is forwarded to the new leader), except for temporary failures
// caused by the loss itself: the new leader retries those.
func (w *Worker) record(ctx context.Context, q *evlog.QueueRecord, rcpts []*evlog.QueueRecipientState,
	results map[string]Result, mta map[string]string, dsnOK map[string]bool, tlsOf map[string]TLSOutcome, body []byte, log *slog.Logger) {
	now := w.cfg.Now()
	id := q.GetId()
	var (
		sent, deferred []string
		sentReply      string
		deferReason    string
		bounced        []*evlog.BouncedRecipient
		report         []DSNRecipient
	)
	for _, r := range rcpts {
		a := r.GetAddress()
		res := results[a]
		switch res.Class {
		case Delivered:
			sent = append(sent, a)
			sentReply = res.Reply
			if wantsSuccessDSN(r.GetNotify()) && !dsnOK[a] {
				// RFC 3461 §6.2.1(c): relayed to a host without DSN.
				report = append(report, DSNRecipient{Address: a, ORCPT: r.GetOrcpt(), Action: "relayed",
					Status: "2.0.0", RemoteMTA: mta[a], Diagnostic: res.Reply, LastAttempt: now})
			}
			log.Info("queue delivered", append([]any{"rcpt", a, "remote", mta[a], "reply", res.Reply}, tlsAttrs(tlsOf[a])...)...)
		case Permanent:
			bounced = append(bounced, &evlog.BouncedRecipient{Address: a, Diagnostic: res.Reply, Status: res.Status})
			if wantsFailureDSN(r.GetNotify()) {
				report = append(report, DSNRecipient{Address: a, ORCPT: r.GetOrcpt(), Action: "failed",
					Status: res.Status, RemoteMTA: mta[a], Diagnostic: res.Reply, LastAttempt: now})
			}
			log.Info("queue bounced", append([]any{"rcpt", a, "remote", mta[a], "reply", res.Reply}, tlsAttrs(tlsOf[a])...)...)
		default:
			if now.Unix() >= q.GetExpiresUnix() {
				// RFC 3463 X.4.7: delivery time expired.
				diag := "delivery time expired; last reply: " + res.Reply
				bounced = append(bounced, &evlog.BouncedRecipient{Address: a, Diagnostic: diag, Status: "4.4.7"})
				if wantsFailureDSN(r.GetNotify()) {
					report = append(report, DSNRecipient{Address: a, ORCPT: r.GetOrcpt(), Action: "failed",
						Status: "4.4.7", RemoteMTA: mta[a], Diagnostic: res.Reply, LastAttempt: now})
				}
				log.Info("queue expired", "rcpt", a, "reply", res.Reply)
				continue
			}
			if ctx.Err() != nil {
				continue // cut off by the loss of leadership: the new leader retries
			}
			deferred = append(deferred, a)
			deferReason = res.Reply
			if wantsDelayDSN(r.GetNotify()) && w.delayDue(q, now) {
				report = append(report, DSNRecipient{Address: a, ORCPT: r.GetOrcpt(), Action: "delayed",
					Status: res.Status, RemoteMTA: mta[a], Diagnostic: res.Reply, LastAttempt: now,
					WillRetryUntil: time.Unix(q.GetExpiresUnix(), 0)})
			}
			if strings.Contains(res.Reply, errNoRoute.Error()) {
				log.Warn("queue deferred: no route", "rcpt", a, "reason", res.Reply)
			} else {
				log.Info("queue deferred", append([]any{"rcpt", a, "remote", mta[a], "reply", res.Reply}, tlsAttrs(tlsOf[a])...)...)
			}
		}
	}
	var events []*evlog.Event
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.ProposeTimeout)
	defer cancel()
	if len(report) > 0 && q.GetMailFrom() != "" {
		dsnEvents, err := w.dsnEvents(pctx, q, report, body, now, log)
		if err != nil {
			log.Warn("queue: DSN not stored; outcome not recorded", "err", err)
			w.hold(id)
			return
		}
		events = append(events, dsnEvents...)
	}
	if len(sent) > 0 {
		events = append(events, &evlog.Event{Kind: &evlog.Event_Sent{Sent: &evlog.Sent{
			Id: id, Recipients: sent, Reply: sentReply, SentUnix: now.Unix()}}})
	}
	if len(bounced) > 0 {
		events = append(events, &evlog.Event{Kind: &evlog.Event_Bounced{Bounced: &evlog.Bounced{
			Id: id, Recipients: bounced, BouncedUnix: now.Unix()}}})
	}
	if len(deferred) > 0 {
		next := now.Add(w.backoff(q.GetAttempts()))
		events = append(events, &evlog.Event{Kind: &evlog.Event_AttemptFailed{AttemptFailed: &evlog.AttemptFailed{
			Id: id, Recipients: deferred, Reason: deferReason, AttemptedUnix: now.Unix(), NextAttemptUnix: next.Unix()}}})
	}
	if len(events) == 0 {
		return
	}
	_, err := propose.Submit(pctx, w.cfg.Cluster, events...)
	switch {
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_QUEUE_ENTRY):
		log.Info("queue entry finished or deleted meanwhile; outcome dropped")
		return
	case err != nil:
		// Not recorded: the entry stays due; wait before trying it again
		// so that a cluster without quorum is not hammered (and a message
		// that did arrive is not sent again at once).
		log.Warn("queue outcome not recorded; will retry", "err", err)
		w.hold(id)
		return
	}
	w.metrics.observe(len(sent), len(bounced), len(deferred))
}

// delayDue reports whether this attempt is the one that crosses the
// entry's DelayWarning mark: the last recorded attempt was before it, this
// one is at or after it. The DSN goes in the same proposal as this
// attempt's AttemptFailed, so the mark's crossing is recorded exactly when
// the DSN is: a new leader that retries an unrecorded attempt sends it, one
// that sees the recorded attempt does not (one delay DSN per entry).
func (w *Worker) delayDue(q *evlog.QueueRecord, now time.Time) bool {
	if w.cfg.DelayWarning <= 0 || q.GetMailFrom() == "" {
		return false
	}
	mark := q.GetQueuedUnix() + int64(w.cfg.DelayWarning/time.Second)
	return q.GetLastAttemptUnix() < mark && now.Unix() >= mark
}

func (w *Worker) backoff(attempts uint32) time.Duration {
	s := w.cfg.Schedule
	return s[min(int(attempts), len(s)-1)]
}

// dsnEvents builds the DSN and returns the events that deliver it: into a
// local sender's INBOX, or queued to a remote one (null reverse-path,
// RFC 5321 §4.5.5). Chunks beyond the first go in proposals of their own.
func (w *Worker) dsnEvents(ctx context.Context, q *evlog.QueueRecord, report []DSNRecipient, body []byte, now time.Time, log *slog.Logger) ([]*evlog.Event, error) {
	domain := w.cfg.Hostname
	if len(w.cfg.LocalDomains) > 0 {
		domain = w.cfg.LocalDomains[0]
	}
	ret := returnName(q.GetRet())
	if delayedOnly(report) || q.GetRequireTls() {
		// The message is still on its way: its header identifies it. A
		// REQUIRETLS message is not returned whole (RFC 8689 §5: as if
		// RET=HDRS): the DSN might travel without TLS.
		ret = "HDRS"
	}
	msg := BuildDSN(Report{
		ReportingMTA: w.cfg.Hostname, Domain: domain, To: q.GetMailFrom(), EnvID: q.GetEnvid(),
		Arrival: time.Unix(q.GetQueuedUnix(), 0), Date: now, Return: ret,
		Original: body, Recipients: report,
	})
	if w.cfg.SignDSN != nil {
		// RFC 6376: signed by the domain of its From, like submitted mail.
		if fields, err := w.cfg.SignDSN(domain, msg); err != nil {
			log.Warn("queue: DSN not DKIM-signed", "domain", domain, "err", err)
		} else {
			msg = append(fields, msg...)
		}
	}
	local, user, err := w.localSender(q.GetMailFrom())
	if err != nil {
		return nil, err
	}
	if local && user == "" {
		log.Info("queue: DSN dropped: the sender no longer exists", "rcpt", q.GetMailFrom())
		return nil, nil
	}
	if local {
		msg = append([]byte("Return-Path: <>\r\n"), msg...) // RFC 5321 §4.4
	}
	chunks := evlog.Chunks(msg)
	// A DSN that returns a large message is stored in chunks like any
	// upload: pinned against the blob collector (of whichever node leads
	// next) until the proposal that references it commits.
	until := now.Add(dsnPin).Unix()
	for _, c := range chunks[:len(chunks)-1] {
		c.PinnedUntilUnix = until
		if _, err := propose.Submit(ctx, w.cfg.Cluster, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: c}}); err != nil {
			return nil, fmt.Errorf("store DSN chunk: %w", err)
		}
	}
	last := chunks[len(chunks)-1]
	events := []*evlog.Event{{Kind: &evlog.Event_BlobStored{BlobStored: last}}}
	if local {
		_, offset := now.Zone()
		events = append(events, &evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
			Blob: last.Hash, Size: last.Size, InternalDateUnix: now.Unix(), InternalDateOffset: int32(offset),
			Recipients: []*evlog.Recipient{{Address: user}},
		}}})
		return events, nil
	}
	id, err := NewID()
	if err != nil {
		return nil, err
	}
	lifetime := time.Duration(q.GetExpiresUnix()-q.GetQueuedUnix()) * time.Second
	events = append(events, &evlog.Event{Kind: &evlog.Event_Queued{Queued: &evlog.Queued{
		Id: id, Blob: last.Hash, Size: last.Size, MailFrom: "",
		Recipients: []*evlog.QueueRecipient{{Address: q.GetMailFrom()}},
		QueuedUnix: now.Unix(), ExpiresUnix: now.Add(lifetime).Unix(), Submitter: "MAILER-DAEMON",
		// RFC 8689 §5: the DSN of a REQUIRETLS message is sent with
		// REQUIRETLS too.
		RequireTls: q.GetRequireTls(),
	}}})
	return events, nil
}

// dsnPin is how long a DSN's chunks stay pinned: far longer than storing
// them takes, and short enough that an abandoned one is collected soon.
const dsnPin = 10 * time.Minute

// localSender reports whether addr is in a local domain and, if so, the
// user that receives its mail ("" when there is none).
func (w *Worker) localSender(addr string) (bool, string, error) {
	a, err := address.Path(addr)
	if err != nil {
		return false, "", nil // not an address a local user could have
	}
	d := a.Domain()
	local := false
	for _, ld := range w.cfg.LocalDomains {
		if strings.EqualFold(ld, d) {
			local = true
		}
	}
	if !local {
		ok, err := w.cfg.Store.IsLocalDomain(d)
		if err != nil {
			return false, "", err
		}
		local = ok
	}
	if !local {
		return false, "", nil
	}
	user, err := w.cfg.Store.ResolveAddress(a.String())
	if err != nil {
		if w.cfg.IsNotFound(err) {
			return true, "", nil
		}
		return false, "", err
	}
	return true, user, nil
}

// collect proposes BlobsCollected for bodies nothing references that were
// last touched CollectDistance entries ago or earlier: uploads that never
// became a message (docs/DESIGN.md invariant 4). A body an upload in
// progress has pinned is kept whatever its touched index (under load the
// log passes CollectDistance within one large upload): the event carries
// this node's clock, and apply keeps what is pinned past it.
func (w *Worker) collect(ctx context.Context) {
	applied := w.cfg.Store.AppliedIndex()
	now := w.cfg.Now().Unix()
	var (
		hashes [][]byte
		before uint64
		err    error
	)
	if applied > w.cfg.CollectDistance {
		before = applied - w.cfg.CollectDistance
		if hashes, err = w.cfg.Store.UnreferencedBlobs(before, now, 256); err != nil {
			w.log.Error("blob collection: scan failed", "err", err)
			return
		}
	}
	// Staged uploads whose pin passed: their session died mid-message.
	expired, err := w.cfg.Store.UploadsPinnedBefore(now)
	if err != nil {
		w.log.Error("blob collection: upload scan failed", "err", err)
		return
	}
	if len(hashes) == 0 && expired == 0 {
		return
	}
	bc := &evlog.BlobsCollected{Hashes: hashes, TouchedBefore: before, NowUnix: now}
	if expired > 0 {
		bc.ExpiredUploadsBeforeUnix = now
	}
	pctx, cancel := context.WithTimeout(ctx, w.cfg.ProposeTimeout)
	defer cancel()
	if _, err := propose.Submit(pctx, w.cfg.Cluster, &evlog.Event{Kind: &evlog.Event_BlobsCollected{BlobsCollected: bc}}); err != nil {
		w.log.Warn("blob collection: proposal failed", "err", err)
		return
	}
	w.metrics.collected.Add(float64(len(hashes)))
	w.log.Info("blobs collected", "count", len(hashes), "touched_before", before, "expired_uploads", expired)
}

// tlsReports counts and logs an attempt's TLS-RPT outcomes and hands
// them to Config.TLSReport.
func (w *Worker) tlsReports(ctx context.Context, reports []tlsrpt.Outcome, log *slog.Logger) {
	for _, o := range reports {
		w.metrics.observePolicy(o)
		if !o.Success {
			log.Info("queue: TLS policy failure", "domain", o.PolicyDomain, "policy", string(o.PolicyType),
				"result", string(o.Result), "mx", o.ReceivingMXHostname, "remote", o.ReceivingIP, "reason", o.FailureReasonCode)
		}
		if w.cfg.TLSReport != nil {
			w.cfg.TLSReport(ctx, o)
		}
	}
}

// tlsAttrs are the log attributes of a connection's TLS outcome: one
// message's delivery lines say whether and how it was encrypted.
func tlsAttrs(o TLSOutcome) []any {
	if o.State == "" {
		return nil
	}
	attrs := []any{"tls", o.State}
	if o.Version != "" {
		attrs = append(attrs, "tls_version", o.Version, "tls_cipher", o.Cipher)
	}
	if o.Detail != "" {
		attrs = append(attrs, "tls_detail", o.Detail)
	}
	return attrs
}
