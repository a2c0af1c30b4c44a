package main

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/bans"
	"github.com/surat-mail/surat/protocols/managesieve"
)

// gateBans puts the ban list in front of every mail listener: a client a
// ban in force covers is refused at connect, on every node, before any
// protocol code runs. Implicit-TLS listeners close such clients without a
// reply (a reply would cost a handshake).
func gateBans(store *mailbox.Store, mail *mailListeners, imapLns, pop3Lns *tlsListenerPair,
	sieveLn *net.Listener, reg prometheus.Registerer, logger *slog.Logger) error {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surat_banned_connections_total",
		Help: "Connections refused at connect because a ban covers the client, by listener.",
	}, []string{"listener"})
	if err := reg.Register(refused); err != nil {
		return fmt.Errorf("serve: register ban metrics: %w", err)
	}
	for _, l := range []struct {
		name    string
		ln      *net.Listener
		refusal string
	}{
		{"smtp", &mail.smtp, bans.RefusalSMTP},
		{"submission", &mail.submission, bans.RefusalSMTP},
		{"submissions", &mail.submissions, ""},
		{"imap", &imapLns.plain, bans.RefusalIMAP},
		{"imaps", &imapLns.implicit, ""},
		{"pop3", &pop3Lns.plain, bans.RefusalPOP3},
		{"pop3s", &pop3Lns.implicit, ""},
		{"managesieve", sieveLn, managesieve.RefusalBanned},
	} {
		if *l.ln != nil {
			*l.ln = bans.Gate(*l.ln, bans.GateConfig{Bans: store, Refusal: l.refusal, Listener: l.name,
				Refused: refused.WithLabelValues(l.name), Logger: logger})
		}
	}
	return nil
}

// startBanPruner runs the ban list's pruner; it proposes only while this
// node leads.
func startBanPruner(store *mailbox.Store, node *cluster.Node, logger *slog.Logger) *background {
	pr := bans.NewPruner(bans.PrunerConfig{Store: store, Cluster: node, Logger: logger.With("component", "bans")})
	return goBackground(pr.Run)
}
