package main

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

func TestParseServeReportRetention(t *testing.T) {
	base := baseArgs(filepath.Join(t.TempDir(), "data"))
	c, err := parseServe(base, envOf(nil))
	if err != nil || c.ReportRetention != 7*24*time.Hour {
		t.Fatalf("default retention %v, %v", c.ReportRetention, err)
	}
	if c, err := parseServe(with(base, "--report-retention", "720h"), envOf(nil)); err != nil || c.ReportRetention != 720*time.Hour {
		t.Fatalf("--report-retention 720h: %v, %v", c.ReportRetention, err)
	}
	for _, bad := range []string{"24h", "0", "soon"} {
		if _, err := parseServe(with(base, "--report-retention", bad), envOf(nil)); err == nil {
			t.Errorf("--report-retention %s accepted", bad)
		}
	}
}

// TestDMARCEventsFromVerdict: a verdict's evaluation against a policy with
// rua becomes one DmarcRecorded event carrying the policy, the aligned
// results and MAIL FROM's SPF result; one without rua none.
func TestDMARCEventsFromVerdict(t *testing.T) {
	at := time.Unix(1764600000, 0)
	rec := mailauth.Record{
		SourceIP: netip.MustParseAddr("192.0.2.7"), HeaderFrom: "example.org", EnvelopeFrom: "bounce.example.org",
		Policy:      &mailauth.Policy{Domain: "example.org", P: "reject", ADKIM: "r", ASPF: "s", Pct: 100, RUA: []string{"mailto:agg@example.org"}},
		Disposition: "none", DKIMAligned: true,
		DKIM: []mailauth.DKIMAuth{{Domain: "example.org", Selector: "s1", Result: "pass"}},
		SPF: []mailauth.SPFAuth{
			{Domain: "mx.example.org", Scope: mailauth.ScopeHELO, Result: "none"},
			{Domain: "bounce.example.org", Scope: mailauth.ScopeMailFrom, Result: "pass"},
		},
	}
	noRUA := rec
	noRUA.Policy = &mailauth.Policy{Domain: "example.net", P: "none"}
	events := dmarcEvents(func() time.Time { return at })(&mailauth.Verdict{Records: []mailauth.Record{rec, noRUA}})
	if len(events) != 1 {
		t.Fatalf("%d events, want 1 (the policy without rua asks for none)", len(events))
	}
	got := dmarcResult(rec, at)
	if got.Policy.Domain != "example.org" || got.Policy.ASPF != "s" || len(got.Policy.RUA) != 1 || !got.DKIMAligned ||
		got.SPF.Scope != "mfrom" || got.SPF.Result != "pass" || len(got.DKIM) != 1 || !got.Date.Equal(at) {
		t.Fatalf("result %+v", got)
	}
}

// TestTLSOutcomeMapping: a DANE failure names its MX host and the failure
// block; a success has none.
func TestTLSOutcomeMapping(t *testing.T) {
	o := tlsrpt.Outcome{
		Time: time.Unix(1764600000, 0), PolicyDomain: "example.org", PolicyType: tlsrpt.PolicyTLSA,
		PolicyStrings: []string{"3 1 1 abcd"}, Result: "tlsa-invalid", ReceivingMXHostname: "mx.example.org",
		ReceivingIP: "192.0.2.25", SendingMTAIP: "198.51.100.1", FailureReasonCode: "no match",
	}
	got := tlsOutcome(o, []string{"mailto:tls@example.org"})
	if got.Success || got.PolicyType != "tlsa" || len(got.MXHosts) != 1 || got.MXHosts[0] != "mx.example.org" ||
		got.Failure.ResultType != "tlsa-invalid" || got.Failure.ReceivingIP != "192.0.2.25" || len(got.RUA) != 1 {
		t.Fatalf("outcome %+v", got)
	}
	o.Success = true
	if got := tlsOutcome(o, nil); got.Failure.ResultType != "" {
		t.Fatalf("a success with a failure block: %+v", got)
	}
}
