package main

import (
	"errors"
	"log/slog"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
)

// The mail projections are what the cluster replicates into.
var _ cluster.StateMachine = (*mailbox.Store)(nil)

func openStore(dir string, logger *slog.Logger) (*mailbox.Store, error) {
	return mailbox.Open(dir, mailbox.Options{Logger: logger})
}

func isNotFound(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }
