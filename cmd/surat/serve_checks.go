package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dkimsign"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/reports"
	"github.com/surat-mail/surat/protocols/smtp"
)

// messageChecks are the pipeline checks of each SMTP listener kind. On
// the submission ports: From alignment, then DKIM signing. On the MX port,
// in this order: the reading of DMARC reports about our domains; the
// authentication verdict (SPF, DKIM, DMARC, ARC), which needs a
// --resolver (with --resolver none inbound mail is not authenticated, and
// the operator is told so at start); the external scanners (--clamd,
// --rspamd); greylisting (grey, nil when off), after the authentication
// whose DMARC verdict lets known senders through; the spam classifier,
// so that its X-Spam-Status reflects every Junk before it and greylisted
// messages are not classified; and the recipients' Sieve scripts last on
// every port (serve_sieve.go), which see every field the others add.
func messageChecks(cfg *serveConfig, store *mailbox.Store, keys *dkimsign.Keys, grey pipeline.Check, logger *slog.Logger) (map[smtp.Kind][]pipeline.Check, error) {
	sign := dkimsign.NewCheck(keys, store, logger)
	sieve, err := sieveFilter(cfg, store, keys, logger)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	checks := map[smtp.Kind][]pipeline.Check{
		smtp.Submission:  {sign, sieve},
		smtp.Submissions: {sign, sieve},
	}
	// DMARC aggregate reports about our domains are summarized as they
	// arrive (surat dmarc report), with or without a resolver.
	mx := []pipeline.Check{reports.ReceiveCheck{Domains: store.Domains, Logger: logger}}
	if _, none := cfg.Resolver.(dns.None); none {
		logger.Warn("inbound mail is not authenticated: SPF, DKIM and DMARC need --resolver", "resolver", cfg.ResolverSpec)
	} else {
		checker, err := mailauth.New(mailauth.Config{
			Resolver:          cfg.Resolver,
			AuthservID:        cfg.Hostname,
			SPFPolicy:         cfg.SPFPolicy,
			TrustedARCSealers: cfg.ARCTrustedSealers,
			Enforce:           dmarcEnforced(store, logger),
			Logger:            logger.With("component", "mailauth"),
		})
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		mx = append(mx, mailauth.Check{Checker: checker, Events: reports.DMARCEvents(time.Now)})
	}
	mx = append(mx, scannerChecks(cfg, logger)...)
	if grey != nil {
		mx = append(mx, grey)
	}
	checks[smtp.MX] = append(append(mx, spamCheck(cfg, store, logger)...), sieve)
	return checks, nil
}

// countChecks wraps every check so that its outcomes are counted in
// surat_check_outcomes_total.
func countChecks(checks map[smtp.Kind][]pipeline.Check, reg prometheus.Registerer) (*pipeline.Metrics, error) {
	m, err := pipeline.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("serve: check metrics: %w", err)
	}
	for kind, cs := range checks {
		for i, c := range cs {
			cs[i] = m.Count(c)
		}
		checks[kind] = cs
	}
	return m, nil
}
