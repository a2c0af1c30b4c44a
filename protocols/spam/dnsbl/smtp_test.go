package dnsbl

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/protocoltest"
	surasmtp "github.com/surat-mail/surat/protocols/smtp"
)

// TestMXRefusesListedClient: through a real MX listener, a listed client
// (the test's own 127.0.0.1) gets 554 naming the zone when it greets, on
// the MX port only, and is let in once de-listed and the TTL has passed.
func TestMXRefusesListedClient(t *testing.T) {
	c := protocoltest.Start(t, protocoltest.Options{Domain: "example.test"})
	bob := c.NewUser(t, "bob", "bob's password")
	srv := dnstest.Start(t)
	srv.SetTTL(1)
	srv.SetNegativeTTL(1)
	srv.Add("1.0.0.127.bl.test", "A", "127.0.0.2")
	srv.Add("1.0.0.127.bl.test", "TXT", "listed by the test")
	clk := &clock{now: time.Now()}
	r, err := dns.NewWithOptions(srv.Addr(), dns.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	check, err := New(Config{Resolver: r, Zones: []string{"bl.test"}, Logger: protocoltest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	n := c.Nodes[0]
	serve := func(kind surasmtp.Kind) string {
		s, err := surasmtp.New(surasmtp.Config{
			Kind: kind, Hostname: "mx." + c.Domain, TLS: c.TLS,
			Directory: n.Store, Proposer: n.Node, IsNotFound: protocoltest.IsNotFound,
			LocalDomains: []string{c.Domain}, Logger: protocoltest.Logger(), ProposeTimeout: 10 * time.Second,
			ConnChecks: []pipeline.ConnCheck{check},
		})
		if err != nil {
			t.Fatal(err)
		}
		return protocoltest.Serve(t, s)
	}
	mx, sub := serve(surasmtp.MX), serve(surasmtp.Submission)

	greet := func(addr string) error {
		cl, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.Hello("client.test"); err != nil {
			return err
		}
		if err := cl.Mail("alice@sender.test"); err != nil {
			return err
		}
		return cl.Rcpt(bob)
	}
	err = greet(mx)
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 554 || !strings.Contains(te.Msg, "blocked using bl.test") ||
		!strings.Contains(te.Msg, "listed by the test") || !strings.HasPrefix(te.Msg, "5.7.1") {
		t.Fatalf("listed client on MX: %v", err)
	}
	if err := greet(sub); err != nil && strings.Contains(err.Error(), "bl.test") {
		t.Fatalf("the DNSBL was asked on submission: %v", err)
	}
	srv.Remove("1.0.0.127.bl.test", "A")
	clk.Advance(2 * time.Second)
	if err := greet(mx); err != nil {
		t.Fatalf("de-listed client: %v", err)
	}
}
