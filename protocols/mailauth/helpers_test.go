package mailauth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/mailheader"
)

const testHost = "mx.surat.test"

// crlf turns a message written with \n into one with CRLF line endings.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// newDNS starts an in-process DNS server and a resolver that asks only it,
// without a cache: tests change records between messages.
func newDNS(t testing.TB) (*dnstest.Server, dns.Resolver) {
	t.Helper()
	srv := dnstest.Start(t)
	r, err := dns.NewWithOptions(srv.Addr(), dns.Options{CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return srv, r
}

// newChecker returns a Checker on r with the test's authserv-id and a
// sampler that must not be consulted unless a test sets one.
func newChecker(t testing.TB, r dns.Resolver, mod func(*Config)) *Checker {
	t.Helper()
	cfg := Config{
		Resolver:   r,
		AuthservID: testHost,
		Sample: func() int {
			t.Errorf("pct sampling consulted without a test sampler")
			return 0
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// env is an envelope from ip with MAIL FROM from, to example.net.
func env(ip, helo, from string) Envelope {
	return Envelope{RemoteIP: net.ParseIP(ip), HELO: helo, MailFrom: from, RecipientDomains: []string{"surat.test"}}
}

// check runs msg through c in pieces of 7 bytes (so that every boundary,
// the header's end included, falls inside a Write) and returns the verdict.
func check(t testing.TB, c *Checker, e Envelope, msg string) *Verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m := c.Start(ctx, e)
	b := []byte(msg)
	for len(b) > 0 {
		n := min(7, len(b))
		if k, err := m.Write(b[:n]); err != nil || k != n {
			t.Fatalf("Write = %d, %v", k, err)
		}
		b = b[n:]
	}
	v, err := m.Finish(ctx)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return v
}

// signer is a DKIM key of the tests, published at selector._domainkey.domain.
type signer struct {
	domain, selector string
	key              crypto.Signer
}

// newEd25519 makes an Ed25519 key and publishes it (RFC 8463 §4.2: p= is
// the raw 32-byte public key).
func newEd25519(t testing.TB, srv *dnstest.Server, domain, selector string) signer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv.Add(selector+"._domainkey."+domain, "TXT", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	return signer{domain: domain, selector: selector, key: priv}
}

// sign returns msg with a DKIM-Signature by s (relaxed/relaxed).
func (s signer) sign(t testing.TB, msg string) string {
	t.Helper()
	var b strings.Builder
	err := dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{
		Domain: s.domain, Selector: s.selector, Signer: s.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// message is a small message From: from.
func message(from string) string {
	return crlf("From: Sender <" + from + ">\n" +
		"To: rcpt@surat.test\n" +
		"Subject: test\n" +
		"Date: Wed, 02 Dec 2026 08:00:00 +0000\n" +
		"Message-ID: <1@test>\n" +
		"\n" +
		"Hello.\n")
}

// resultOf is the value of the first resinfo of method in an
// Authentication-Results field, as the acceptance suite reads it.
func resultOf(header, method string) string {
	for _, part := range strings.Split(mailheader.Unfold(header), ";") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, method+"="); ok {
			if i := strings.IndexAny(v, " \t("); i >= 0 {
				v = v[:i]
			}
			return v
		}
	}
	return ""
}
