package admin

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
)

func TestDMARCEndpoints(t *testing.T) {
	st := mailboxtest.Open(t)
	received := func(dom, org, id string, at int64) *evlog.Event {
		return &evlog.Event{Kind: &evlog.Event_DmarcReportReceived{DmarcReportReceived: &evlog.DmarcReportReceived{
			Domain: dom, OrgName: org, ReportId: id, BeginUnix: 1764460800, EndUnix: 1764547199, Policy: "reject", Messages: 5,
			Sources:      []*evlog.DmarcReportSource{{SourceIp: "192.0.2.1", Count: 5, Disposition: "none", Dkim: "pass", Spf: "fail"}},
			ReceivedUnix: at}}}
	}
	st.Must(t, received("example.org", "google.com", "1", 100), received("example.org", "Enterprise Outlook", "2", 200),
		received("example.net", "google.com", "3", 300))
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DmarcRecorded{DmarcRecorded: &evlog.DmarcRecorded{
		Policy: &evlog.DmarcPolicy{Domain: "sender.test", P: "none", Rua: []string{"mailto:d@sender.test"}},
		Row:    &evlog.DmarcRow{SourceIp: "192.0.2.9", HeaderFrom: "sender.test"}, DateUnix: 20424 * 86400}}})
	n := newFake()
	s, err := New(Config{Directory: n, Digester: n, Cluster: n, Reports: st.Store, Token: "tok", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	c, err := NewClient(hs.URL, "tok", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all, err := c.DMARCReports(ctx, "", 0)
	if err != nil || len(all) != 3 {
		t.Fatalf("all reports: %v %v", all, err)
	}
	org, err := c.DMARCReports(ctx, "Example.ORG", 0)
	if err != nil || len(org) != 2 || org[0].OrgName != "Enterprise Outlook" || org[0].Sources[0].DKIM != "pass" ||
		!org[0].Begin.Equal(time.Unix(1764460800, 0)) || org[0].Received.Unix() != 200 {
		t.Fatalf("example.org reports, newest first: %+v %v", org, err)
	}
	if _, err := c.DMARCReports(ctx, "not a domain!", 0); err == nil {
		t.Fatal("a bad domain was accepted")
	}
	if one, err := c.DMARCReports(ctx, "", 1); err != nil || len(one) != 1 || one[0].Domain != "example.net" {
		t.Fatalf("limit 1: %+v %v", one, err)
	}
	if _, err := c.DMARCReports(ctx, "", MaxDMARCReportsLimit+1); err == nil {
		t.Fatal("a limit past the maximum was accepted")
	}
	pending, err := c.PendingReports(ctx)
	if err != nil || len(pending) != 1 || pending[0].Kind != "dmarc" || pending[0].Domain != "sender.test" || pending[0].Day != "2025-12-02" ||
		pending[0].Rows != 1 || pending[0].Count != 1 || pending[0].RUA[0] != "mailto:d@sender.test" {
		t.Fatalf("pending %+v %v", pending, err)
	}
	// Behind the token, like every /v1/ endpoint.
	resp, err := http.Get(hs.URL + "/v1/dmarc/reports")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", resp.StatusCode)
	}
}
