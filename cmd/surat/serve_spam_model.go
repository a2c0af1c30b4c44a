package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// spamModelPruner runs the classifier models' pruner; it proposes only
// while this node leads. It runs whether or not the classifier checks
// mail: users' Junk moves train the models either way, and they stay
// bounded either way.
type spamModelPruner struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startSpamModelPruner(store *mailbox.Store, node *cluster.Node, logger *slog.Logger) *spamModelPruner {
	ctx, cancel := context.WithCancel(context.Background())
	p := &spamModelPruner{cancel: cancel}
	pr := bayes.NewPruner(bayes.PrunerConfig{Store: store, Cluster: node, Logger: logger.With("component", "spam-model")})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		pr.Run(ctx)
	}()
	return p
}

func (p *spamModelPruner) stop() {
	p.cancel()
	p.wg.Wait()
}
