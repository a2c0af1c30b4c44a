package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve/filter"
	"github.com/surat-mail/surat/protocols/smtp"
	"github.com/surat-mail/surat/protocols/srs"
)

// sieveFilter is the Sieve check (protocols/sieve/filter), the last on
// every SMTP port: on the MX port after the spam classifier, whose verdict
// spamtest reads and whose X-Spam-Status the scripts see; on submission
// after DKIM signing, for the local recipients. It reads the scripts,
// forwarding and vacation and duplicate records from this node's store and
// sends vacation replies and rejections through the outbound queue, in
// the delivery's own proposal.
func sieveFilter(cfg *serveConfig, store *mailbox.Store, logger *slog.Logger) (pipeline.Check, error) {
	state := filter.StoreState{Store: store}
	return filter.New(filter.Config{
		Scripts: state, Forwarding: state, Records: state, Mailboxes: state,
		Replies:  filter.MessageReplies{Hostname: cfg.Hostname},
		Hostname: cfg.Hostname,
		Logger:   logger.With("component", "sieve"),
	})
}

// clusterSRS is smtp.SRS over the cluster's replicated SRS keys (events
// SrsKeyAdded, seeded by the leader: serve_sieve_state.go): the newest
// signs, every kept one verifies, on every node alike. The addresses are
// at the node's first --domain (its MX is ours, so bounces come back), or
// its --hostname without one. Until the first key is applied, Forward and
// Reverse fail: redirected mail keeps its sender, SRS addresses are
// unknown recipients.
type clusterSRS struct {
	keys   func() ([][]byte, error) // (*mailbox.Store).SRSKeys
	domain string

	mu     sync.Mutex
	cached [][]byte
	rw     *srs.Rewriter
}

var _ smtp.SRS = (*clusterSRS)(nil)

func newClusterSRS(cfg *serveConfig, store *mailbox.Store) *clusterSRS {
	domain := cfg.Hostname
	if len(cfg.Domains) > 0 {
		domain = cfg.Domains[0]
	}
	return &clusterSRS{keys: store.SRSKeys, domain: domain}
}

// rewriter is the Rewriter of the keys applied now, made again when they
// change (a key added, the oldest dropped).
func (c *clusterSRS) rewriter() (*srs.Rewriter, error) {
	keys, err := c.keys()
	if err != nil {
		return nil, fmt.Errorf("srs keys: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rw != nil && slices.EqualFunc(keys, c.cached, bytes.Equal) {
		return c.rw, nil
	}
	rw, err := srs.New(keys, c.domain, nil)
	if err != nil {
		return nil, err
	}
	c.cached, c.rw = keys, rw
	return rw, nil
}

// Forward implements smtp.SRS.
func (c *clusterSRS) Forward(sender string) (string, error) {
	if sender == "" {
		return "", nil
	}
	rw, err := c.rewriter()
	if err != nil {
		return "", err
	}
	return rw.Forward(sender)
}

// Reverse implements smtp.SRS.
func (c *clusterSRS) Reverse(addr string) (string, error) {
	rw, err := c.rewriter()
	if err != nil {
		return "", err
	}
	return rw.Reverse(addr)
}
