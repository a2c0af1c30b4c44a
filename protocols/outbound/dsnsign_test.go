package outbound

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/dkimsign"
	"github.com/surat-mail/surat/protocols/domains"
)

// TestDSNSigned: with SignDSN set, the DSN carries DKIM signatures by the
// first local domain that verify against its key records.
func TestDSNSigned(t *testing.T) {
	keys, err := domains.NewKeys(time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &evlog.DomainRecord{Domain: domain, DkimKeys: keys}
	signer, err := dkimsign.New(rec)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		signedAs []string
	)
	c := startClusterWith(t, 3, time.Hour, newSink(t, "", nil, false), plainSmarthost, func(cfg *Config) {
		cfg.SignDSN = func(d string, msg []byte) ([]byte, error) {
			mu.Lock()
			signedAs = append(signedAs, d)
			mu.Unlock()
			m := signer.Start()
			m.Write(msg)
			return m.Fields()
		}
	})
	l := c.Leader(t)
	id := c.queue(l, alice, []string{"reject-carol@remote.test"}, message("bounce signed"))
	c.waitGone(id, 15*time.Second)
	waitUntil(t, 5*time.Second, "the DSN", func() bool { return len(inbox(t, l, alice)) == 1 })
	dsn := inbox(t, l, alice)[0]
	checkDSN(t, dsn, "reject-carol@remote.test")
	lookup := func(name string) ([]string, error) {
		for _, k := range keys {
			if name == k.GetSelector()+"._domainkey."+domain {
				r, err := domains.KeyRecord(k)
				return []string{r}, err
			}
		}
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(dsn), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil || len(vs) != 2 {
		t.Fatalf("%d signatures (%v) on the DSN:\n%s", len(vs), err, dsn)
	}
	for _, v := range vs {
		if v.Err != nil || v.Domain != domain {
			t.Errorf("d=%s: %v", v.Domain, v.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(signedAs) == 0 || strings.Join(signedAs, ",") != strings.Repeat(domain+",", len(signedAs)-1)+domain {
		t.Errorf("signed as %v", signedAs)
	}
}
