package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/domains"
	"github.com/surat-mail/surat/protocols/outbound/mtasts"
)

// startDomainSeeder adds the --domain values the replicated state lacks,
// with new DKIM keys, and keys to any domain without, in the background:
// every node runs it at start, and the first proposal for a domain wins
// (the others are refused, which counts as done).
func startDomainSeeder(list []string, store *mailbox.Store, node *cluster.Node, logger *slog.Logger) *background {
	return goBackground(func(ctx context.Context) {
		_ = domains.Seed(ctx, domains.SeedConfig{Domains: list, Store: store, Cluster: node,
			Logger: logger.With("component", "domains")})
	})
}

// checkResolver is the resolver `domain records --check` asks: the node's
// --resolver, or nil when it is none (the API then says so).
func checkResolver(r dns.Resolver) domains.Resolver {
	if _, none := r.(dns.None); none || r == nil {
		return nil
	}
	return r
}

// domainPolicies is the MTA-STS mode each of our domains serves, from its
// settings in the replicated state (`surat domain set --mta-sts`).
type domainPolicies struct{ store *mailbox.Store }

// MTASTS implements mtasts.PolicySource.
func (p domainPolicies) MTASTS(domain string) (string, bool) {
	rec, err := p.store.DomainSettings(domain)
	if err != nil {
		return "", false
	}
	switch rec.GetMtaStsMode() {
	case evlog.MtaStsMode_MTA_STS_MODE_TESTING:
		return string(mtasts.Testing), true
	case evlog.MtaStsMode_MTA_STS_MODE_ENFORCE:
		return string(mtasts.Enforce), true
	}
	return "", false
}

// dmarcEnforced says, per recipient domain, whether inbound DMARC failures
// are acted on (reject, quarantine): not when the domain's settings make
// it report-only (`surat domain set --dmarc-enforce=false`). A domain
// whose settings cannot be read is enforced.
func dmarcEnforced(store *mailbox.Store, logger *slog.Logger) func(string) bool {
	return func(domain string) bool {
		rec, err := store.DomainSettings(domain)
		if err != nil {
			if !errors.Is(err, mailbox.ErrNotFound) {
				logger.Warn("domain settings unreadable; DMARC enforced", "domain", domain, "err", err)
			}
			return true
		}
		return !rec.GetDmarcReportOnly()
	}
}
