package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/smtp"
)

// messageChecks are the pipeline checks of each SMTP listener kind: on the
// MX port the authentication verdict (SPF, DKIM, DMARC, ARC), which needs a
// --resolver; with --resolver none no message is checked, and the operator
// was told so at start.
func messageChecks(cfg *serveConfig, logger *slog.Logger) (map[smtp.Kind][]pipeline.Check, error) {
	checks := map[smtp.Kind][]pipeline.Check{}
	if _, none := cfg.Resolver.(dns.None); none {
		logger.Warn("inbound mail is not authenticated: SPF, DKIM and DMARC need --resolver", "resolver", cfg.ResolverSpec)
		return checks, nil
	}
	checker, err := mailauth.New(mailauth.Config{
		Resolver:          cfg.Resolver,
		AuthservID:        cfg.Hostname,
		SPFPolicy:         cfg.SPFPolicy,
		TrustedARCSealers: cfg.ARCTrustedSealers,
		Logger:            logger.With("component", "mailauth"),
	})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	checks[smtp.MX] = append(checks[smtp.MX], mailauth.Check{Checker: checker, Events: dmarcEvents(time.Now)})
	return checks, nil
}
