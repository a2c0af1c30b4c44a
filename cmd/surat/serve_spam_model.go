package main

import (
	"log/slog"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// startSpamModelPruner runs the classifier models' pruner; it proposes
// only while this node leads. It runs whether or not the classifier checks
// mail: users' Junk moves train the models either way, and they stay
// bounded either way.
func startSpamModelPruner(store *mailbox.Store, node *cluster.Node, logger *slog.Logger) *background {
	pr := bayes.NewPruner(bayes.PrunerConfig{Store: store, Cluster: node, Logger: logger.With("component", "spam-model")})
	return goBackground(pr.Run)
}
