package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/surat-mail/surat/protocols/srs"
)

// errNoSRSKey: the leader has not seeded the cluster's first SRS key yet
// (serve_sieve_state.go). SMTP then forwards with the sender unchanged.
var errNoSRSKey = errors.New("srs: the cluster has no SRS key yet")

// srsKeys is what the SRS rewriter reads (*mailbox.Store).
type srsKeys interface {
	SRSKeys() ([][]byte, error)
	Domains() ([]string, error)
}

// clusterSRS is smtp.SRS over the cluster's replicated SRS keys
// (SrsKeyAdded): every call reads them, so a key the leader adds signs at
// once on every node, and every node verifies the others' addresses.
type clusterSRS struct {
	store  srsKeys
	domain string // --srs-domain, else the first --domain; empty: the store's first domain
	now    func() time.Time
}

func newClusterSRS(store srsKeys, cfg *serveConfig) *clusterSRS {
	domain := cfg.SRSDomain
	if domain == "" && len(cfg.Domains) > 0 {
		domain = cfg.Domains[0]
	}
	return &clusterSRS{store: store, domain: domain, now: time.Now}
}

// rewriter is an srs.Rewriter with the keys as applied here now.
func (c *clusterSRS) rewriter() (*srs.Rewriter, error) {
	keys, err := c.store.SRSKeys()
	if err != nil {
		return nil, fmt.Errorf("srs: read keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errNoSRSKey
	}
	domain := c.domain
	if domain == "" {
		domains, err := c.store.Domains()
		if err != nil {
			return nil, fmt.Errorf("srs: read domains: %w", err)
		}
		if len(domains) == 0 {
			return nil, errors.New("srs: no local domain for SRS addresses (set --srs-domain)")
		}
		domain = domains[0]
	}
	return srs.New(keys, domain, c.now)
}

// Forward is the SRS envelope sender for forwarded mail from sender.
func (c *clusterSRS) Forward(sender string) (string, error) {
	r, err := c.rewriter()
	if err != nil {
		return "", err
	}
	return r.Forward(sender)
}

// Reverse is the original sender of one of our SRS addresses.
func (c *clusterSRS) Reverse(addr string) (string, error) {
	r, err := c.rewriter()
	if err != nil {
		return "", err
	}
	return r.Reverse(addr)
}
