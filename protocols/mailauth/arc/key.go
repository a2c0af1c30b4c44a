package arc

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
)

// LookupTXT answers a DNS TXT query: one string per record, the
// character-strings of a record joined (as net.Resolver.LookupTXT and
// protocols/dns's Resolver.LookupTXT do). A name that does not exist, or
// has no TXT record, is reported as a *net.DNSError with IsNotFound set, or
// as an empty answer; any other error is taken as temporary.
type LookupTXT func(ctx context.Context, name string) ([]string, error)

// minRSABits is the smallest RSA key accepted: RFC 8301 §3.2 forbids
// signing with less than 1024 bits, so a shorter key proves nothing.
const minRSABits = 1024

// publicKey is a key published in a DKIM key record (RFC 6376 §3.6.1).
type publicKey struct {
	keyType string // "rsa" or "ed25519"
	key     crypto.PublicKey
}

// keyName is where the key of selector s for domain d is published
// (RFC 6376 §3.6.2.1), which ARC reuses (RFC 8617 §4.1.3, §4.1.2).
func keyName(selector, domain string) string {
	return selector + "._domainkey." + domain
}

// lookupKey fetches and parses the key for selector and domain. A DNS
// error that is not "not found" is returned wrapped in ErrTemporary.
func lookupKey(ctx context.Context, lookup LookupTXT, selector, domain string) (*publicKey, error) {
	name := keyName(selector, domain)
	txts, err := lookup(ctx, name)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			// RFC 6376 §6.1.2: no key record is a permanent failure.
			return nil, fmt.Errorf("no key record at %s", name)
		}
		// RFC 6376 §6.1.2: a query that fails for another reason is
		// TEMPFAIL; RFC 8617 §5.2 keeps DKIM's key retrieval.
		return nil, fmt.Errorf("%w: key record %s: %w", ErrTemporary, name, err)
	}
	if len(txts) == 0 {
		return nil, fmt.Errorf("no key record at %s", name)
	}
	var firstErr error
	for _, txt := range txts {
		// RFC 6376 §3.6.2.2: more than one record is a configuration
		// error; take the first one that is a usable key.
		k, err := parseKeyRecord(txt)
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, fmt.Errorf("key record %s: %w", name, firstErr)
}

// parseKeyRecord parses a DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4).
func parseKeyRecord(txt string) (*publicKey, error) {
	tags, err := parseTags(txt)
	if err != nil {
		return nil, err
	}
	if v, ok := tags.get("v"); ok && (v != "DKIM1" || tags[0].name != "v") {
		// RFC 6376 §3.6.1: v= must be first and "DKIM1".
		return nil, fmt.Errorf("unsupported key record version %q", v)
	}
	if h, ok := tags.get("h"); ok && !containsFold(splitColon(h), "sha256") {
		// RFC 6376 §3.6.1 h=: the hash algorithms the key may be used with.
		return nil, errors.New("key record does not allow sha256")
	}
	if s, ok := tags.get("s"); ok && !containsFold(splitColon(s), "*") && !containsFold(splitColon(s), "email") {
		// RFC 6376 §3.6.1 s=: a key for another service.
		return nil, fmt.Errorf("key record service type %q is not email", s)
	}
	keyType := "rsa" // RFC 6376 §3.6.1 k=: default rsa
	if k, ok := tags.get("k"); ok {
		keyType = strings.ToLower(k)
	}
	p, ok := tags.get("p")
	if !ok {
		return nil, errors.New("key record has no p=")
	}
	p = stripFWS(p)
	if p == "" {
		// RFC 6376 §3.6.1 p=: an empty value means the key was revoked.
		return nil, errors.New("key revoked (empty p=)")
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("p= is not base64: %w", err)
	}
	switch keyType {
	case "rsa":
		pub, err := parseRSAKey(der)
		if err != nil {
			return nil, err
		}
		if pub.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("RSA key of %d bits is shorter than %d (RFC 8301 §3.2)", pub.N.BitLen(), minRSABits)
		}
		return &publicKey{keyType: "rsa", key: pub}, nil
	case "ed25519":
		// RFC 8463 §4: p= is the raw 32-byte public key.
		if len(der) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 key is %d bytes, not %d", len(der), ed25519.PublicKeySize)
		}
		return &publicKey{keyType: "ed25519", key: ed25519.PublicKey(der)}, nil
	default:
		return nil, fmt.Errorf("unsupported key type %q", keyType)
	}
}

// parseRSAKey reads an RSA key as SubjectPublicKeyInfo, what RFC 6376
// §3.6.1 shows and most domains publish, or as a bare PKCS#1
// RSAPublicKey, which some publish.
func parseRSAKey(der []byte) (*rsa.PublicKey, error) {
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("k=rsa but p= holds a %T", pub)
		}
		return rsaPub, nil
	}
	pub, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("p= is not an RSA public key: %w", err)
	}
	return pub, nil
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
