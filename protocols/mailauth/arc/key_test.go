package arc

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// TestParseKeyRecord covers RFC 6376 §3.6.1 and RFC 8463 §4.
func TestParseKeyRecord(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed := base64.StdEncoding.EncodeToString(pub)
	z := newZone()
	rsaRec := keyRecord(t, newKey(t, z, "rsa", "x", "y").signer.Public())
	rsaP := strings.TrimPrefix(rsaRec, "v=DKIM1; k=rsa; p=")
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))
	// Go refuses to generate keys under 1024 bits; a 512-bit modulus is
	// enough to be refused by size.
	n := new(big.Int).Lsh(big.NewInt(1), 511)
	n.Add(n, big.NewInt(12345))
	smallDER, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	edDER, _ := x509.MarshalPKIXPublicKey(pub)

	cases := []struct {
		name, rec string
		wantType  string // "" = error
		wantErr   string
	}{
		{"ed25519", "v=DKIM1; k=ed25519; p=" + ed, "ed25519", ""},
		{"ed25519 folded p", "k=ed25519; p=" + ed[:10] + " \r\n " + ed[10:], "ed25519", ""},
		{"rsa spki", rsaRec, "rsa", ""},
		{"rsa default k", "p=" + rsaP, "rsa", ""},
		{"rsa pkcs1", "v=DKIM1; p=" + pkcs1, "rsa", ""},
		{"h allows sha256", "v=DKIM1; h=sha1:sha256; p=" + rsaP, "rsa", ""},
		{"s=email", "s=email; k=ed25519; p=" + ed, "ed25519", ""},
		{"unknown tags ignored", "k=ed25519; n=notes; zz=1; p=" + ed, "ed25519", ""},
		{"revoked", "v=DKIM1; p=", "", "revoked"},
		{"no p", "v=DKIM1; k=rsa", "", "no p="},
		{"v not first", "k=rsa; v=DKIM1; p=" + rsaP, "", "version"},
		{"bad version", "v=DKIM2; p=" + rsaP, "", "version"},
		{"h sha1 only", "h=sha1; p=" + rsaP, "", "sha256"},
		{"other service", "s=tlsrpt; p=" + rsaP, "", "service"},
		{"unknown k", "k=dsa; p=" + rsaP, "", "unsupported key type"},
		{"ed25519 wrong length", "k=ed25519; p=" + base64.StdEncoding.EncodeToString(edDER), "", "bytes"},
		{"rsa holding ed25519", "k=rsa; p=" + base64.StdEncoding.EncodeToString(edDER), "", "holds"},
		{"short rsa", "p=" + base64.StdEncoding.EncodeToString(smallDER), "", "shorter"},
		{"bad base64", "p=!!!", "", "base64"},
		{"bad tag list", "p=a; p=b", "", "duplicate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := parseKeyRecord(tc.rec)
			if tc.wantType == "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.keyType != tc.wantType {
				t.Fatalf("type %s, want %s", k.keyType, tc.wantType)
			}
		})
	}
}

// TestLookupKey checks how look-up outcomes are classified: not found and
// bad records are permanent, anything else temporary (RFC 6376 §6.1.2).
func TestLookupKey(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "good.example", "s")
	z.txt["s._domainkey.two.example"] = []string{"garbage", keyRecord(t, k.signer.Public())}
	z.txt["s._domainkey.empty.example"] = nil
	z.txt["s._domainkey.bad.example"] = []string{"v=DKIM1; p="}
	z.temp["s._domainkey.temp.example"] = true
	other := func(context.Context, string) ([]string, error) { return nil, errors.New("i/o timeout") }

	cases := []struct {
		domain   string
		lookup   LookupTXT
		wantTemp bool
		wantOK   bool
	}{
		{"good.example", z.lookup, false, true},
		{"two.example", z.lookup, false, true}, // first usable record wins
		{"missing.example", z.lookup, false, false},
		{"empty.example", z.lookup, false, false},
		{"bad.example", z.lookup, false, false},
		{"temp.example", z.lookup, true, false},
		{"any.example", other, true, false},
	}
	for _, tc := range cases {
		key, err := lookupKey(context.Background(), tc.lookup, "s", tc.domain)
		if (err == nil) != tc.wantOK || errors.Is(err, ErrTemporary) != tc.wantTemp {
			t.Errorf("%s: key %v err %v; want ok=%v temporary=%v", tc.domain, key, err, tc.wantOK, tc.wantTemp)
		}
	}
}
