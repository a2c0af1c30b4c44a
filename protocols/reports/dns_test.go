package reports

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/surat-mail/surat/protocols/dns"
)

// zone is what a test DNS server answers: TXT records by name (each
// string one record), SERVFAIL for failing names, NXDOMAIN otherwise.
type zone struct {
	mu      sync.Mutex
	txt     map[string][]string
	failing map[string]bool
}

func (z *zone) fail(name string, on bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.failing[name] = on
}

// startDNS runs a DNS server for txt on loopback UDP and returns a
// Resolver that asks only it: the real look-up path, no real DNS.
func startDNS(t *testing.T, txt map[string][]string) (*zone, Resolver) {
	t.Helper()
	z := &zone{txt: txt, failing: map[string]bool{}}
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
		z.mu.Lock()
		records, failing := z.txt[name], z.failing[name]
		z.mu.Unlock()
		switch {
		case failing:
			m.Rcode = mdns.RcodeServerFailure
		case records == nil:
			m.Rcode = mdns.RcodeNameError
		case q.Qtype == mdns.TypeTXT:
			for _, rec := range records {
				m.Answer = append(m.Answer, &mdns.TXT{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: 60},
					Txt: []string{rec}})
			}
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
	return z, c
}

// TestExternalDestinationsOverDNS: RFC 7489 §7.1's authorization record,
// looked up over a DNS server.
func TestExternalDestinationsOverDNS(t *testing.T) {
	z, r := startDNS(t, map[string][]string{
		"sender.test._report._dmarc.reports.test": {"v=DMARC1"},
		"sender.test._report._dmarc.wrong.test":   {"v=spf1 -all"},
		"_smtp._tls.rcpt.test":                    {"v=TLSRPTv1; rua=mailto:tls@rcpt.test"},
		"_smtp._tls.two.test":                     {"v=TLSRPTv1; rua=mailto:a@two.test", "v=TLSRPTv1; rua=mailto:b@two.test"},
		"_smtp._tls.mixed.test":                   {"v=spf1 -all", "v=TLSRPTv1; rua=mailto:tls@mixed.test"},
	})
	z.fail("sender.test._report._dmarc.broken.test", true)
	z.fail("_smtp._tls.broken.test", true)
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
	if got, err := TLSRPTRUA(ctx, r, "two.test."); err != nil || got != nil {
		t.Errorf("two TLS-RPT records (RFC 8460 §3: none): %q %v", got, err)
	}
	if got, err := TLSRPTRUA(ctx, r, "mixed.test"); err != nil || !slices.Equal(got, []string{"mailto:tls@mixed.test"}) {
		t.Errorf("a TLS-RPT record among others: %q %v", got, err)
	}
	if _, err := TLSRPTRUA(ctx, r, "broken.test"); err == nil {
		t.Error("SERVFAIL for the TLS-RPT record is not an error")
	}
}
