package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/smtp"
	"github.com/surat-mail/surat/protocols/spam/clamd"
	"github.com/surat-mail/surat/protocols/spam/rspamd"
)

// parseScanners reads --clamd, --clamd-failure, --rspamd and
// --rspamd-failure.
func (c *serveConfig) parseScanners(v func(string) string, bad func(name, format string, args ...any) error) error {
	var err error
	if spec := v("clamd"); spec != "" {
		if c.Clamd, err = clamd.Parse(spec); err != nil {
			return bad("clamd", "%v", err)
		}
	}
	if c.ClamdAccept, err = parseFailurePolicy(v("clamd-failure")); err != nil {
		return bad("clamd-failure", "%v", err)
	}
	if u := v("rspamd"); u != "" {
		if c.Rspamd, err = rspamd.Parse(u); err != nil {
			return bad("rspamd", "%v", err)
		}
	}
	if c.RspamdAccept, err = parseFailurePolicy(v("rspamd-failure")); err != nil {
		return bad("rspamd-failure", "%v", err)
	}
	return nil
}

// parseFailurePolicy reads tempfail or accept; true is accept.
func parseFailurePolicy(s string) (accept bool, err error) {
	switch s {
	case "", "tempfail":
		return false, nil
	case "accept":
		return true, nil
	}
	return false, fmt.Errorf("want tempfail or accept")
}

// scannerProbe bounds the look at each scanner when the node starts.
const scannerProbe = 2 * time.Second

// scannerChecks are the MX checks that ask external scanners: clamd
// (--clamd), then rspamd (--rspamd). A scanner that does not answer at
// start is reported, not fatal: mail gets 451 (or is marked unscanned)
// until it does.
func scannerChecks(cfg *serveConfig, logger *slog.Logger) []pipeline.Check {
	var checks []pipeline.Check
	if cfg.Clamd != nil {
		log := logger.With("component", "clamd")
		checks = append(checks, clamd.NewCheck(cfg.Clamd, cfg.ClamdAccept, log))
		ctx, cancel := context.WithTimeout(context.Background(), scannerProbe)
		if err := cfg.Clamd.Ping(ctx); err != nil {
			log.Warn("clamd does not answer: inbound mail cannot be scanned until it does", "remote", cfg.Clamd.String(), "policy", failurePolicy(cfg.ClamdAccept), "err", err)
		} else {
			log.Info("clamd scans inbound mail", "remote", cfg.Clamd.String(), "policy", failurePolicy(cfg.ClamdAccept))
		}
		cancel()
	}
	if cfg.Rspamd != nil {
		log := logger.With("component", "rspamd")
		checks = append(checks, rspamd.NewCheck(rspamd.Config{
			Client: cfg.Rspamd, AcceptUnchecked: cfg.RspamdAccept, Resolver: cfg.Resolver,
			MTAName: cfg.Hostname, Logger: log,
		}))
		ctx, cancel := context.WithTimeout(context.Background(), scannerProbe)
		if err := cfg.Rspamd.Ping(ctx); err != nil {
			log.Warn("rspamd does not answer: inbound mail cannot be checked until it does", "remote", cfg.Rspamd.String(), "policy", failurePolicy(cfg.RspamdAccept), "err", err)
		} else {
			log.Info("rspamd checks inbound mail", "remote", cfg.Rspamd.String(), "policy", failurePolicy(cfg.RspamdAccept))
		}
		cancel()
	}
	return checks
}

func failurePolicy(accept bool) string {
	if accept {
		return "accept"
	}
	return "tempfail"
}

// registerCheckMetrics registers the checks that count something of their
// own (a prometheus.Collector, such as clamd's and rspamd's unscanned
// deliveries); before the checks are wrapped for their outcome counts.
func registerCheckMetrics(checks map[smtp.Kind][]pipeline.Check, reg prometheus.Registerer) error {
	for _, cs := range checks {
		for _, c := range cs {
			col, ok := c.(prometheus.Collector)
			if !ok {
				continue
			}
			var already prometheus.AlreadyRegisteredError
			if err := reg.Register(col); err != nil && !errors.As(err, &already) {
				return fmt.Errorf("serve: %s metrics: %w", c.Name(), err)
			}
		}
	}
	return nil
}
