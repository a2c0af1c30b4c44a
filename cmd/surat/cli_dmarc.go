package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/admin"
)

const dmarcUsage = `Usage:
  surat dmarc report [--domain D] [--limit N] [--server URL]
                                                  DMARC aggregate reports received for our domains, newest first (100)
  surat dmarc pending [--server URL]               DMARC and TLS-RPT reports not sent yet, by day

report prints one line per received report (domain, reporter, report id,
period, policy, messages), then one indented line per source (address,
count, disposition, DKIM and SPF as DMARC evaluated them, From domain).
pending prints one line per domain-day: kind (dmarc, tlsrpt), domain, day,
rows, messages or sessions, and the rua the report goes to. The leader
sends each day's reports after the day ends (UTC).
`

func runDMARC(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, dmarcUsage)
		if len(args) == 0 {
			return usagef("dmarc: missing subcommand (report, pending)")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "report", "pending":
	default:
		return usagef("dmarc: unknown subcommand %q (report, pending)", sub)
	}
	fs, cf := newClientFlagSet("dmarc "+sub, false)
	var (
		domain string
		limit  int
	)
	if sub == "report" {
		fs.StringVar(&domain, "domain", "", "only the reports about `DOMAIN`")
		fs.IntVar(&limit, "limit", admin.DefaultDMARCReportsLimit, "at most `N` reports")
	}
	pos, c, err := parseClientCommand(e, fs, cf, rest, dmarcUsage)
	if err != nil {
		return err
	}
	if err := wantArgs("dmarc "+sub, pos); err != nil {
		return err
	}
	switch sub {
	case "report":
		if limit < 1 || limit > admin.MaxDMARCReportsLimit {
			return usagef("dmarc report: --limit %d: want 1 to %d", limit, admin.MaxDMARCReportsLimit)
		}
		reports, err := c.DMARCReports(ctx, domain, limit)
		if err != nil {
			return fmt.Errorf("dmarc report: %w", err)
		}
		for _, r := range reports {
			fmt.Fprint(e.stdout, dmarcReportLines(r))
		}
	case "pending":
		pending, err := c.PendingReports(ctx)
		if err != nil {
			return fmt.Errorf("dmarc pending: %w", err)
		}
		for _, p := range pending {
			count := "messages"
			if p.Kind == "tlsrpt" {
				count = "sessions"
			}
			line := fmt.Sprintf("%s %s %s rows=%d %s=%d", p.Kind, p.Domain, p.Day, p.Rows, count, p.Count)
			if p.Overflow > 0 {
				line += fmt.Sprintf(" overflow=%d", p.Overflow)
			}
			fmt.Fprintln(e.stdout, line+" rua="+strings.Join(p.RUA, ","))
		}
	}
	return nil
}

// dmarcReportLines is one received report as dmarc report prints it.
func dmarcReportLines(r admin.DMARCReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s..%s p=%s messages=%d\n", r.Domain, strings.ReplaceAll(r.OrgName, " ", "_"), r.ReportID,
		r.Begin.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), r.Policy, r.Messages)
	for _, s := range r.Sources {
		fmt.Fprintf(&b, "  %s %d %s dkim=%s spf=%s from=%s\n", s.SourceIP, s.Count, s.Disposition, s.DKIM, s.SPF, s.HeaderFrom)
	}
	if r.MoreSources > 0 {
		fmt.Fprintf(&b, "  (%d more sources)\n", r.MoreSources)
	}
	return b.String()
}
