package dns

import (
	"fmt"

	miekg "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queries *prometheus.CounterVec // sent to the server, by type and RCODE
	cache   *prometheus.CounterVec // look-ups by type and hit/miss
}

// Register puts the client's metrics on reg: surat_dns_queries_total (by
// type and rcode; "error" for no answer) and surat_dns_cache_total (by type
// and result, hit or miss), and surat_dns_cache_entries. Call it once,
// before the first look-up.
func (c *Client) Register(reg prometheus.Registerer) error {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_dns_queries_total",
			Help: "DNS queries this node sent to --resolver, by record type and answer RCODE (error: no answer).",
		}, []string{"type", "rcode"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_dns_cache_total",
			Help: "DNS look-ups on this node by record type, answered from the cache (hit) or not (miss).",
		}, []string{"type", "result"}),
	}
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "surat_dns_cache_entries",
		Help: "Answers held in this node's DNS cache.",
	}, func() float64 { return float64(c.cache.len()) })
	for _, col := range []prometheus.Collector{m.queries, m.cache, entries} {
		if err := reg.Register(col); err != nil {
			return fmt.Errorf("dns: register metrics: %w", err)
		}
	}
	c.metrics = m
	return nil
}

func (m *metrics) query(qtype uint16, rcode int) {
	if m == nil {
		return
	}
	r := "error"
	if rcode >= 0 {
		r = miekg.RcodeToString[rcode]
	}
	m.queries.WithLabelValues(miekg.TypeToString[qtype], r).Inc()
}

func (m *metrics) cacheHit(qtype uint16)  { m.lookup(qtype, "hit") }
func (m *metrics) cacheMiss(qtype uint16) { m.lookup(qtype, "miss") }

func (m *metrics) lookup(qtype uint16, result string) {
	if m == nil {
		return
	}
	m.cache.WithLabelValues(miekg.TypeToString[qtype], result).Inc()
}
