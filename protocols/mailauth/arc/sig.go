package arc

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signature algorithms (RFC 6376 §3.3, RFC 8463 §3). rsa-sha1 is refused:
// RFC 8301 §3.1 forbids it for signing and verifying.
const (
	algRSASHA256     = "rsa-sha256"
	algEd25519SHA256 = "ed25519-sha256"
)

// keyTypeOf returns the key type (k= of the key record) that algorithm a
// needs, or "" if a is not supported.
func keyTypeOf(a string) string {
	switch strings.ToLower(a) {
	case algRSASHA256:
		return "rsa"
	case algEd25519SHA256:
		return "ed25519"
	}
	return ""
}

// signature holds the tags an ARC-Message-Signature or ARC-Seal shares
// with a DKIM-Signature (RFC 8617 §4.1.2, §4.1.3).
type signature struct {
	tags      tagList
	instance  int
	algorithm string // lower case
	domain    string // d=, lower case, no trailing dot
	selector  string
	sig       []byte // b=, decoded
	// bStart, bEnd delimit b='s raw value within the field's value.
	bStart, bEnd int
}

// parseSignature parses the tags common to AMS and AS.
func parseSignature(value []byte) (*signature, error) {
	tags, err := parseTags(string(value))
	if err != nil {
		return nil, err
	}
	s := &signature{tags: tags}
	iv, ok := tags.get("i")
	if !ok {
		return nil, errors.New("missing i=")
	}
	if s.instance, err = parseInstance(iv); err != nil {
		return nil, err
	}
	for _, name := range []string{"a", "b", "d", "s"} {
		if _, ok := tags.get(name); !ok {
			return nil, fmt.Errorf("missing %s=", name)
		}
	}
	a, _ := tags.get("a")
	s.algorithm = strings.ToLower(a)
	if keyTypeOf(s.algorithm) == "" {
		return nil, fmt.Errorf("unsupported algorithm a=%s", a)
	}
	d, _ := tags.get("d")
	s.domain = normalizeDomain(d)
	s.selector, _ = tags.get("s")
	// RFC 6376 §3.5 d=, s=: domain names. Checked here so that a
	// malformed name fails the signature instead of making the key
	// look-up fail as if DNS were down.
	if !isDomainName(s.domain) {
		return nil, fmt.Errorf("invalid d=%s", d)
	}
	if !isDomainName(s.selector) {
		return nil, fmt.Errorf("invalid s=%s", s.selector)
	}
	b, _ := tags.find("b")
	s.bStart, s.bEnd = b.start, b.end
	if s.sig, err = base64.StdEncoding.DecodeString(stripFWS(b.value)); err != nil {
		return nil, fmt.Errorf("b= is not base64: %w", err)
	}
	return s, nil
}

// maxInstance is the largest ARC instance (RFC 8617 §4.2.1: 1 to 50).
const maxInstance = 50

// parseInstance parses an instance value: 1*DIGIT (RFC 8617 §4.2.1). A
// value above maxInstance parses; the chain check refuses it.
func parseInstance(v string) (int, error) {
	if v == "" || len(v) > 6 {
		return 0, fmt.Errorf("invalid instance %q", v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, fmt.Errorf("invalid instance %q", v)
		}
	}
	n, _ := strconv.Atoi(v)
	if n < 1 {
		return 0, fmt.Errorf("invalid instance %q", v)
	}
	return n, nil
}

// isDomainName reports whether s is dot-separated non-empty labels of
// letters, digits, '-' and '_' (selectors and some domains use it), or
// UTF-8 (RFC 8616), at most 253 bytes.
func isDomainName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(isAlpha(c) || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80) {
				return false
			}
		}
	}
	return true
}

func normalizeDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(trimFWS(d)), ".")
}

// withoutB returns the raw field with the value of its b= tag removed,
// surrounding whitespace included (RFC 6376 §3.5 b=, §3.7), and without
// its final CRLF: the signature's own field is hashed without it.
func withoutB(f headerField, s *signature) []byte {
	colon := bytes.IndexByte(f.raw, ':')
	base := colon + 1
	raw := f.raw[:len(f.raw)-len(crlf)]
	out := make([]byte, 0, len(raw))
	out = append(out, raw[:base+s.bStart]...)
	return append(out, raw[base+s.bEnd:]...)
}

// hashSigned returns the SHA-256 digest of the signed header data: the
// selected fields, each canonicalized with its CRLF, then the signature's
// own field canonicalized without b='s value and without a final CRLF
// (RFC 6376 §3.7).
func hashSigned(fields [][]byte, own []byte, c canon) []byte {
	h := sha256.New()
	var buf []byte
	for _, f := range fields {
		buf = canonHeader(buf[:0], f, c)
		h.Write(buf)
	}
	buf = canonHeader(buf[:0], own, c)
	h.Write(bytes.TrimSuffix(buf, crlf))
	return h.Sum(nil)
}

// verifyDigest checks sig over digest with key, for algorithm.
func verifyDigest(key *publicKey, algorithm string, digest, sig []byte) error {
	if key.keyType != keyTypeOf(algorithm) {
		// RFC 6376 §6.1.2 step 6 (k= must match a=).
		return fmt.Errorf("key type %s does not match a=%s", key.keyType, algorithm)
	}
	switch k := key.key.(type) {
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, digest, sig); err != nil {
			return errors.New("signature does not verify")
		}
	case ed25519.PublicKey:
		// RFC 8463 §3: Ed25519 signs the SHA-256 hash of the data.
		if !ed25519.Verify(k, digest, sig) {
			return errors.New("signature does not verify")
		}
	default:
		return fmt.Errorf("unsupported key %T", k)
	}
	return nil
}

// signerAlgorithm returns the a= value for a signer's key.
func signerAlgorithm(s crypto.Signer) (string, error) {
	switch k := s.Public().(type) {
	case ed25519.PublicKey:
		return algEd25519SHA256, nil
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return "", fmt.Errorf("RSA key of %d bits is shorter than %d (RFC 8301 §3.2)", k.N.BitLen(), minRSABits)
		}
		return algRSASHA256, nil
	default:
		return "", fmt.Errorf("unsupported signing key %T (want Ed25519 or RSA)", k)
	}
}

// signDigest signs a SHA-256 digest as algorithm a requires.
func signDigest(s crypto.Signer, a string, digest []byte) ([]byte, error) {
	if a == algEd25519SHA256 {
		// RFC 8463 §3: PureEd25519 over the hash, so no crypto.Hash.
		return s.Sign(rand.Reader, digest, crypto.Hash(0))
	}
	return s.Sign(rand.Reader, digest, crypto.SHA256)
}

// expired reports whether an x= tag lies in the past (RFC 6376 §3.5 x=).
func expired(tags tagList, now time.Time) bool {
	x, ok := tags.get("x")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(x, 10, 64)
	return err == nil && now.Unix() > n
}
