package outbound

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

// RFC 8461 §4.1: in enforce mode an MX host the policy does not name is
// not used, even the preferred one.
func TestMTASTSEnforceSkipsUnlistedMX(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "mx1.example.test"), certFor(t, ca, "mx2.example.test")}, nil)
	w.publish("1", "version: STSv1\nmode: enforce\nmx: mx2.example.test\nmax_age: 86400\n")

	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if w.sinks[0].count() != 0 || w.sinks[1].count() != 1 || !w.sinks[1].all()[0].TLS {
		t.Fatalf("mx1 got %d, mx2 got %d", w.sinks[0].count(), w.sinks[1].count())
	}
	if a.TLS.State != TLSVerified {
		t.Errorf("TLS %+v", a.TLS)
	}
	r1, r2 := reportFor(a, "mx1.example.test"), reportFor(a, "mx2.example.test")
	if r1 == nil || r1.Success || r1.PolicyType != tlsrpt.PolicySTS || r1.Result != tlsrpt.ValidationFailure {
		t.Errorf("mx1 report %+v", r1)
	}
	if r2 == nil || !r2.Success || r2.PolicyType != tlsrpt.PolicySTS || r2.ReceivingIP != "127.0.0.2" ||
		len(r2.MXHost) != 1 || r2.MXHost[0] != "mx2.example.test" || len(r2.PolicyStrings) != 4 {
		t.Errorf("mx2 report %+v", r2)
	}

	// No listed host at all: a temporary failure, nothing sent (RFC 8461
	// §5: never a bounce for a policy that may be fixed).
	w.publish("2", "version: STSv1\nmode: enforce\nmx: mx9.example.test\nmax_age: 86400\n")
	a = w.deliver(env1("carol@example.test"))
	if r := a.Results["carol@example.test"]; r.Class != Temporary || r.Status != "4.7.5" || !strings.Contains(r.Reply, "MTA-STS") {
		t.Fatalf("%+v", r)
	}
	if w.sinks[0].count()+w.sinks[1].count() != 1 {
		t.Fatal("delivered to a host outside the policy")
	}
}

// RFC 8461 §4.2: an enforced MX host must present, over STARTTLS, a
// certificate valid for its name; otherwise nothing is sent there.
func TestMTASTSEnforceRefusesBadCertificate(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	other := pkitest.NewCA(t, "Self-made CA")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "wrong.example.test"), certFor(t, other, "mx2.example.test")}, nil)
	w.publish("1", "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n")

	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Temporary || r.Status != "4.7.5" || !strings.Contains(r.Reply, "certificate") {
		t.Fatalf("%+v", r)
	}
	if n := w.sinks[0].count() + w.sinks[1].count(); n != 0 {
		t.Fatalf("%d messages sent to hosts with bad certificates", n)
	}
	if a.TLS.State != TLSFailed {
		t.Errorf("TLS %+v", a.TLS)
	}
	if r := reportFor(a, "mx1.example.test"); r == nil || r.Success || r.Result != tlsrpt.CertificateHostMismatch {
		t.Errorf("mx1 report %+v", r)
	}
	if r := reportFor(a, "mx2.example.test"); r == nil || r.Success || r.Result != tlsrpt.CertificateNotTrusted {
		t.Errorf("mx2 report %+v", r)
	}
}

// No STARTTLS at an enforced host: temporary, reported as
// starttls-not-supported.
func TestMTASTSEnforceNeedsStartTLS(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{nil}, nil)
	w.publish("1", "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n")
	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Temporary || r.Status != "4.7.4" {
		t.Fatalf("%+v", r)
	}
	if w.sinks[0].count() != 0 {
		t.Fatal("sent in plaintext under an enforce policy")
	}
	if r := reportFor(a, "mx1.example.test"); r == nil || r.Result != tlsrpt.StartTLSNotSupported {
		t.Errorf("report %+v", r)
	}
}

// RFC 8461 §5: testing mode delivers as without a policy and reports what
// would have failed.
func TestMTASTSTestingDeliversAndReports(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "wrong.example.test")}, nil)
	w.publish("1", "version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 86400\n")
	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if m := w.sinks[0].all(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("sink got %+v", m)
	}
	if a.TLS.State != TLSUnverified || !strings.Contains(a.TLS.Detail, "certificate") {
		t.Errorf("TLS %+v", a.TLS)
	}
	r := reportFor(a, "mx1.example.test")
	if r == nil || r.Success || r.PolicyType != tlsrpt.PolicySTS || r.Result != tlsrpt.CertificateHostMismatch {
		t.Fatalf("report %+v", r)
	}

	// Testing mode with a host outside the policy: delivered, reported.
	w.publish("2", "version: STSv1\nmode: testing\nmx: mx7.example.test\nmax_age: 86400\n")
	a = w.deliver(env1("carol@example.test"))
	if r := a.Results["carol@example.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if r := reportFor(a, "mx1.example.test"); r == nil || r.Result != tlsrpt.ValidationFailure {
		t.Fatalf("report %+v", r)
	}
}

// No policy published: opportunistic, reported as no-policy-found; a
// policy that cannot be fetched is reported and changes nothing else.
func TestMTASTSNoPolicyAndFetchError(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "mx1.example.test")}, nil)
	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if r := reportFor(a, "mx1.example.test"); r == nil || !r.Success || r.PolicyType != tlsrpt.PolicyNotFound {
		t.Fatalf("report %+v", r)
	}
	// A TXT record but no policy served (404).
	w.dns.AddTXT("_mta-sts."+worldDomain, "v=STSv1; id=1")
	a = w.deliver(env1("carol@example.test"))
	if r := a.Results["carol@example.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if len(a.Reports) != 2 || a.Reports[0].PolicyType != tlsrpt.PolicySTS || a.Reports[0].Result != tlsrpt.STSPolicyFetch {
		t.Fatalf("reports %+v", a.Reports)
	}
	// Served, but under a certificate the Web PKI does not vouch for.
	w.publish("2", "version: STSv1\nmode: enforce\nmx: mx9.example.test\nmax_age: 86400\n")
	w.tr.MTASTS.Fetcher.RootCAs = pkitest.NewCA(t, "Someone else").Pool
	a = w.deliver(env1("dave@example.test"))
	if r := a.Results["dave@example.test"]; r.Class != Delivered {
		t.Fatalf("%+v", r)
	}
	if len(a.Reports) != 2 || a.Reports[0].Result != tlsrpt.STSWebPKIInvalid {
		t.Fatalf("reports %+v", a.Reports)
	}
	// Served and fetched: an invalid policy.
	w.tr.MTASTS.Fetcher.RootCAs = ca.Pool
	w.publish("3", "version: STSv1\nmode: enforce\nmax_age: 86400\n")
	a = w.deliver(env1("erin@example.test"))
	if len(a.Reports) != 2 || a.Reports[0].Result != tlsrpt.STSPolicyInvalid || a.Results["erin@example.test"].Class != Delivered {
		t.Fatalf("%+v, reports %+v", a.Results, a.Reports)
	}
}

// "TLS-Required: No" (RFC 8689 §4.2.2): the policy is not enforced.
func TestTLSRequiredNoIgnoresPolicy(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "wrong.example.test")}, nil)
	w.publish("1", "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n")
	env := env1("bob@example.test")
	if r := w.deliver(env).Results["bob@example.test"]; r.Class != Temporary {
		t.Fatalf("enforced: %+v", r)
	}
	env.Body = []byte("TLS-Required: No\r\nSubject: t\r\n\r\nhello\r\n")
	if !tlsNotRequired(env.Body) {
		t.Fatal("header not recognised")
	}
	env.TLSOptional = true
	if r := w.deliver(env).Results["bob@example.test"]; r.Class != Delivered {
		t.Fatalf("TLS-Required: No: %+v", r)
	}
	for body, want := range map[string]bool{
		"Subject: x\r\ntls-required:   no \r\n\r\nb":   true,
		"TLS-Required: yes\r\n\r\n":                    false,
		"TLS-Required: No\r\nTLS-Required: No\r\n\r\n": false,
		"Subject: x\r\n\r\nTLS-Required: No\r\n":       false, // in the body
	} {
		if got := tlsNotRequired([]byte(body)); got != want {
			t.Errorf("%q: %v", body, got)
		}
	}
}

// Through the queue: a message refused by an enforce policy stays queued
// (AttemptFailed, 4.7.5), and goes out once the domain publishes a policy
// that names its MX host under a new id (RFC 8461 §5.1: a changed id is
// fetched again).
func TestMTASTSEnforceStaysQueued(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "mx1.example.test")}, nil)
	w.publish("1", "version: STSv1\nmode: enforce\nmx: mx9.example.test\nmax_age: 86400\n")
	c := startClusterWith(t, 1, time.Hour, w.sinks[0], func(string) *Transport { return w.tr },
		func(cfg *Config) { cfg.OneRoute = false })
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"bob@example.test"}, message("policy fixed"))
	waitUntil(t, 10*time.Second, "the failed attempt recorded", func() bool {
		q, err := l.Store.QueueEntry(id)
		return err == nil && q.GetAttempts() >= 1
	})
	q, err := l.Store.QueueEntry(id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.GetLastReply(), "4.7.5") || !strings.Contains(q.GetLastReply(), "MTA-STS") || w.sinks[0].count() != 0 {
		t.Fatalf("queue entry %v; sink holds %d", q, w.sinks[0].count())
	}
	w.publish("2", "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n")
	c.waitGone(id, 15*time.Second)
	if m := w.sinks[0].all(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("sink got %+v", m)
	}
}
