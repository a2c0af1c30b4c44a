package dane

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/outbound/internal/pkitest"
)

func chain(t *testing.T, ca *pkitest.CA, o pkitest.Options) []*x509.Certificate {
	t.Helper()
	c := ca.Issue(t, o)
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

func rec(usage, selector, matching uint8, data []byte) Record {
	return Record{Usage: usage, Selector: selector, MatchingType: matching, Data: data}
}

func sum256(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
func sum512(b []byte) []byte { s := sha512.Sum512(b); return s[:] }

func TestVerifyDANEEE(t *testing.T) {
	ca := pkitest.NewCA(t, "Unknown CA")
	now := time.Now()
	// RFC 7672 §3.1.1: DANE-EE ignores names and dates: an expired
	// certificate for another name still matches.
	expired := chain(t, ca, pkitest.Options{Names: []string{"elsewhere.test"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	leaf := expired[0]
	for _, r := range []Record{
		rec(UsageDANEEE, SelectorSPKI, MatchSHA256, sum256(leaf.RawSubjectPublicKeyInfo)),
		rec(UsageDANEEE, SelectorCert, MatchSHA256, sum256(leaf.Raw)),
		rec(UsageDANEEE, SelectorCert, MatchSHA512, sum512(leaf.Raw)),
		rec(UsageDANEEE, SelectorSPKI, MatchFull, leaf.RawSubjectPublicKeyInfo),
	} {
		if err := Verify(expired, []Record{r}, []string{"mx.example.test"}, now); err != nil {
			t.Errorf("%v: %v", r, err)
		}
	}
	other := chain(t, ca, pkitest.Options{Names: []string{"mx.example.test"}})
	eeRec := rec(UsageDANEEE, SelectorSPKI, MatchSHA256, sum256(other[0].RawSubjectPublicKeyInfo))
	if err := Verify(expired, []Record{eeRec}, []string{"mx.example.test"}, now); !errors.Is(err, ErrNoMatch) {
		t.Errorf("another key: %v", err)
	}
	// DANE-EE matches the leaf only: the CA's key in a 3 x x record does
	// not make the chain valid.
	caRec := rec(UsageDANEEE, SelectorSPKI, MatchSHA256, sum256(ca.Cert.RawSubjectPublicKeyInfo))
	if err := Verify(other, []Record{caRec}, []string{"mx.example.test"}, now); !errors.Is(err, ErrNoMatch) {
		t.Errorf("EE record of the CA: %v", err)
	}
	// One matching record among several suffices.
	if err := Verify(expired, []Record{caRec, eeRec}, nil, now); !errors.Is(err, ErrNoMatch) {
		t.Errorf("neither matches: %v", err)
	}
	good := rec(UsageDANEEE, SelectorSPKI, MatchSHA256, sum256(other[0].RawSubjectPublicKeyInfo))
	if err := Verify(other, []Record{caRec, good}, nil, now); err != nil {
		t.Errorf("second record matches: %v", err)
	}
	if err := Verify(nil, []Record{good}, nil, now); err == nil {
		t.Error("no certificate verified")
	}
}

// RFC 7672 §3.1.2: DANE-TA makes the matching chain certificate the trust
// anchor; the leaf must chain to it, be current and name the MX host.
func TestVerifyDANETA(t *testing.T) {
	ca := pkitest.NewCA(t, "Private CA")
	now := time.Now()
	ta := rec(UsageDANETA, SelectorSPKI, MatchSHA256, sum256(ca.Cert.RawSubjectPublicKeyInfo))
	c := chain(t, ca, pkitest.Options{Names: []string{"mx.example.test"}})
	if err := Verify(c, []Record{ta}, []string{"mx.example.test"}, now); err != nil {
		t.Fatalf("TA match: %v", err)
	}
	if err := Verify(c, []Record{ta}, []string{"other.example.test"}, now); err == nil || errors.Is(err, ErrNoMatch) {
		t.Errorf("wrong name: %v", err)
	}
	var invalid x509.CertificateInvalidError
	if err := Verify(c, []Record{ta}, []string{"mx.example.test"}, now.Add(2*time.Hour)); !errors.As(err, &invalid) {
		t.Errorf("expired: %v", err)
	}
	// A chain from another CA does not match the anchor.
	c2 := chain(t, pkitest.NewCA(t, "Other CA"), pkitest.Options{Names: []string{"mx.example.test"}})
	if err := Verify(c2, []Record{ta}, []string{"mx.example.test"}, now); !errors.Is(err, ErrNoMatch) {
		t.Errorf("other CA: %v", err)
	}
}

func TestUsable(t *testing.T) {
	h := make([]byte, 32)
	for _, c := range []struct {
		r  Record
		ok bool
	}{
		{rec(3, 1, 1, h), true},
		{rec(2, 0, 2, make([]byte, 64)), true},
		{rec(3, 0, 0, []byte{1}), true},
		{rec(0, 1, 1, h), false}, // PKIX-TA: not for SMTP (RFC 7672 §3.1.3)
		{rec(1, 1, 1, h), false}, // PKIX-EE
		{rec(3, 2, 1, h), false}, // unknown selector
		{rec(3, 1, 3, h), false}, // unknown matching type
		{rec(3, 1, 1, h[:31]), false},
		{rec(3, 1, 2, h), false},
		{rec(3, 1, 0, nil), false},
	} {
		if IsUsable(c.r) != c.ok {
			t.Errorf("%v: usable %v", c.r, !c.ok)
		}
	}
	if got := Usable([]Record{rec(0, 1, 1, h), rec(3, 1, 1, h)}); len(got) != 1 || got[0].Usage != 3 {
		t.Errorf("Usable: %v", got)
	}
	if s := (rec(3, 1, 1, []byte{0xab, 0x01})).String(); !strings.EqualFold(s, "3 1 1 AB01") {
		t.Errorf("String: %q", s)
	}
	if n := Name("mx.example.test.", 25); n != "_25._tcp.mx.example.test" {
		t.Errorf("Name: %q", n)
	}
}
