package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/reports"
)

// reportSender runs the DMARC and TLS-RPT report sender; it proposes only
// while this node leads.
type reportSender struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startReports(cfg *serveConfig, store *mailbox.Store, node *cluster.Node, wake func(), sign func(string, []byte) ([]byte, error), logger *slog.Logger) (*reportSender, error) {
	s, err := reports.New(reports.Config{
		Store: store, Cluster: node, Resolver: cfg.Resolver,
		Hostname: cfg.Hostname, LocalDomains: cfg.Domains,
		Retention: cfg.ReportRetention, QueueLifetime: min(cfg.QueueLifetime, reportLifetime),
		Wake: wake, Sign: sign, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("serve: reports: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &reportSender{cancel: cancel}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		s.Run(ctx)
	}()
	return r, nil
}

// reportLifetime: a report not delivered in three days is of little use.
const reportLifetime = 3 * 24 * time.Hour

func (r *reportSender) stop() {
	r.cancel()
	r.wg.Wait()
}
