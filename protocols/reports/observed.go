package reports

// The adapters from what the MX checks and the outbound worker observe to
// what is recorded for reports.

import (
	"context"
	"log/slog"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
	"github.com/surat-mail/surat/protocols/propose"
)

// DMARCEvents turns a verdict's DMARC evaluations into the DmarcRecorded
// events proposed with the message (only for policies that ask for
// aggregate reports, RFC 7489 §7.2).
func DMARCEvents(now func() time.Time) func(*mailauth.Verdict) []*evlog.Event {
	return func(v *mailauth.Verdict) []*evlog.Event {
		var out []*evlog.Event
		for _, r := range v.Records {
			if ev := DMARCEvent(FromRecord(r, now())); ev != nil {
				out = append(out, ev)
			}
		}
		return out
	}
}

// FromRecord is mailauth's record of one evaluation as reports keeps it.
func FromRecord(r mailauth.Record, at time.Time) DMARCResult {
	out := DMARCResult{
		SourceIP: r.SourceIP, HeaderFrom: r.HeaderFrom, EnvelopeFrom: r.EnvelopeFrom,
		Disposition: r.Disposition, DKIMAligned: r.DKIMAligned, SPFAligned: r.SPFAligned, Date: at,
	}
	if p := r.Policy; p != nil {
		out.Policy = DMARCPolicy{Domain: p.Domain, ADKIM: p.ADKIM, ASPF: p.ASPF, P: p.P, SP: p.SP, NP: p.NP, FO: p.FO, Pct: p.Pct, RUA: p.RUA}
	}
	for _, o := range r.Overrides {
		out.Overrides = append(out.Overrides, Override{Type: o.Type, Comment: o.Comment})
	}
	for _, d := range r.DKIM {
		out.DKIM = append(out.DKIM, DKIMResult{Domain: d.Domain, Selector: d.Selector, Result: d.Result})
	}
	// The report has one SPF result (RFC 7489 Appendix C): MAIL FROM's,
	// else HELO's.
	for _, s := range r.SPF {
		if out.SPF.Result == "" || s.Scope == mailauth.ScopeMailFrom {
			out.SPF = SPFResult{Domain: s.Domain, Scope: string(s.Scope), Result: s.Result}
		}
	}
	return out
}

// TLSRecorder records outbound TLS outcomes (RFC 8460) for domains that
// publish a TLS-RPT address: the rua look-up and the proposal run beside
// the delivery, a bounded number at once; past that an outcome is dropped
// and logged rather than slowing deliveries.
type TLSRecorder struct {
	resolver Resolver
	proposer propose.Proposer
	slots    chan struct{}
	logger   *slog.Logger
}

// NewTLSRecorder records through proposer, looking rua up with resolver.
func NewTLSRecorder(resolver Resolver, proposer propose.Proposer, logger *slog.Logger) *TLSRecorder {
	return &TLSRecorder{resolver: resolver, proposer: proposer, slots: make(chan struct{}, 16), logger: logger}
}

// tlsReportTimeout bounds one outcome's look-up and proposal.
const tlsReportTimeout = 10 * time.Second

// Record records o; it is outbound.Config.TLSReport.
func (t *TLSRecorder) Record(_ context.Context, o tlsrpt.Outcome) {
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
		rua, err := TLSRPTRUA(ctx, t.resolver, o.PolicyDomain)
		if err != nil {
			t.logger.Info("TLS-RPT outcome not recorded", "domain", o.PolicyDomain, "err", err)
			return
		}
		ev := TLSEvent(FromTLSOutcome(o, rua))
		if ev == nil {
			return
		}
		if _, err := propose.Submit(ctx, t.proposer, ev); err != nil {
			t.logger.Warn("TLS-RPT outcome not recorded", "domain", o.PolicyDomain, "err", err)
		}
	}()
}

// FromTLSOutcome is the outbound worker's outcome as reports keeps it.
func FromTLSOutcome(o tlsrpt.Outcome, rua []string) TLSOutcome {
	out := TLSOutcome{
		PolicyDomain: o.PolicyDomain, PolicyType: string(o.PolicyType), PolicyStrings: o.PolicyStrings,
		MXHosts: o.MXHost, Success: o.Success, RUA: rua, Date: o.Time,
	}
	if o.PolicyType == tlsrpt.PolicyTLSA && o.ReceivingMXHostname != "" {
		out.MXHosts = []string{o.ReceivingMXHostname}
	}
	if !o.Success {
		out.Failure = TLSFailure{
			ResultType: string(o.Result), SendingMTAIP: o.SendingMTAIP, ReceivingMXHostname: o.ReceivingMXHostname,
			ReceivingIP: o.ReceivingIP, FailureReasonCode: o.FailureReasonCode,
		}
	}
	return out
}
