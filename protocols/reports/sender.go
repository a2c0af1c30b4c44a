package reports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/outbound"
	"github.com/surat-mail/surat/protocols/propose"
)

// Store is the read side the Sender needs (*mailbox.Store has it).
type Store interface {
	DMARCDays() ([]*evlog.DmarcDayRecord, error)
	DMARCRows(domain string, day uint32) ([]*evlog.DmarcRowRecord, error)
	TLSDays() ([]*evlog.TLSDayRecord, error)
	TLSRows(domain string, day uint32) ([]*evlog.TLSRowRecord, error)
	IsLocalDomain(domain string) (bool, error)
}

// Cluster is what the Sender needs from the local node (*cluster.Node).
type Cluster interface {
	IsLeader() bool
	// Ready: a leader is known and this node applied what it knows to
	// be committed.
	Ready() bool
	propose.Proposer
}

// Resolver looks up the TXT records that authorize an external report
// destination (a dns.Resolver has it).
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// Config configures a Sender.
type Config struct {
	Store   Store   // required
	Cluster Cluster // required
	// Resolver checks external destinations (RFC 7489 §7.1); nil: no
	// look-ups, so only destinations in the policy's own organizational
	// domain get reports.
	Resolver Resolver
	// Hostname names us in reports: org_name, the submitter, the
	// receiver of the file names.
	Hostname string
	// LocalDomains: the first gives the From addresses (noreply-dmarc@,
	// tlsrpt-noreply@); reports never go to a local domain.
	LocalDomains []string

	// Retention: days older than this are pruned, sent or not; default
	// 7 days.
	Retention time.Duration
	// Delay after a UTC day ends before its reports go out, so that the
	// results of its last moments are committed; default 15 min.
	Delay time.Duration
	// Interval between passes while leading; default 5 min.
	Interval time.Duration
	// LeaderCheck is how often Run checks leadership; default 1 s.
	LeaderCheck time.Duration
	// QueueLifetime: how long a report is retried; default 3 days.
	QueueLifetime time.Duration
	// ProposeTimeout bounds one proposal; default 30 s.
	ProposeTimeout time.Duration
	// Wake, if set, tells the queue worker a report was queued.
	Wake func()
	// Sign, when set, returns the DKIM-Signature fields to prepend to a
	// report sent from domain (dkimsign.Keys.Sign), as for any mail of
	// ours; an error sends it unsigned.
	Sign func(domain string, msg []byte) ([]byte, error)

	Now    func() time.Time // the proposer's clock; default time.Now
	Logger *slog.Logger
}

// Sender sends the daily reports while its node leads.
type Sender struct {
	cfg Config
	log *slog.Logger
}

// New builds a Sender; Run starts it.
func New(cfg Config) (*Sender, error) {
	if cfg.Store == nil || cfg.Cluster == nil {
		return nil, errors.New("reports: Store and Cluster are required")
	}
	if cfg.Resolver == nil {
		cfg.Resolver = dns.None{}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Retention, 7*24*time.Hour)
	def(&cfg.Delay, 15*time.Minute)
	def(&cfg.Interval, 5*time.Minute)
	def(&cfg.LeaderCheck, time.Second)
	def(&cfg.QueueLifetime, 3*24*time.Hour)
	def(&cfg.ProposeTimeout, 30*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	return &Sender{cfg: cfg, log: cfg.Logger.With("component", "reports")}, nil
}

// Run sends reports until ctx ends, while this node leads: on becoming
// leader it first commits an empty proposal (a barrier, as the queue
// worker does), so that what it reads includes everything the previous
// leader closed.
func (s *Sender) Run(ctx context.Context) {
	tick := time.NewTicker(s.cfg.LeaderCheck)
	defer tick.Stop()
	var (
		leading bool
		last    time.Time
	)
	for {
		switch {
		case !s.cfg.Cluster.IsLeader():
			leading = false
		case !leading && s.cfg.Cluster.Ready() && s.barrier(ctx):
			leading, last = true, time.Time{}
		}
		if leading && time.Since(last) >= s.cfg.Interval {
			last = time.Now()
			if _, err := s.SendDue(ctx); err != nil {
				s.log.Warn("reports: pass failed; will retry", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Sender) barrier(ctx context.Context) bool {
	data, err := evlog.EncodeBatch(&evlog.Batch{})
	if err != nil {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProposeTimeout)
	defer cancel()
	if _, err := s.cfg.Cluster.Propose(pctx, data); err != nil {
		s.log.Warn("reports: barrier failed; will retry", "err", err)
		return false
	}
	return true
}

// Pass says what one SendDue did.
type Pass struct {
	DMARC, TLS int  // domain-days closed (a report queued, or none wanted)
	Queued     int  // report messages queued
	Pruned     bool // a ReportsPruned was proposed
}

// SendDue makes one pass: it prunes days past the retention, then sends
// every unsent day that ended at least Delay ago. A day that fails (a
// temporary DNS failure, a proposal refused because its rows changed)
// waits for the next pass; the error returned is the first such failure.
func (s *Sender) SendDue(ctx context.Context) (Pass, error) {
	var pass Pass
	now := s.cfg.Now()
	today := uint32(now.Unix() / 86400)
	cutoff := uint32(0)
	if keep := uint32(s.cfg.Retention / (24 * time.Hour)); today > keep {
		cutoff = today - keep
	}
	dmarc, err := s.cfg.Store.DMARCDays()
	if err != nil {
		return pass, fmt.Errorf("reports: read DMARC days: %w", err)
	}
	tls, err := s.cfg.Store.TLSDays()
	if err != nil {
		return pass, fmt.Errorf("reports: read TLS-RPT days: %w", err)
	}
	if len(dmarc) > 0 && dmarc[0].GetDay() < cutoff || len(tls) > 0 && tls[0].GetDay() < cutoff {
		if err := s.submit(ctx, &evlog.Event{Kind: &evlog.Event_ReportsPruned{ReportsPruned: &evlog.ReportsPruned{BeforeDay: cutoff}}}); err != nil {
			return pass, fmt.Errorf("reports: prune: %w", err)
		}
		pass.Pruned = true
		s.log.Info("report days pruned", "before", time.Unix(int64(cutoff)*86400, 0).UTC().Format(time.DateOnly))
	}
	due := func(day uint32) bool {
		_, end := DayRange(day)
		return day >= cutoff && !now.Before(end.Add(time.Second+s.cfg.Delay))
	}
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, d := range dmarc {
		if d.GetSentUnix() != 0 || !due(d.GetDay()) {
			continue
		}
		queued, err := s.sendDMARC(ctx, d, now)
		if err != nil {
			fail(err)
			continue
		}
		pass.DMARC++
		pass.Queued += queued
	}
	for _, d := range tls {
		if d.GetSentUnix() != 0 || !due(d.GetDay()) {
			continue
		}
		queued, err := s.sendTLS(ctx, d, now)
		if err != nil {
			fail(err)
			continue
		}
		pass.TLS++
		pass.Queued += queued
	}
	if pass.Queued > 0 {
		s.cfg.Wake()
	}
	return pass, first
}

// from is the address reports are sent from.
func (s *Sender) from(local string) string {
	dom := s.cfg.Hostname
	if len(s.cfg.LocalDomains) > 0 {
		dom = strings.ToLower(strings.TrimSuffix(s.cfg.LocalDomains[0], "."))
	}
	return local + "@" + dom
}

func (s *Sender) sendDMARC(ctx context.Context, d *evlog.DmarcDayRecord, now time.Time) (int, error) {
	dom, day := d.GetDomain(), d.GetDay()
	log := s.log.With("kind", "dmarc", "domain", dom, "day", dayName(day))
	rows, err := s.cfg.Store.DMARCRows(dom, day)
	if err != nil {
		return 0, fmt.Errorf("reports: read DMARC rows of %s: %w", dom, err)
	}
	closing := &evlog.Event{Kind: &evlog.Event_DmarcReportsSent{DmarcReportsSent: &evlog.DmarcReportsSent{
		Domain: dom, Day: day, Rows: d.GetRows(), Messages: d.GetMessages(), SentUnix: now.Unix()}}}
	begin, end := DayRange(day)
	id := ReportID("dmarc", dom, day)
	from := s.from("noreply-dmarc")
	var m *reportMail
	if len(rows) > 0 {
		xml, err := BuildDMARCReport(Meta{OrgName: s.cfg.Hostname, Email: from, ReportID: id, Begin: begin, End: end}, d, rows)
		if err != nil {
			return 0, err
		}
		// RFC 7489 §7.2.1.1: receiver "!" policy-domain "!" begin "!" end.
		name := fmt.Sprintf("%s!%s!%d!%d.xml", s.cfg.Hostname, dom, begin.Unix(), end.Unix())
		gz, err := gzipped(name, xml)
		if err != nil {
			return 0, err
		}
		m = &reportMail{
			From: from, Date: now, MessageID: id + "@" + s.cfg.Hostname,
			// §7.2.1.1: the Subject names the domain, the submitter and
			// the report id as a msg-id (RFC 5322 §3.6.4).
			Subject:     fmt.Sprintf("Report Domain: %s Submitter: %s Report-ID: <%s@%s>", dom, s.cfg.Hostname, id, s.cfg.Hostname),
			ContentType: "multipart/mixed",
			Text: fmt.Sprintf("This is a DMARC aggregate report (RFC 7489) from %s for %s,\n%s to %s.\n",
				s.cfg.Hostname, dom, begin.Format(time.RFC3339), end.Format(time.RFC3339)),
			AttachmentType: "application/gzip", Filename: name + ".gz", Attachment: gz,
		}
	}
	return s.deliver(ctx, log, dom, d.GetPolicy().GetRua(), true, m, closing)
}

func (s *Sender) sendTLS(ctx context.Context, d *evlog.TLSDayRecord, now time.Time) (int, error) {
	dom, day := d.GetDomain(), d.GetDay()
	log := s.log.With("kind", "tlsrpt", "domain", dom, "day", dayName(day))
	rows, err := s.cfg.Store.TLSRows(dom, day)
	if err != nil {
		return 0, fmt.Errorf("reports: read TLS-RPT rows of %s: %w", dom, err)
	}
	closing := &evlog.Event{Kind: &evlog.Event_TlsReportsSent{TlsReportsSent: &evlog.TLSReportsSent{
		Domain: dom, Day: day, Rows: d.GetRows(), Sessions: d.GetSessions(), SentUnix: now.Unix()}}}
	begin, end := DayRange(day)
	id := ReportID("tlsrpt", dom, day)
	from := s.from("tlsrpt-noreply")
	var m *reportMail
	if len(rows) > 0 {
		js, err := BuildTLSReport(Meta{OrgName: s.cfg.Hostname, Email: from, ReportID: id, Begin: begin, End: end}, d, rows)
		if err != nil {
			return 0, err
		}
		// RFC 8460 §5.1: sender "!" policy-domain "!" begin "!" end.
		name := fmt.Sprintf("%s!%s!%d!%d.json", s.cfg.Hostname, dom, begin.Unix(), end.Unix())
		gz, err := gzipped(name, js)
		if err != nil {
			return 0, err
		}
		m = &reportMail{
			From: from, Date: now, MessageID: id + "@" + s.cfg.Hostname,
			// RFC 8460 §5.3: Subject (Report-ID a msg-id),
			// TLS-Report-Domain, TLS-Report-Submitter.
			Subject: fmt.Sprintf("Report Domain: %s Submitter: %s Report-ID: <%s@%s>", dom, s.cfg.Hostname, id, s.cfg.Hostname),
			Extra:   []string{"TLS-Report-Domain: " + dom, "TLS-Report-Submitter: " + s.cfg.Hostname},
			// §5.3: multipart/report with report-type "tlsrpt".
			ContentType: `multipart/report; report-type="tlsrpt"`,
			Text: fmt.Sprintf("This is an aggregate TLS report (RFC 8460) from %s for %s,\n%s to %s.\n",
				s.cfg.Hostname, dom, begin.Format(time.RFC3339), end.Format(time.RFC3339)),
			AttachmentType: "application/tlsrpt+gzip", Filename: name + ".gz", Attachment: gz,
		}
	}
	return s.deliver(ctx, log, dom, d.GetRua(), false, m, closing)
}

// deliver queues m to the destinations of ruas that take it and closes
// the day in the same proposal; with no message or no destination it
// only closes the day. It returns how many messages it queued.
func (s *Sender) deliver(ctx context.Context, log *slog.Logger, policyDomain string, ruas []string, external bool, m *reportMail, closing *evlog.Event) (int, error) {
	var events []*evlog.Event
	if m != nil {
		dests, err := s.destinations(ctx, log, policyDomain, ruas, external)
		if err != nil {
			return 0, err
		}
		for _, d := range dests {
			m.To = append(m.To, d.addr.String())
		}
		body := m.bytes()
		var rcpts []string
		for _, d := range dests {
			// RFC 7489 §6.2: a report larger than the URI's limit is not
			// sent there.
			if d.maxSize > 0 && uint64(len(body)) > d.maxSize {
				log.Info("report larger than the destination takes; not sent there", "rcpt", d.addr.String(), "size", len(body), "limit", d.maxSize)
				continue
			}
			rcpts = append(rcpts, d.addr.String())
		}
		if len(rcpts) > 0 {
			if len(rcpts) < len(dests) {
				m.To = rcpts
				body = m.bytes()
			}
			q, err := s.queueEvents(ctx, body, m.From, rcpts, m.Date)
			if err != nil {
				return 0, err
			}
			events = q
		}
	}
	events = append(events, closing)
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProposeTimeout)
	defer cancel()
	_, err := propose.Submit(pctx, s.cfg.Cluster, events...)
	switch {
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_REPORT_SENT):
		log.Info("report already sent (by an earlier leader)")
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("reports: %s: %w", policyDomain, err)
	}
	queued := 0
	if len(events) > 1 {
		queued = 1
		log.Info("report queued", "rcpt", strings.Join(m.To, ","))
	} else {
		log.Info("report day closed with nothing to send")
	}
	return queued, nil
}

// destinations are the mailto: rua a report may go to: parsed, in a
// remote domain, and, for DMARC (RFC 7489 §7.1), in the policy's own
// organizational domain or one that authorized it. A temporary DNS
// failure is an error: the report waits for the next pass.
func (s *Sender) destinations(ctx context.Context, log *slog.Logger, policyDomain string, ruas []string, external bool) ([]destination, error) {
	var out []destination
	seen := map[string]bool{} // look-ups only
	for _, uri := range ruas {
		d, err := parseRUA(uri)
		if err != nil {
			log.Info("rua not used", "rua", uri, "reason", err.Error())
			continue
		}
		a := d.addr.String()
		if seen[a] {
			continue
		}
		seen[a] = true
		local, err := s.isLocal(d.addr.Domain())
		if err != nil {
			return nil, err
		}
		if local {
			log.Info("rua in a local domain; reports go to remote domains only", "rua", uri)
			continue
		}
		if external {
			ok, err := authorized(ctx, s.cfg.Resolver, policyDomain, d.addr.Domain())
			if err != nil {
				return nil, err
			}
			if !ok {
				log.Info("rua in another domain that did not authorize the reports (RFC 7489 §7.1)", "rua", uri)
				continue
			}
		}
		out = append(out, d)
		if len(out) == maxListLen {
			break
		}
	}
	return out, nil
}

func (s *Sender) isLocal(d string) (bool, error) {
	for _, ld := range s.cfg.LocalDomains {
		if strings.EqualFold(strings.TrimSuffix(ld, "."), d) {
			return true, nil
		}
	}
	ok, err := s.cfg.Store.IsLocalDomain(d)
	if err != nil {
		return false, fmt.Errorf("reports: local domain look-up: %w", err)
	}
	return ok, nil
}

// reportPin is how long a report's extra chunks stay pinned before the
// proposal that references them commits.
const reportPin = 10 * time.Minute

// queueEvents stores the report's body and queues it: the last chunk and
// the Queued entry go in the caller's proposal, earlier chunks (a report
// over 256 KiB) in proposals of their own, pinned against the collector.
func (s *Sender) queueEvents(ctx context.Context, body []byte, from string, rcpts []string, now time.Time) ([]*evlog.Event, error) {
	if s.cfg.Sign != nil {
		// RFC 6376: signed by the domain of its From, so that the
		// receiver can tell our reports from forged ones.
		domain := from[strings.LastIndexByte(from, '@')+1:]
		if fields, err := s.cfg.Sign(domain, body); err != nil {
			s.log.Warn("report not DKIM-signed", "domain", domain, "err", err)
		} else {
			body = append(fields, body...)
		}
	}
	chunks := evlog.Chunks(body)
	for _, c := range chunks[:len(chunks)-1] {
		c.PinnedUntilUnix = now.Add(reportPin).Unix()
		if err := s.submit(ctx, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: c}}); err != nil {
			return nil, fmt.Errorf("reports: store a report chunk: %w", err)
		}
	}
	last := chunks[len(chunks)-1]
	id, err := outbound.NewID()
	if err != nil {
		return nil, err
	}
	q := &evlog.Queued{Id: id, Blob: last.Hash, Size: last.Size, MailFrom: from,
		QueuedUnix: now.Unix(), ExpiresUnix: now.Add(s.cfg.QueueLifetime).Unix(), Submitter: "reports"}
	for _, r := range rcpts {
		q.Recipients = append(q.Recipients, &evlog.QueueRecipient{Address: r})
	}
	return []*evlog.Event{{Kind: &evlog.Event_BlobStored{BlobStored: last}}, {Kind: &evlog.Event_Queued{Queued: q}}}, nil
}

func (s *Sender) submit(ctx context.Context, events ...*evlog.Event) error {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProposeTimeout)
	defer cancel()
	_, err := propose.Submit(pctx, s.cfg.Cluster, events...)
	return err
}

func dayName(day uint32) string {
	b, _ := DayRange(day)
	return b.Format(time.DateOnly)
}
