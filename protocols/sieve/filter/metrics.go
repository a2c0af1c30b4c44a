package filter

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one script's run, the label of surat_sieve_runs_total.
const (
	outcomeOK      = "ok"      // it ran; its actions are taken
	outcomeFailed  = "failed"  // a run-time error or a limit: the message is kept
	outcomeTimeout = "timeout" // out of the check's time: kept
	outcomeInvalid = "invalid" // the stored script does not compile: kept
)

// Metrics counts the scripts run, by outcome.
type Metrics struct {
	runs *prometheus.CounterVec
}

// NewMetrics registers surat_sieve_runs_total with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{runs: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surat_sieve_runs_total",
		Help: "Sieve scripts run at delivery, by outcome: ok, failed (a run-time error or a limit), timeout, invalid (does not compile); all but ok kept the message.",
	}, []string{"outcome"})}
	for _, o := range []string{outcomeOK, outcomeFailed, outcomeTimeout, outcomeInvalid} {
		m.runs.WithLabelValues(o) // every outcome shows, at zero
	}
	if err := reg.Register(m.runs); err != nil {
		return nil, fmt.Errorf("sieve filter: metrics: %w", err)
	}
	return m, nil
}

func (m *Metrics) count(outcome string) {
	if m != nil {
		m.runs.WithLabelValues(outcome).Inc()
	}
}
