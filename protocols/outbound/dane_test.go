package outbound

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/outbound/dane"
	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

// tlsa publishes records at _PORT._tcp.HOST, secure (the resolver sets the
// AD bit, as a validating one would for a signed zone) or not, and makes
// the transport use DANE through the world's resolver.
func (w *mxWorld) tlsa(t *testing.T, host string, secure bool, recs ...dane.Record) string {
	t.Helper()
	name := dane.Name(host, w.tr.port())
	w.dns.Remove(name, "TLSA")
	for _, r := range recs {
		w.dns.Add(name, "TLSA", r.String())
	}
	w.dns.SetADFor(name, secure)
	w.tr.DANE = w.tr.Resolver
	return name
}

func eeRecord(t *testing.T, cfg *tls.Config) dane.Record {
	t.Helper()
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return dane.Record{Usage: dane.UsageDANEEE, Selector: dane.SelectorSPKI, MatchingType: dane.MatchSHA256, Data: sum[:]}
}

// RFC 7672 §3.1.1: a secure DANE-EE record authenticates the server's key
// whatever CA issued it and whatever names it carries; a key that matches
// no record gets nothing.
func TestDANEEEMatchAndMismatch(t *testing.T) {
	webPKI := pkitest.NewCA(t, "Web PKI")
	own := pkitest.NewCA(t, "Self-made CA") // not trusted by the Web PKI
	good := certFor(t, own, "not-the-mx-name.test")
	bad := certFor(t, own, "mx2.example.test")
	w := newMXWorld(t, webPKI, []*tls.Config{good, bad}, nil)
	w.tlsa(t, "mx1.example.test", true, eeRecord(t, good))
	w.tlsa(t, "mx2.example.test", true, eeRecord(t, good)) // mx2's key is not this one

	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Delivered || a.TLS.State != TLSVerified {
		t.Fatalf("%+v, TLS %+v", r, a.TLS)
	}
	rep := reportFor(a, "mx1.example.test")
	if rep == nil || !rep.Success || rep.PolicyType != tlsrpt.PolicyTLSA || len(rep.PolicyStrings) != 1 || !strings.HasPrefix(rep.PolicyStrings[0], "3 1 1 ") {
		t.Fatalf("report %+v", rep)
	}

	// mx1 gone: mx2's key matches no record; nothing is sent, temporarily.
	w.dns.Remove("mx1.example.test", "A")
	w.dns.Add("mx1.example.test", "A", "127.0.0.3") // nothing listens there
	a = w.deliver(env1("carol@example.test"))
	if r := a.Results["carol@example.test"]; r.Class != Temporary {
		t.Fatalf("%+v", r)
	}
	if w.sinks[1].count() != 0 {
		t.Fatal("delivered to a host whose key matches no TLSA record")
	}
	if rep := reportFor(a, "mx2.example.test"); rep == nil || rep.Success || rep.Result != tlsrpt.ValidationFailure || rep.PolicyType != tlsrpt.PolicyTLSA {
		t.Fatalf("report %+v", rep)
	}
}

// RFC 7672 §2.1.1: TLSA records without DNSSEC's word (no AD bit) are
// ignored: delivery is opportunistic (or by MTA-STS) as if there were none.
func TestDANEInsecureTLSAIgnored(t *testing.T) {
	webPKI := pkitest.NewCA(t, "Web PKI")
	cfg := certFor(t, webPKI, "mx1.example.test")
	w := newMXWorld(t, webPKI, []*tls.Config{cfg}, nil)
	wrong := eeRecord(t, certFor(t, webPKI, "x.test"))
	name := w.tlsa(t, "mx1.example.test", false, wrong) // would refuse the host if trusted

	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Delivered {
		t.Fatalf("insecure TLSA enforced: %+v", r)
	}
	if rep := reportFor(a, "mx1.example.test"); rep == nil || rep.PolicyType != tlsrpt.PolicyNotFound {
		t.Fatalf("report %+v", rep)
	}
	// Insecure TLSA, MTA-STS policy: MTA-STS applies (and passes).
	w.publish("1", "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n")
	a = w.deliver(env1("carol@example.test"))
	if rep := reportFor(a, "mx1.example.test"); a.Results["carol@example.test"].Class != Delivered || rep == nil || rep.PolicyType != tlsrpt.PolicySTS || !rep.Success {
		t.Fatalf("%+v, report %+v", a.Results, rep)
	}
	// Secure now: DANE takes precedence over MTA-STS (RFC 8461 §2), and
	// the record does not match.
	w.dns.SetADFor(name, true)
	a = w.deliver(env1("dave@example.test"))
	if r := a.Results["dave@example.test"]; r.Class != Temporary {
		t.Fatalf("secure mismatching TLSA: %+v", r)
	}
	if rep := reportFor(a, "mx1.example.test"); rep == nil || rep.PolicyType != tlsrpt.PolicyTLSA || rep.Success {
		t.Fatalf("report %+v", rep)
	}
	// A TLSA look-up that fails (SERVFAIL: perhaps records suppressed) rules
	// the host out (RFC 7672 §2.2).
	w.dns.ServFail(name, "TLSA")
	a = w.deliver(env1("erin@example.test"))
	if r := a.Results["erin@example.test"]; r.Class != Temporary || !strings.Contains(r.Reply, "TLSA") {
		t.Fatalf("failed look-up: %+v", r)
	}
	if rep := reportFor(a, "mx1.example.test"); rep == nil || rep.Result != tlsrpt.DNSSECInvalid {
		t.Fatalf("report %+v", rep)
	}
	if got := w.sinks[0].count(); got != 2 {
		t.Fatalf("sink holds %d messages, want 2", got)
	}
}

// Secure TLSA records none of which SMTP may use (PKIX-EE): TLS is
// mandatory but not authenticated (RFC 7672 §2.2).
func TestDANEUnusableRecordsRequireTLS(t *testing.T) {
	webPKI := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, webPKI, []*tls.Config{nil}, nil)
	w.tlsa(t, "mx1.example.test", true, dane.Record{Usage: 1, Selector: 1, MatchingType: 1, Data: make([]byte, 32)})
	a := w.deliver(env1("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Temporary || r.Status != "4.7.4" {
		t.Fatalf("%+v", r)
	}
	if w.sinks[0].count() != 0 {
		t.Fatal("sent in plaintext to a host with TLSA records")
	}
}
