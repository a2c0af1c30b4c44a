package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// sessionGauges exports surat_sessions{listener}: the sessions each mail
// front end holds open now, read at each scrape. listener is the name
// the logs use (mx, submission, submissions, imap, pop3, pop3s,
// managesieve; IMAP's two listeners share one count).
type sessionGauges map[string]func() int

// add counts open under listener; nil servers are skipped by the caller.
func (g sessionGauges) add(listener string, open func() int) { g[listener] = open }

// register registers one gauge per listener with reg.
func (g sessionGauges) register(reg prometheus.Registerer) error {
	for listener, open := range g {
		gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "surat_sessions",
			Help:        "Mail sessions open now on this node, by listener.",
			ConstLabels: prometheus.Labels{"listener": listener},
		}, func() float64 { return float64(open()) })
		if err := reg.Register(gauge); err != nil {
			return fmt.Errorf("register surat_sessions{listener=%q}: %w", listener, err)
		}
	}
	return nil
}

// frontEndSessions are the session counts of the servers serve started
// (imap and sieve nil when off).
func frontEndSessions(smtp *smtpServers, imap *imapServer, pop3 *pop3Servers, sieve *manageSieveServer) sessionGauges {
	g := sessionGauges{}
	for _, s := range smtp.servers {
		g.add(s.Kind().String(), s.Sessions)
	}
	if imap != nil {
		g.add("imap", imap.srv.Sessions)
	}
	for i, s := range pop3.servers {
		g.add(pop3.names[i], s.Sessions)
	}
	if sieve != nil {
		g.add("managesieve", sieve.srv.Sessions)
	}
	return g
}
