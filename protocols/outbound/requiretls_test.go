package outbound

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
	"github.com/surat-mail/surat/protocols/smtp"
)

func requireTLS(rcpt string) Envelope {
	e := env1(rcpt)
	e.RequireTLS = true
	return e
}

func offerRequireTLS(s *gosmtp.Server) { s.EnableREQUIRETLS = true }

// RFC 8689 §4.2.1: a REQUIRETLS message goes only over TLS with a verified
// certificate to a host that takes REQUIRETLS on, and carries it onward.
func TestRequireTLSDelivered(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "mx1.example.test")}, offerRequireTLS)
	a := w.deliver(requireTLS("bob@example.test"))
	if r := a.Results["bob@example.test"]; r.Class != Delivered || a.TLS.State != TLSVerified {
		t.Fatalf("%+v, TLS %+v", r, a.TLS)
	}
	if m := w.sinks[0].all(); len(m) != 1 || !m[0].TLS || !m[0].RequireTLS {
		t.Fatalf("sink got %+v", m)
	}
}

// Without TLS, with a certificate that does not verify, or to a host that
// does not offer REQUIRETLS, the message bounces with 5.7.10 and nothing
// is sent.
func TestRequireTLSBounces(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	for name, c := range map[string]struct {
		cfg       *tls.Config
		configure func(*gosmtp.Server)
		want      string
	}{
		"no STARTTLS":        {nil, offerRequireTLS, "STARTTLS"},
		"wrong name":         {certFor(t, ca, "wrong.example.test"), offerRequireTLS, "certificate"},
		"untrusted CA":       {certFor(t, pkitest.NewCA(t, "Other"), "mx1.example.test"), offerRequireTLS, "certificate"},
		"no REQUIRETLS":      {certFor(t, ca, "mx1.example.test"), nil, "does not support REQUIRETLS"},
		"opportunistic only": {certFor(t, ca, "wrong.example.test"), nil, "certificate"},
	} {
		w := newMXWorld(t, ca, []*tls.Config{c.cfg}, c.configure)
		a := w.deliver(requireTLS("bob@example.test"))
		r := a.Results["bob@example.test"]
		if r.Class != Permanent || r.Status != "5.7.10" || !strings.Contains(r.Reply, c.want) || strings.Count(r.Reply, "5.7.10") != 1 {
			t.Errorf("%s: %+v", name, r)
		}
		if w.sinks[0].count() != 0 {
			t.Errorf("%s: sent", name)
		}
		// The same message without REQUIRETLS goes (opportunistic TLS).
		if r := w.deliver(env1("bob@example.test")).Results["bob@example.test"]; r.Class != Delivered {
			t.Errorf("%s: without REQUIRETLS: %+v", name, r)
		}
	}
}

// A host that cannot be reached is not a reason to bounce: the message
// waits (temporary), as any other.
func TestRequireTLSUnreachableIsTemporary(t *testing.T) {
	ca := pkitest.NewCA(t, "Web PKI")
	w := newMXWorld(t, ca, []*tls.Config{certFor(t, ca, "mx1.example.test")}, offerRequireTLS)
	w.dns.Remove("mx1.example.test", "A")
	w.dns.Add("mx1.example.test", "A", "127.0.0.9")
	if r := w.deliver(requireTLS("bob@example.test")).Results["bob@example.test"]; r.Class != Temporary {
		t.Fatalf("%+v", r)
	}
}

// The smarthost must verify: --smarthost-tls starttls or none cannot carry
// REQUIRETLS.
func TestRequireTLSSmarthost(t *testing.T) {
	s := newSink(t, "", nil, false)
	for _, mode := range []TLSMode{TLSStartTLS, TLSNone} {
		a := smarthostTransport(s.addr, mode, nil).Deliver(t.Context(), "remote.test", requireTLS("x@remote.test"))
		if r := a.Results["x@remote.test"]; r.Class != Permanent || r.Status != "5.7.10" {
			t.Errorf("%v: %+v", mode, r)
		}
	}
	if s.count() != 0 {
		t.Fatal("sent")
	}
}

// Through the queue: REQUIRETLS from the submission's parameters is kept
// in the entry, the entry bounces with 5.7.10 when it cannot be honoured,
// and the DSN returns only the header (RFC 8689 §5).
func TestRequireTLSQueued(t *testing.T) {
	c := startClusterWith(t, 1, time.Hour, newSink(t, "", nil, false), plainSmarthost, nil)
	l := c.Leader(t)
	body := message("secret plans")
	chunks := evlog.Chunks(body)
	evs, err := c.relays[l].QueueEvents(smtp.Outbound{From: alice, Recipients: []string{"dave@remote.test"},
		Params: []smtp.RecipientParams{{RequireTLS: true}}, Blob: chunks[0].Hash, Size: chunks[0].Size, Received: time.Now(), User: alice})
	if err != nil {
		t.Fatal(err)
	}
	if !evs[0].GetQueued().GetRequireTls() {
		t.Fatal("Queued without require_tls")
	}
	id := evs[0].GetQueued().GetId()
	l.Submit(t, append([]*evlog.Event{{Kind: &evlog.Event_BlobStored{BlobStored: chunks[0]}}}, evs...)...)
	c.relays[l].Queued()
	c.waitGone(id, 15*time.Second)
	if c.sink.count() != 0 {
		t.Fatal("a REQUIRETLS message went to a plaintext smarthost")
	}
	waitUntil(t, 5*time.Second, "the DSN", func() bool { return len(inbox(t, l, alice)) == 1 })
	dsn := inbox(t, l, alice)[0]
	for _, want := range []string{"Final-Recipient: rfc822; dave@remote.test", "Status: 5.7.10", "text/rfc822-headers", "Subject: secret plans"} {
		if !strings.Contains(string(dsn), want) {
			t.Fatalf("DSN without %q:\n%s", want, dsn)
		}
	}
	if strings.Contains(string(dsn), "Hello.") || strings.Contains(string(dsn), "message/rfc822") {
		t.Fatalf("the DSN returns the body:\n%s", dsn)
	}
}
