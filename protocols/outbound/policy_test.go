package outbound

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
	"github.com/surat-mail/surat/protocols/outbound/mtasts"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

// mxWorld is a recipient domain, example.test, whose MX hosts
// mx1.example.test (preference 10) and mx2.example.test (20) are sinks on
// 127.0.0.1 and 127.0.0.2, with DNS from an in-process server and, when a
// test publishes one, an MTA-STS policy at https://mta-sts.example.test.
type mxWorld struct {
	dns   *dnstest.Server
	ca    *pkitest.CA // the Web PKI of these tests
	sinks []*sink
	tr    *Transport

	mu     sync.Mutex
	policy string
}

const worldDomain = "example.test"

// newMXWorld starts one sink per TLS configuration (nil: no STARTTLS).
func newMXWorld(t *testing.T, ca *pkitest.CA, cfgs []*tls.Config, configure func(*gosmtp.Server)) *mxWorld {
	t.Helper()
	w := &mxWorld{dns: dnstest.Start(t), ca: ca}
	var port int
	w.sinks, port = tlsSinksOnOnePort(t, cfgs, configure)
	for i := range w.sinks {
		name := "mx" + strconv.Itoa(i+1) + "." + worldDomain
		w.dns.Add(worldDomain, "MX", strconv.Itoa(10*(i+1))+" "+name+".")
		w.dns.Add(name, "A", "127.0.0."+strconv.Itoa(i+1))
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		body := w.policy
		w.mu.Unlock()
		if body == "" || r.URL.Path != mtasts.PolicyPath {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/plain")
		_, _ = rw.Write([]byte(body))
	}))
	srv.TLS = pkitest.ServerTLS(ca.Issue(t, pkitest.Options{Names: []string{"mta-sts." + worldDomain}}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, hp, _ := net.SplitHostPort(srv.Listener.Addr().String())
	httpsPort, _ := strconv.Atoi(hp)
	w.dns.Add("mta-sts."+worldDomain, "A", "127.0.0.1")

	// No cache: the tests change records between deliveries. TrustAD: the
	// DANE tests mark TLSA answers secure with the AD bit.
	r, err := dns.NewWithOptions(w.dns.Addr(), dns.Options{CacheEntries: -1, TrustAD: true})
	if err != nil {
		t.Fatal(err)
	}
	w.tr = &Transport{Resolver: r, Port: port, AllowPrivate: true, Hostname: "mx.sender.test",
		DialTimeout: 2 * time.Second, CommandTimeout: 5 * time.Second, RootCAs: ca.Pool,
		MTASTS: &mtasts.Cache{Resolver: r, Fetcher: &mtasts.Fetcher{Resolver: r, RootCAs: ca.Pool, Port: httpsPort, Timeout: 5 * time.Second}},
	}
	return w
}

// publish serves policy and announces it with TXT id.
func (w *mxWorld) publish(id, policy string) {
	w.mu.Lock()
	w.policy = policy
	w.mu.Unlock()
	w.dns.Remove("_mta-sts."+worldDomain, "TXT")
	w.dns.AddTXT("_mta-sts."+worldDomain, "v=STSv1; id="+id)
}

// certFor is a server configuration with a certificate from ca for names.
func certFor(t *testing.T, ca *pkitest.CA, names ...string) *tls.Config {
	return pkitest.ServerTLS(ca.Issue(t, pkitest.Options{Names: names}))
}

func (w *mxWorld) deliver(env Envelope) Attempt {
	return w.tr.Deliver(context.Background(), worldDomain, env)
}

// reportFor is the report about mx (the first one), or nil.
func reportFor(a Attempt, mx string) *tlsrpt.Outcome {
	for i := range a.Reports {
		if a.Reports[i].ReceivingMXHostname == mx {
			return &a.Reports[i]
		}
	}
	return nil
}
