package outbound

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

type metrics struct {
	attempts  *prometheus.CounterVec // per recipient: sent, bounced, deferred
	tls       *prometheus.CounterVec // per connection that answered an attempt: verified, unverified, plaintext, failed
	policy    *prometheus.CounterVec // TLS-RPT outcomes by policy type and result
	collected prometheus.Counter
}

// newMetrics registers the queue's metrics on reg (nil: unregistered).
func newMetrics(reg prometheus.Registerer, store Store) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_queue_attempts_total",
			Help: "Outbound delivery attempt results per recipient (sent, bounced, deferred), recorded by this node.",
		}, []string{"result"}),
		tls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_outbound_tls_total",
			Help: "Outbound SMTP connections that answered a delivery attempt, by TLS outcome (verified, unverified, plaintext, failed: TLS required and not had).",
		}, []string{"state"}),
		policy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_outbound_tls_policy_total",
			Help: "TLS sessions with MX hosts (and MTA-STS policies that could not be fetched) by the recipient's policy (sts, tlsa, no-policy-found) and result (success, or the RFC 8460 failure type).",
		}, []string{"policy", "result"}),
		collected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "surat_blobs_collected_total",
			Help: "Unreferenced bodies this node proposed for collection.",
		}),
	}
	length := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "surat_queue_length",
		Help: "Entries in the outbound queue, as this node's store has them.",
	}, func() float64 {
		n, err := store.QueueLength()
		if err != nil {
			return -1
		}
		return float64(n)
	})
	for _, r := range []string{"sent", "bounced", "deferred"} {
		m.attempts.WithLabelValues(r)
	}
	for _, s := range []string{TLSVerified, TLSUnverified, TLSPlaintext, TLSFailed} {
		m.tls.WithLabelValues(s)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.tls, m.policy, m.collected, length} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("outbound: register metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(sent, bounced, deferred int) {
	m.attempts.WithLabelValues("sent").Add(float64(sent))
	m.attempts.WithLabelValues("bounced").Add(float64(bounced))
	m.attempts.WithLabelValues("deferred").Add(float64(deferred))
}

func (m *metrics) observeTLS(o TLSOutcome) {
	if o.State != "" {
		m.tls.WithLabelValues(o.State).Inc()
	}
}

func (m *metrics) observePolicy(o tlsrpt.Outcome) {
	result := "success"
	if !o.Success {
		result = string(o.Result)
	}
	m.policy.WithLabelValues(string(o.PolicyType), result).Inc()
}
