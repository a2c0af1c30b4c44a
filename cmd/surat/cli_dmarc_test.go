package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/reports"
)

func TestCLIDMARC(t *testing.T) {
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	node := &storeNode{s: st}
	submit := func(events ...*evlog.Event) {
		t.Helper()
		p, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := node.Propose(context.Background(), p)
		if o, err := evlog.DecodeOutcome(out); err != nil || o.GetError() != 0 {
			t.Fatalf("refused: %v %v", o, err)
		}
	}
	begin := time.Unix(1764460800, 0).UTC()
	submit(reports.ReceivedEvent(&reports.Summary{OrgName: "Enterprise Outlook", ReportID: "abc", Domain: "example.org", Policy: "quarantine",
		Begin: begin, End: begin.Add(24*time.Hour - time.Second), Messages: 7, MoreSources: 2,
		Sources: []reports.Source{{IP: "198.51.100.25", Count: 7, HeaderFrom: "example.org", Disposition: "none", DKIM: "pass", SPF: "fail"}}},
		begin.Add(30*time.Hour)))
	submit(reports.ReceivedEvent(&reports.Summary{OrgName: "google.com", ReportID: "1", Domain: "example.net", Begin: begin, End: begin}, begin))
	submit(reports.TLSEvent(reports.TLSOutcome{PolicyDomain: "rcpt.test", PolicyType: reports.PolicyNoPolicy, Success: true,
		RUA: []string{"mailto:tls@rcpt.test"}, Date: begin}))

	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: node, Reports: st, Token: "tok",
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	defer ts.Close()
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	dmarc := func(args ...string) result {
		return runCLI(t, env, "", append(append([]string{"dmarc"}, args...), "--server", ts.URL)...)
	}

	r := dmarc("report", "--domain", "example.org")
	want := "example.org Enterprise_Outlook abc 2025-11-30T00:00:00Z..2025-11-30T23:59:59Z p=quarantine messages=7\n" +
		"  198.51.100.25 7 none dkim=pass spf=fail from=example.org\n  (2 more sources)\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("dmarc report --domain: %+v\nwant %q", r, want)
	}
	if r := dmarc("report"); r.code != 0 || strings.Count(r.stdout, "\n") != 4 || !strings.HasPrefix(r.stdout, "example.net google.com 1 ") {
		t.Fatalf("dmarc report: %+v", r)
	}
	if r := dmarc("report", "--limit", "1"); r.code != 0 || !strings.HasPrefix(r.stdout, "example.net ") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("dmarc report --limit 1: %+v", r)
	}
	if r := dmarc("pending"); r.code != 0 || r.stdout != "tlsrpt rcpt.test 2025-11-30 rows=1 sessions=1 rua=mailto:tls@rcpt.test\n" {
		t.Fatalf("dmarc pending: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "--domain", "bad domain!"}, 1, "bad domain"},
		{[]string{"report", "extra"}, 2, ""},
		{[]string{"report", "--limit", "0"}, 2, "--limit"},
		{[]string{"pending", "--domain", "x.test"}, 2, ""},
		{[]string{"frobnicate"}, 2, "unknown subcommand"},
	} {
		r := dmarc(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("dmarc %v: %+v, want exit %d with %q", tc.args, r, tc.code, tc.want)
		}
	}
	if r := runCLI(t, env, "", "dmarc"); r.code != 2 {
		t.Errorf("dmarc without a subcommand: %+v", r)
	}
}
