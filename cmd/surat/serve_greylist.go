package main

import (
	"fmt"
	"log/slog"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/spam/dnsbl"
	"github.com/surat-mail/surat/protocols/spam/greylist"
)

// connChecks are the connection checks of the MX port: the DNS blocklists
// of --dnsbl, if any (the SMTP server asks them on MX only), counted in
// surat_check_outcomes_total when counted is set.
func connChecks(cfg *serveConfig, counted *pipeline.Metrics, logger *slog.Logger) ([]pipeline.ConnCheck, error) {
	if len(cfg.DNSBL) == 0 {
		return nil, nil
	}
	c, err := dnsbl.New(dnsbl.Config{Resolver: cfg.Resolver, Zones: cfg.DNSBL, Logger: logger.With("component", "dnsbl")})
	if err != nil {
		return nil, fmt.Errorf("serve: --dnsbl: %w", err)
	}
	return []pipeline.ConnCheck{counted.CountConn(c)}, nil
}

// greylisting is --greylist: the MX check and, while this node leads, the
// pruner of expired triples. The zero value (off) does nothing.
type greylisting struct {
	check  pipeline.Check
	pruner *background
}

func startGreylist(cfg *serveConfig, store *mailbox.Store, node *cluster.Node, logger *slog.Logger) (*greylisting, error) {
	g := &greylisting{}
	if cfg.Greylist <= 0 {
		return g, nil
	}
	logger = logger.With("component", "greylist")
	c, err := greylist.New(greylist.Config{Store: store, Delay: cfg.Greylist, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("serve: --greylist: %w", err)
	}
	g.check = c
	pr := greylist.NewPruner(greylist.PrunerConfig{Store: store, Cluster: node, Logger: logger})
	g.pruner = goBackground(pr.Run)
	return g, nil
}

func (g *greylisting) stop() { g.pruner.stop() }
