package main

import (
	"log/slog"
	"testing"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/outbound/mtasts"
)

// TestDomainSettingsReachTheChecks: `domain set` as the inbound DMARC
// enforcement and the served MTA-STS policy see it.
func TestDomainSettingsReachTheChecks(t *testing.T) {
	st := mailboxtest.Open(t)
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.test"}}})
	enforced := dmarcEnforced(st.Store, slog.New(slog.DiscardHandler))
	policies := domainPolicies{st.Store}
	if !enforced("example.test") || !enforced("elsewhere.test") {
		t.Fatal("DMARC not enforced by default")
	}
	if _, ok := policies.MTASTS("example.test"); ok {
		t.Fatal("an MTA-STS policy by default")
	}
	mode := evlog.MtaStsMode_MTA_STS_MODE_TESTING
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: &evlog.DomainSettingsChanged{
		Domain: "example.test", DmarcReportOnly: proto.Bool(true), MtaStsMode: &mode}}})
	if enforced("example.test") || !enforced("elsewhere.test") {
		t.Fatal("report-only not applied to its domain alone")
	}
	if m, ok := policies.MTASTS("example.test"); !ok || m != string(mtasts.Testing) {
		t.Fatalf("MTA-STS policy %q %v", m, ok)
	}
	if _, ok := policies.MTASTS("elsewhere.test"); ok {
		t.Fatal("a policy for a domain not ours")
	}
}
