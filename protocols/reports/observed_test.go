package reports

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

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
	events := DMARCEvents(func() time.Time { return at })(&mailauth.Verdict{Records: []mailauth.Record{rec, noRUA}})
	if len(events) != 1 {
		t.Fatalf("%d events, want 1 (the policy without rua asks for none)", len(events))
	}
	got := FromRecord(rec, at)
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
	got := FromTLSOutcome(o, []string{"mailto:tls@example.org"})
	if got.Success || got.PolicyType != "tlsa" || len(got.MXHosts) != 1 || got.MXHosts[0] != "mx.example.org" ||
		got.Failure.ResultType != "tlsa-invalid" || got.Failure.ReceivingIP != "192.0.2.25" || len(got.RUA) != 1 {
		t.Fatalf("outcome %+v", got)
	}
	o.Success = true
	if got := FromTLSOutcome(o, nil); got.Failure.ResultType != "" {
		t.Fatalf("a success with a failure block: %+v", got)
	}
}

// TestTLSRecorderRecords: an outcome for a domain that publishes a TLS-RPT
// address is proposed as a TLSResult; one for a domain without is not.
func TestTLSRecorderRecords(t *testing.T) {
	_, r := startDNS(t, map[string][]string{"_smtp._tls.rcpt.test": {"v=TLSRPTv1; rua=mailto:tls@rcpt.test"}})
	f := newFixture(t, r)
	rec := NewTLSRecorder(r, f.c, slog.New(slog.DiscardHandler))
	at := time.Unix(1764600000, 0)
	rec.Record(context.Background(), tlsrpt.Outcome{Time: at, PolicyDomain: "quiet.test", PolicyType: tlsrpt.PolicyNotFound, Success: true})
	rec.Record(context.Background(), tlsrpt.Outcome{Time: at, PolicyDomain: "rcpt.test", PolicyType: tlsrpt.PolicyNotFound, Success: true})
	deadline := time.Now().Add(10 * time.Second)
	for {
		days, err := f.c.Store.TLSDays()
		if err != nil {
			t.Fatal(err)
		}
		if len(days) == 1 && days[0].GetDomain() == "rcpt.test" && len(rec.slots) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLS days recorded: %v", days)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
