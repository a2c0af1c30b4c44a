package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/bans"
)

// autoBanPolicy is --auto-ban N,WINDOW,DURATION and --auto-ban-exempt.
type autoBanPolicy struct {
	Count    int
	Window   time.Duration
	Duration time.Duration
	Exempt   []netip.Prefix
}

// parseAutoBan reads the two flags; an empty spec is off (nil).
func parseAutoBan(spec, exempt string) (*autoBanPolicy, error) {
	var prefixes []netip.Prefix
	for _, s := range splitList(exempt) {
		p, err := parsePrefixOrAddr(s)
		if err != nil {
			return nil, usagef("serve: --auto-ban-exempt %q: %q is not an IP address or CIDR prefix", exempt, s)
		}
		prefixes = append(prefixes, p)
	}
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	parts := strings.Split(spec, ",")
	p := &autoBanPolicy{Exempt: prefixes}
	var err1, err2, err3 error
	if len(parts) == 3 {
		p.Count, err1 = strconv.Atoi(strings.TrimSpace(parts[0]))
		p.Window, err2 = time.ParseDuration(strings.TrimSpace(parts[1]))
		p.Duration, err3 = time.ParseDuration(strings.TrimSpace(parts[2]))
	}
	if len(parts) != 3 || err1 != nil || err2 != nil || err3 != nil ||
		p.Count < 1 || p.Count > 1_000_000 || p.Window < time.Second || p.Duration < time.Minute {
		return nil, usagef("serve: --auto-ban %q: want N,WINDOW,DURATION such as 10,10m,1h (N at least 1, WINDOW at least 1s, DURATION at least 1m)", spec)
	}
	return p, nil
}

// parsePrefixOrAddr reads a CIDR prefix, or an address as its single-host
// prefix.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// startAutoBan starts the automatic ban policy of --auto-ban (nil when it
// is off): lockouts on this node's login path propose replicated bans.
// Bans proposed while this node is not the leader are forwarded to it.
func startAutoBan(p *autoBanPolicy, store *mailbox.Store, node *cluster.Node, reg prometheus.Registerer, logger *slog.Logger) (*bans.AutoBanner, error) {
	if p == nil {
		return nil, nil
	}
	banned := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "surat_auto_bans_total",
		Help: "Clients this node banned automatically (--auto-ban), bans committed.",
	})
	if err := reg.Register(banned); err != nil {
		return nil, fmt.Errorf("serve: register auto-ban metrics: %w", err)
	}
	a, err := bans.NewAutoBanner(bans.AutoConfig{Count: p.Count, Window: p.Window, Duration: p.Duration,
		Exempt: p.Exempt, Proposer: node, Bans: store, Banned: banned, Logger: logger.With("component", "bans")})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return a, nil
}
