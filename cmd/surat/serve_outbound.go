package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dkimsign"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/outbound"
	"github.com/surat-mail/surat/protocols/reports"
)

// outboundQueue is the running queue worker and the Relay that submission
// queues through.
type outboundQueue struct {
	relay  *outbound.Relay
	cancel context.CancelFunc
	done   sync.WaitGroup
}

// startOutbound starts the queue worker (active only while this node
// leads) and the blob collector it runs.
func startOutbound(cfg *serveConfig, store *mailbox.Store, node *cluster.Node, dkimKeys *dkimsign.Keys,
	reg prometheus.Registerer, logger *slog.Logger) (*outboundQueue, error) {
	host := cfg.Hostname
	transport := &outbound.Transport{
		Smarthost: cfg.Smarthost, Resolver: cfg.Resolver, Hostname: host,
		SmarthostTLS: cfg.SmarthostTLS, SmarthostCA: cfg.SmarthostCA, SmarthostAuth: cfg.SmarthostAuth,
		AllowPrivate: cfg.AllowPrivateMX,
		DialTimeout:  30 * time.Second, CommandTimeout: 5 * time.Minute,
	}
	if _, none := cfg.Resolver.(dns.None); cfg.MTASTS && !none && cfg.Smarthost == "" {
		transport.MTASTS = outbound.NewMTASTS(cfg.Resolver, cfg.AllowPrivateMX)
	}
	if cfg.ResolverDNSSEC && cfg.Smarthost == "" {
		// DANE (RFC 7672) only with a resolver trusted to validate: its
		// AD bit is what makes TLSA records usable.
		transport.DANE = cfg.Resolver
	}
	if cfg.Smarthost != "" {
		logger.Info("outbound mail goes to the smarthost", "smarthost", cfg.Smarthost,
			"smarthost_tls", cfg.SmarthostTLS.String(), "private_ca", cfg.SmarthostCA != nil, "auth", cfg.SmarthostAuth != nil)
	}
	w, err := outbound.New(outbound.Config{
		Store: store, Cluster: node, Deliverer: transport,
		IsNotFound:   func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) },
		OneRoute:     cfg.Smarthost != "",
		Hostname:     host,
		LocalDomains: cfg.Domains,
		SignDSN:      dkimKeys.Sign,
		Schedule:     cfg.QueueSchedule,
		DelayWarning: cfg.DelayWarning,
		Logger:       logger,
		Registerer:   reg,
		TLSReport:    reports.NewTLSRecorder(cfg.Resolver, node, logger).Record,
	})
	if err != nil {
		return nil, err
	}
	if _, none := cfg.Resolver.(dns.None); cfg.Smarthost == "" && none {
		logger.Warn("outbound mail has no route: no --smarthost and --resolver none; it stays queued")
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &outboundQueue{relay: &outbound.Relay{Lifetime: cfg.QueueLifetime, Wake: w.Wake}, cancel: cancel}
	q.done.Add(1)
	go func() {
		defer q.done.Done()
		w.Run(ctx)
	}()
	return q, nil
}

// stop ends the worker; attempts in flight are cut off and retried by the
// next leader (at-least-once delivery).
func (q *outboundQueue) stop() {
	if q == nil {
		return
	}
	q.cancel()
	q.done.Wait()
}
