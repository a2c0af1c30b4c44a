package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	evlog "github.com/surat-mail/surat/log"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/reports"
)

// reportSender runs the DMARC and TLS-RPT report sender; it proposes only
// while this node leads.
type reportSender struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startReports(cfg *serveConfig, store *mailbox.Store, node *cluster.Node, wake func(), sign func(string, []byte) ([]byte, error), logger *slog.Logger) (*reportSender, error) {
	s, err := reports.New(reports.Config{
		Store: store, Cluster: node, Resolver: cfg.Resolver,
		Hostname: cfg.Hostname, LocalDomains: cfg.Domains,
		Retention: cfg.ReportRetention, QueueLifetime: min(cfg.QueueLifetime, reportLifetime),
		Wake: wake, Sign: sign, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("serve: reports: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &reportSender{cancel: cancel}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.Run(ctx)
	}()
	return r, nil
}

// reportLifetime: a report not delivered in three days is of little use.
const reportLifetime = 3 * 24 * time.Hour

func (r *reportSender) stop() {
	r.cancel()
	r.wg.Wait()
}

// dmarcEvents turns a verdict's DMARC evaluations into the DmarcRecorded
// events proposed with the message (only for policies that ask for
// aggregate reports, RFC 7489 §7.2).
func dmarcEvents(now func() time.Time) func(*mailauth.Verdict) []*evlog.Event {
	return func(v *mailauth.Verdict) []*evlog.Event {
		var out []*evlog.Event
		for _, r := range v.Records {
			if ev := reports.DMARCEvent(dmarcResult(r, now())); ev != nil {
				out = append(out, ev)
			}
		}
		return out
	}
}

// dmarcResult is mailauth's record of one evaluation as reports keeps it.
func dmarcResult(r mailauth.Record, at time.Time) reports.DMARCResult {
	out := reports.DMARCResult{
		SourceIP: r.SourceIP, HeaderFrom: r.HeaderFrom, EnvelopeFrom: r.EnvelopeFrom,
		Disposition: r.Disposition, DKIMAligned: r.DKIMAligned, SPFAligned: r.SPFAligned, Date: at,
	}
	if p := r.Policy; p != nil {
		out.Policy = reports.DMARCPolicy{Domain: p.Domain, ADKIM: p.ADKIM, ASPF: p.ASPF, P: p.P, SP: p.SP, NP: p.NP, FO: p.FO, Pct: p.Pct, RUA: p.RUA}
	}
	for _, o := range r.Overrides {
		out.Overrides = append(out.Overrides, reports.Override{Type: o.Type, Comment: o.Comment})
	}
	for _, d := range r.DKIM {
		out.DKIM = append(out.DKIM, reports.DKIMResult{Domain: d.Domain, Selector: d.Selector, Result: d.Result})
	}
	// The report has one SPF result (RFC 7489 Appendix C): MAIL FROM's,
	// else HELO's.
	for _, s := range r.SPF {
		if out.SPF.Result == "" || s.Scope == mailauth.ScopeMailFrom {
			out.SPF = reports.SPFResult{Domain: s.Domain, Scope: string(s.Scope), Result: s.Result}
		}
	}
	return out
}

// tlsReporter records outbound TLS outcomes (RFC 8460) for domains that
// publish a TLS-RPT address: the rua look-up and the proposal run beside
// the delivery, a bounded number at once; past that an outcome is dropped
// and logged rather than slowing deliveries.
type tlsReporter struct {
	resolver dns.Resolver
	proposer propose.Proposer
	slots    chan struct{}
	logger   *slog.Logger
}

func newTLSReporter(resolver dns.Resolver, proposer propose.Proposer, logger *slog.Logger) *tlsReporter {
	return &tlsReporter{resolver: resolver, proposer: proposer, slots: make(chan struct{}, 16), logger: logger}
}

// tlsReportTimeout bounds one outcome's look-up and proposal.
const tlsReportTimeout = 10 * time.Second

func (t *tlsReporter) report(_ context.Context, o tlsrpt.Outcome) {
	select {
	case t.slots <- struct{}{}:
	default:
		t.logger.Warn("TLS-RPT outcome dropped: too many being recorded", "domain", o.PolicyDomain)
		return
	}
	go func() {
		defer func() { <-t.slots }()
		// Its own context: the delivery attempt may end first.
		ctx, cancel := context.WithTimeout(context.Background(), tlsReportTimeout)
		defer cancel()
		rua, err := reports.TLSRPTRUA(ctx, t.resolver, o.PolicyDomain)
		if err != nil {
			t.logger.Info("TLS-RPT outcome not recorded", "domain", o.PolicyDomain, "err", err)
			return
		}
		ev := reports.TLSEvent(tlsOutcome(o, rua))
		if ev == nil {
			return
		}
		if _, err := propose.Submit(ctx, t.proposer, ev); err != nil {
			t.logger.Warn("TLS-RPT outcome not recorded", "domain", o.PolicyDomain, "err", err)
		}
	}()
}

// tlsOutcome is the outbound worker's outcome as reports keeps it.
func tlsOutcome(o tlsrpt.Outcome, rua []string) reports.TLSOutcome {
	out := reports.TLSOutcome{
		PolicyDomain: o.PolicyDomain, PolicyType: string(o.PolicyType), PolicyStrings: o.PolicyStrings,
		MXHosts: o.MXHost, Success: o.Success, RUA: rua, Date: o.Time,
	}
	if o.PolicyType == tlsrpt.PolicyTLSA && o.ReceivingMXHostname != "" {
		out.MXHosts = []string{o.ReceivingMXHostname}
	}
	if !o.Success {
		out.Failure = reports.TLSFailure{
			ResultType: string(o.Result), SendingMTAIP: o.SendingMTAIP, ReceivingMXHostname: o.ReceivingMXHostname,
			ReceivingIP: o.ReceivingIP, FailureReasonCode: o.FailureReasonCode,
		}
	}
	return out
}
