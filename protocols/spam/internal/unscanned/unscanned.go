// Package unscanned is what an external scanner's check (clamd, rspamd)
// does when the scanner gave no verdict: by default a temporary failure,
// so the sender retries and nothing passes unjudged; with the operator's
// --clamd-failure or --rspamd-failure accept, a delivery marked with a
// header field, a warning in the log, and a count in
// surat_unscanned_deliveries_total{check}. Never a silent pass.
package unscanned

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// Policy is one check's answer to a missing verdict. It is a
// prometheus.Collector of its counter.
type Policy struct {
	check, field, verb string
	accept             bool
	logger             *slog.Logger
	delivered          prometheus.Counter
}

// New returns the policy of the check named check ("clamd"), which marks
// an accepted message with field ("X-Virus-Scan") saying it was not verb
// ("scanned") by the check; accept is the operator's --*-failure accept.
func New(check, field, verb string, accept bool, logger *slog.Logger) *Policy {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Policy{check: check, field: field, verb: verb, accept: accept, logger: logger,
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "surat_unscanned_deliveries_total",
			Help:        "Messages delivered without the verdict of an external scanner that failed, because its --*-failure is accept, by check.",
			ConstLabels: prometheus.Labels{"check": check},
		})}
}

// Outcome answers a message of env that got no verdict, why in a few
// words and err the cause: an error (the SMTP server's 451 4.7.0), or,
// when the operator accepts, a delivery carrying the policy's field.
func (p *Policy) Outcome(env pipeline.Envelope, why string, err error) (pipeline.Outcome, error) {
	unavailable := p.check + "=unavailable"
	if !p.accept {
		p.logger.Warn(p.check+" gave no verdict: the message gets a temporary failure", "remote", env.RemoteIP, "from", env.From, "reason", why, "err", err)
		return pipeline.Outcome{Note: unavailable}, fmt.Errorf("no %s verdict (%s): %w", p.check, why, err)
	}
	p.delivered.Inc()
	p.logger.Warn(p.check+" gave no verdict: delivered un"+p.verb+" (--"+p.check+"-failure accept)", "remote", env.RemoteIP, "from", env.From, "reason", why, "err", err)
	return pipeline.Outcome{
		Prepend: []byte(p.field + ": unavailable; not " + p.verb + " by " + p.check + " (" + why + ")\r\n"),
		Note:    unavailable, Facts: []string{unavailable},
	}, nil
}

// Describe implements prometheus.Collector.
func (p *Policy) Describe(ch chan<- *prometheus.Desc) { p.delivered.Describe(ch) }

// Collect implements prometheus.Collector.
func (p *Policy) Collect(ch chan<- prometheus.Metric) { p.delivered.Collect(ch) }
