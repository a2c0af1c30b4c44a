package outbound

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	attempts  *prometheus.CounterVec // per recipient: sent, bounced, deferred
	collected prometheus.Counter
}

// newMetrics registers the queue's metrics on reg (nil: unregistered).
func newMetrics(reg prometheus.Registerer, store Store) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_queue_attempts_total",
			Help: "Outbound delivery attempt results per recipient (sent, bounced, deferred), recorded by this node.",
		}, []string{"result"}),
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
	if reg != nil {
		for _, c := range []prometheus.Collector{m.attempts, m.collected, length} {
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
