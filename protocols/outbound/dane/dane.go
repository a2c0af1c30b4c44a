// Package dane authenticates an SMTP server's certificate with DANE TLSA
// records (RFC 6698, RFC 7672): which records are usable for SMTP, and
// whether a presented chain matches them. Looking the records up, and
// trusting them only when a validating resolver vouched for them (the AD
// bit), is the caller's; so is deciding what a failure means for delivery.
package dane

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
)

// Certificate usages, selectors and matching types (RFC 6698 §2.1; RFC
// 7218 names).
const (
	UsageDANETA = 2 // trust anchor: a certificate in the chain
	UsageDANEEE = 3 // end entity: the server's own certificate or key

	SelectorCert = 0 // the whole certificate (DER)
	SelectorSPKI = 1 // its SubjectPublicKeyInfo (DER)

	MatchFull   = 0 // the selected data itself
	MatchSHA256 = 1
	MatchSHA512 = 2
)

// Record is one TLSA record, as the resolver returns it; its String is
// the presentation form ("3 1 1 abcd..."), which RFC 8460 §4.4 reports as
// a tlsa policy-string.
type Record = dns.TLSA

// IsUsable reports whether SMTP may use the record (RFC 7672 §3.1): usage
// DANE-TA(2) or DANE-EE(3) (PKIX-TA and PKIX-EE are not for SMTP, §3.1.3),
// a known selector and matching type, and data of the digest's length.
func IsUsable(r Record) bool {
	if r.Usage != UsageDANETA && r.Usage != UsageDANEEE {
		return false
	}
	if r.Selector != SelectorCert && r.Selector != SelectorSPKI {
		return false
	}
	switch r.MatchingType {
	case MatchFull:
		return len(r.Data) > 0
	case MatchSHA256:
		return len(r.Data) == sha256.Size
	case MatchSHA512:
		return len(r.Data) == sha512.Size
	}
	return false
}

// Usable returns the records SMTP may use.
func Usable(rs []Record) []Record {
	var out []Record
	for _, r := range rs {
		if IsUsable(r) {
			out = append(out, r)
		}
	}
	return out
}

// Resolver looks up TLSA records (dns.Resolver has it). secure reports
// that a validating resolver the operator trusts vouched for the answer
// (the AD bit); an insecure answer must not be used (RFC 7672 §2.1.1).
type Resolver interface {
	LookupTLSA(ctx context.Context, name string) (records []Record, secure bool, err error)
}

// Name is the TLSA owner name of an SMTP server (RFC 7672 §2.2.3):
// _PORT._tcp.HOST.
func Name(host string, port int) string {
	return "_" + strconv.Itoa(port) + "._tcp." + strings.TrimSuffix(host, ".")
}

// ErrNoMatch is a chain that matches none of the records.
var ErrNoMatch = errors.New("dane: the certificate matches no TLSA record")

// Verify checks a server's chain (leaf first, as presented) against usable
// records; names are the reference identifiers a DANE-TA chain must match
// (the MX host name, RFC 7672 §3.2.2). One matching record suffices.
// DANE-EE(3) matches the leaf alone, ignoring its names and validity dates
// (RFC 7672 §3.1.1); DANE-TA(2) takes the matching certificate of the
// chain as trust anchor and verifies the leaf up to it, with names and
// dates (§3.1.2).
func Verify(chain []*x509.Certificate, records []Record, names []string, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("dane: the server presented no certificate")
	}
	var taErr error
	for _, r := range records {
		if !IsUsable(r) {
			continue
		}
		switch r.Usage {
		case UsageDANEEE:
			if matches(chain[0], r) {
				return nil
			}
		case UsageDANETA:
			for _, ca := range chain {
				if !matches(ca, r) {
					continue
				}
				err := verifyTA(chain, ca, names, now)
				if err == nil {
					return nil
				}
				taErr = err
			}
		}
	}
	if taErr != nil {
		return taErr
	}
	return ErrNoMatch
}

func verifyTA(chain []*x509.Certificate, ta *x509.Certificate, names []string, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ta)
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	var last error
	for _, name := range names {
		_, err := chain[0].Verify(x509.VerifyOptions{
			DNSName: strings.TrimSuffix(name, "."), Roots: roots, Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err == nil {
			return nil
		}
		last = fmt.Errorf("dane: DANE-TA: %w", err)
	}
	if last == nil {
		last = errors.New("dane: DANE-TA: no name to verify")
	}
	return last
}

func matches(c *x509.Certificate, r Record) bool {
	var data []byte
	switch r.Selector {
	case SelectorCert:
		data = c.Raw
	case SelectorSPKI:
		data = c.RawSubjectPublicKeyInfo
	default:
		return false
	}
	switch r.MatchingType {
	case MatchSHA256:
		sum := sha256.Sum256(data)
		data = sum[:]
	case MatchSHA512:
		sum := sha512.Sum512(data)
		data = sum[:]
	case MatchFull:
	default:
		return false
	}
	return bytes.Equal(data, r.Data)
}
