package reports

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/surat-mail/surat/protocols/dns"
)

// startDNS runs a DNS server on loopback UDP that answers TXT queries from
// txt, SERVFAIL for the names in failing and NXDOMAIN for the rest, and
// returns a Resolver that asks only it: the real look-up path, no real
// DNS.
func startDNS(t *testing.T, txt map[string][]string, failing ...string) Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		q := r.Question[0]
		name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
		switch {
		case slices.Contains(failing, name):
			m.Rcode = mdns.RcodeServerFailure
		case txt[name] != nil && q.Qtype == mdns.TypeTXT:
			m.Answer = append(m.Answer, &mdns.TXT{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: 60},
				Txt: txt[name]})
		case txt[name] == nil:
			m.Rcode = mdns.RcodeNameError
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	c, err := dns.New(pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExternalDestinationsOverDNS: RFC 7489 §7.1's authorization record,
// looked up over a DNS server.
func TestExternalDestinationsOverDNS(t *testing.T) {
	r := startDNS(t, map[string][]string{
		"sender.test._report._dmarc.reports.test": {"v=DMARC1"},
		"sender.test._report._dmarc.wrong.test":   {"v=spf1 -all"},
		"_smtp._tls.rcpt.test":                    {"v=TLSRPTv1; rua=mailto:tls@rcpt.test"},
	}, "sender.test._report._dmarc.broken.test")
	ctx := context.Background()
	for rua, want := range map[string]bool{
		"reports.test":     true,
		"wrong.test":       false, // a TXT record, not a DMARC one
		"nowhere.test":     false, // NXDOMAIN
		"mail.sender.test": true,  // the same organizational domain: no look-up
	} {
		if ok, err := authorized(ctx, r, "sender.test", rua); err != nil || ok != want {
			t.Errorf("%s: %v %v, want %v", rua, ok, err, want)
		}
	}
	if _, err := authorized(ctx, r, "sender.test", "broken.test"); !errors.Is(err, errUnverified) {
		t.Errorf("SERVFAIL: %v, want errUnverified", err)
	}
	if got, err := TLSRPTRUA(ctx, r, "rcpt.test"); err != nil || !slices.Equal(got, []string{"mailto:tls@rcpt.test"}) {
		t.Errorf("TLS-RPT record: %q %v", got, err)
	}
	if got, err := TLSRPTRUA(ctx, r, "quiet.test"); err != nil || got != nil {
		t.Errorf("no TLS-RPT record: %q %v", got, err)
	}
}
