package arc

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// zone answers TXT queries from a map, as a DNS server would: a missing
// name is NXDOMAIN, a name in temp fails with SERVFAIL.
type zone struct {
	mu      sync.Mutex
	txt     map[string][]string
	temp    map[string]bool
	queries []string
}

func newZone() *zone {
	return &zone{txt: map[string][]string{}, temp: map[string]bool{}}
}

func (z *zone) lookup(ctx context.Context, name string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	z.queries = append(z.queries, name)
	if z.temp[name] {
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	txt, ok := z.txt[name]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return txt, nil
}

// testKey is a signing key published in a zone.
type testKey struct {
	domain, selector string
	signer           crypto.Signer
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// newKey makes a key of kind "ed25519" or "rsa" and publishes it. RSA keys
// are slow to make, so one 2048-bit key is shared by the tests.
func newKey(t testing.TB, z *zone, kind, domain, selector string) testKey {
	t.Helper()
	var signer crypto.Signer
	switch kind {
	case "ed25519":
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer = priv
	case "rsa":
		rsaOnce.Do(func() {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKey = k
		})
		signer = rsaKey
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	z.txt[keyName(selector, domain)] = []string{keyRecord(t, signer.Public())}
	return testKey{domain: domain, selector: selector, signer: signer}
}

// keyRecord is the DKIM key record for pub (RFC 6376 §3.6.1, RFC 8463 §4).
func keyRecord(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k)
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	t.Fatalf("unsupported key %T", pub)
	return ""
}

const baseMessage = "From: Alice <alice@example.org>\r\n" +
	"To: list@lists.example.net\r\n" +
	"Subject: Quarterly numbers\r\n" +
	"Date: Wed, 02 Dec 2026 08:00:00 +0000\r\n" +
	"Message-ID: <q4@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello,\r\n" +
	"\r\n" +
	"the numbers are   in.  \r\n" +
	"\r\n\r\n"

// seal adds one ARC set to msg, sealed by k, verifying the existing chain
// through z.
func seal(t testing.TB, z *zone, k testKey, msg string) string {
	t.Helper()
	fields, err := Seal(context.Background(), strings.NewReader(msg), Sealer{
		Domain:      k.domain,
		Selector:    k.selector,
		Signer:      k.signer,
		AuthResults: k.domain + "; spf=pass smtp.mailfrom=alice@example.org; dkim=pass header.d=example.org; dmarc=pass header.from=example.org",
		Lookup:      z.lookup,
	})
	if err != nil {
		t.Fatalf("Seal by %s: %v", k.domain, err)
	}
	return fields + msg
}

func verify(t testing.TB, z *zone, msg string) *Result {
	t.Helper()
	v := &Verifier{Lookup: z.lookup}
	res, err := v.Verify(context.Background(), strings.NewReader(msg))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// fixedNow is a clock for tests that pin t=.
func fixedNow() time.Time { return time.Unix(1796198400, 0) }
