package main

import (
	"log/slog"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dkimsign"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve/filter"
)

// sieveFilter is the Sieve check (protocols/sieve/filter), the last on
// every SMTP port: on the MX port after the spam classifier, whose verdict
// spamtest reads and whose X-Spam-Status the scripts see; on submission
// after DKIM signing, for the local recipients. It reads the scripts,
// forwarding and vacation and duplicate records from this node's store and
// sends vacation replies and rejections through the outbound queue, in
// the delivery's own proposal.
func sieveFilter(cfg *serveConfig, store *mailbox.Store, keys *dkimsign.Keys, logger *slog.Logger) (pipeline.Check, error) {
	state := filter.StoreState{Store: store}
	logger = logger.With("component", "sieve")
	return filter.New(filter.Config{
		Scripts: state, Forwarding: state, Records: state, Mailboxes: state,
		// Replies are DKIM-signed by the user's domain, as DSNs are.
		Replies:  filter.MessageReplies{Hostname: cfg.Hostname, Sign: keys.Sign, Logger: logger},
		Hostname: cfg.Hostname,
		Logger:   logger,
	})
}
