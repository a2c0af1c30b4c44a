package filter

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of one script's run, the label of surat_sieve_runs_total.
const (
	outcomeOK      = "ok"      // it ran; its actions are taken
	outcomeFailed  = "failed"  // a run-time error or a limit: the message is kept
	outcomeTimeout = "timeout" // out of the check's time: kept
	outcomeInvalid = "invalid" // the stored script does not compile: kept
)

func newRunsCounter() *prometheus.CounterVec {
	runs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surat_sieve_runs_total",
		Help: "Sieve scripts run at delivery, by outcome: ok, failed (a run-time error or a limit), timeout, invalid (does not compile); all but ok kept the message.",
	}, []string{"outcome"})
	for _, o := range []string{outcomeOK, outcomeFailed, outcomeTimeout, outcomeInvalid} {
		runs.WithLabelValues(o) // every outcome shows, at zero
	}
	return runs
}

// Describe and Collect make the check a prometheus.Collector of
// surat_sieve_runs_total: the node registers it with its other checks'.
func (c *Check) Describe(ch chan<- *prometheus.Desc) { c.runs.Describe(ch) }

// Collect: see Describe.
func (c *Check) Collect(ch chan<- prometheus.Metric) { c.runs.Collect(ch) }

func (c *Check) count(outcome string) { c.runs.WithLabelValues(outcome).Inc() }
