package domains

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// RSABits is the size of the RSA keys Surat generates (RFC 8301 §3.2:
// signers should use at least 2048 bits).
const RSABits = 2048

// algorithms are the keys every domain gets, in order, with their
// selectors' letters.
var algorithms = []struct {
	alg    evlog.DkimAlgorithm
	letter string
}{
	{evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, "e"},
	{evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA, "r"},
}

// NewKeys generates one Ed25519 and one RSA key, with selectors dated now
// (UTC): 20261202e, 20261202r. A selector already in taken gets a number
// after its letter (20261202e2), so two rotations on one day differ.
func NewKeys(now time.Time, taken []string) ([]*evlog.DkimKey, error) {
	day := now.UTC().Format("20060102")
	out := make([]*evlog.DkimKey, 0, len(algorithms))
	for _, a := range algorithms {
		sel := day + a.letter
		for n := 2; slices.Contains(taken, sel); n++ {
			sel = day + a.letter + strconv.Itoa(n)
		}
		der, err := newPrivateKey(a.alg)
		if err != nil {
			return nil, err
		}
		out = append(out, &evlog.DkimKey{Selector: sel, Algorithm: a.alg, PrivateKey: der, CreatedUnix: now.Unix()})
	}
	return out, nil
}

func newPrivateKey(alg evlog.DkimAlgorithm) ([]byte, error) {
	var priv any
	switch alg {
	case evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("domains: generate Ed25519 key: %w", err)
		}
		priv = k
	case evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA:
		k, err := rsa.GenerateKey(rand.Reader, RSABits)
		if err != nil {
			return nil, fmt.Errorf("domains: generate RSA key: %w", err)
		}
		priv = k
	default:
		return nil, fmt.Errorf("domains: no key generation for %v", alg)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("domains: encode private key: %w", err)
	}
	return der, nil
}

// Added is the DomainAdded event for domain (canonical: lower case,
// A-labels) with new keys. Every proposer of DomainAdded uses it, so no
// domain is added without keys.
func Added(domain string, now time.Time) (*evlog.Event, error) {
	keys, err := NewKeys(now, nil)
	if err != nil {
		return nil, err
	}
	return &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{
		Domain: domain, DkimKeys: keys, AddedUnix: now.Unix()}}}, nil
}

// Rotated is the DkimKeyAdded events of a key rotation: one new key per
// algorithm, under selectors that rec's keys do not use.
func Rotated(rec *evlog.DomainRecord, now time.Time) ([]*evlog.Event, error) {
	var taken []string
	for _, k := range rec.GetDkimKeys() {
		taken = append(taken, k.GetSelector())
	}
	keys, err := NewKeys(now, taken)
	if err != nil {
		return nil, err
	}
	out := make([]*evlog.Event, 0, len(keys))
	for _, k := range keys {
		out = append(out, &evlog.Event{Kind: &evlog.Event_DkimKeyAdded{DkimKeyAdded: &evlog.DkimKeyAdded{
			Domain: rec.GetDomain(), Key: k}}})
	}
	return out, nil
}

// Signer parses a key's private half. It is an ed25519.PrivateKey or an
// *rsa.PrivateKey, which is what go-msgauth's dkim signer takes.
func Signer(k *evlog.DkimKey) (crypto.Signer, error) {
	priv, err := x509.ParsePKCS8PrivateKey(k.GetPrivateKey())
	if err != nil {
		return nil, fmt.Errorf("domains: DKIM key %s: %w", k.GetSelector(), err)
	}
	switch p := priv.(type) {
	case ed25519.PrivateKey:
		if k.GetAlgorithm() == evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519 {
			return p, nil
		}
	case *rsa.PrivateKey:
		if k.GetAlgorithm() == evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA {
			return p, nil
		}
	}
	return nil, fmt.Errorf("domains: DKIM key %s: a %T is not a %v key", k.GetSelector(), priv, k.GetAlgorithm())
}

// KeyRecord is the DKIM key record (RFC 6376 §3.6.1) publishing k's
// public half: "v=DKIM1; k=ed25519; p=..." with the raw 32-byte key (RFC
// 8463 §4.2), or "v=DKIM1; k=rsa; p=..." with the SubjectPublicKeyInfo
// DER (RFC 6376 §3.6.1, p= tag).
func KeyRecord(k *evlog.DkimKey) (string, error) {
	s, err := Signer(k)
	if err != nil {
		return "", err
	}
	switch p := s.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(p), nil
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return "", fmt.Errorf("domains: DKIM key %s: %w", k.GetSelector(), err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
	return "", fmt.Errorf("domains: DKIM key %s: unknown public key", k.GetSelector())
}
