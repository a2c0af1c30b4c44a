package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/domains"
)

// domainSeeder adds the --domain values the replicated state lacks, with
// new DKIM keys, and keys to any domain without, in the background: every
// node runs it at start, and the first proposal for a domain wins (the
// others are refused, which counts as done).
type domainSeeder struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startDomainSeeder(list []string, store *mailbox.Store, node *cluster.Node, logger *slog.Logger) *domainSeeder {
	ctx, cancel := context.WithCancel(context.Background())
	s := &domainSeeder{cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = domains.Seed(ctx, domains.SeedConfig{Domains: list, Store: store, Cluster: node,
			Logger: logger.With("component", "domains")})
	}()
	return s
}

func (s *domainSeeder) stop() {
	s.cancel()
	s.wg.Wait()
}

// checkResolver is the resolver `domain records --check` asks: the node's
// --resolver, or nil when it is none (the API then says so).
func checkResolver(r dns.Resolver) domains.Resolver {
	if _, none := r.(dns.None); none || r == nil {
		return nil
	}
	return r
}
