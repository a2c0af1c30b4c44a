package outbound

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

// The worker hands every attempt's TLS-RPT outcomes (RFC 8460) to
// Config.TLSReport and counts them by policy and result.
func TestTLSReportHook(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "wrong.example.test"), certFor(t, ca, "mx2.example.test")}, nil)
	w.publish("1", "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n")
	var (
		mu  sync.Mutex
		got []tlsrpt.Outcome
		reg = prometheus.NewRegistry()
	)
	c := startClusterWith(t, 1, time.Hour, w.sinks[0], func(string) *Transport { return w.tr }, func(cfg *Config) {
		cfg.OneRoute = false
		cfg.Registerer = reg
		cfg.TLSReport = func(_ context.Context, o tlsrpt.Outcome) {
			mu.Lock()
			got = append(got, o)
			mu.Unlock()
		}
	})
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"bob@example.test"}, message("reported"))
	c.waitGone(id, 15*time.Second)
	if w.sinks[1].countWith("reported@") != 1 || w.sinks[0].count() != 0 {
		t.Fatalf("mx1 %d, mx2 %d", w.sinks[0].count(), w.sinks[1].count())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("outcomes %+v", got)
	}
	first, second := got[0], got[1]
	if first.PolicyDomain != "example.test" || first.PolicyType != tlsrpt.PolicySTS || first.Success ||
		first.Result != tlsrpt.CertificateHostMismatch || first.ReceivingMXHostname != "mx1.example.test" ||
		first.ReceivingIP != "127.0.0.1" || first.SendingMTAIP != "127.0.0.1" || first.Time.IsZero() {
		t.Errorf("first outcome %+v", first)
	}
	if !second.Success || second.ReceivingMXHostname != "mx2.example.test" || second.SendingMTAIP == "" {
		t.Errorf("second outcome %+v", second)
	}
	m, err := testutil.GatherAndCount(reg, "surat_outbound_tls_policy_total")
	if err != nil || m != 2 {
		t.Fatalf("policy metric series %d, %v", m, err)
	}
}

func TestPolicyMetrics(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.observePolicy(tlsrpt.Outcome{PolicyType: tlsrpt.PolicySTS, Success: true})
	m.observePolicy(tlsrpt.Outcome{PolicyType: tlsrpt.PolicyTLSA, Result: tlsrpt.ValidationFailure})
	m.observePolicy(tlsrpt.Outcome{PolicyType: tlsrpt.PolicySTS, Success: true})
	if v := testutil.ToFloat64(m.policy.WithLabelValues("sts", "success")); v != 2 {
		t.Errorf("sts success %v", v)
	}
	if v := testutil.ToFloat64(m.policy.WithLabelValues("tlsa", "validation-failure")); v != 1 {
		t.Errorf("tlsa failure %v", v)
	}
}
