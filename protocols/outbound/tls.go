package outbound

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// TLSMode is how the connection to the smarthost is protected. The zero
// value is the safe one.
type TLSMode int

const (
	// TLSVerify: STARTTLS is required and the certificate must verify
	// against the system roots (or Transport.SmarthostCA) for the
	// smarthost's name. Anything less is a temporary failure.
	TLSVerify TLSMode = iota
	// TLSStartTLS: STARTTLS is required; the certificate is not verified
	// (encryption against a passive listener only).
	TLSStartTLS
	// TLSNone: plaintext; STARTTLS is not attempted.
	TLSNone
)

// ParseTLSMode reads verify, starttls or none.
func ParseTLSMode(s string) (TLSMode, error) {
	switch strings.ToLower(s) {
	case "verify":
		return TLSVerify, nil
	case "starttls":
		return TLSStartTLS, nil
	case "none":
		return TLSNone, nil
	}
	return 0, fmt.Errorf("want verify, starttls or none, not %q", s)
}

func (m TLSMode) String() string {
	switch m {
	case TLSStartTLS:
		return "starttls"
	case TLSNone:
		return "none"
	}
	return "verify"
}

// Credentials log in to the smarthost with AUTH PLAIN (RFC 4954, RFC 4616).
type Credentials struct {
	Username, Password string
}

// TLS outcomes of a connection, as logged and counted.
const (
	TLSVerified   = "verified"   // TLS, certificate verified
	TLSUnverified = "unverified" // TLS, certificate not checked
	TLSPlaintext  = "plaintext"  // no TLS (not offered, not wanted, or fallen back from)
	TLSFailed     = "failed"     // TLS was required and could not be had: nothing sent
)

// TLSOutcome is how the connection that gave an attempt's answers was
// protected.
type TLSOutcome struct {
	State           string // TLSVerified, TLSUnverified, TLSPlaintext, TLSFailed; "" if no host was reached
	Version, Cipher string // when State is verified or unverified
	Detail          string // why plaintext or failed
}

func tlsOutcome(cs tls.ConnectionState, verified bool) TLSOutcome {
	o := TLSOutcome{State: TLSUnverified, Version: tls.VersionName(cs.Version), Cipher: tls.CipherSuiteName(cs.CipherSuite)}
	if verified {
		o.State = TLSVerified
	}
	return o
}

// tlsPolicy is what one attempt asks of its connections.
type tlsPolicy struct {
	cfg     *tls.Config // nil: no STARTTLS
	require bool        // no STARTTLS or a failed handshake is a temporary failure, never plaintext
}

func (p tlsPolicy) verified() bool { return p.cfg != nil && !p.cfg.InsecureSkipVerify }

// opportunistic is the policy towards MX hosts: STARTTLS when offered, no
// verification (neither MTA-STS nor DANE is implemented), plaintext when
// the handshake fails (RFC 3207 §4; RFC 7435 §3).
func opportunistic() tlsPolicy {
	return tlsPolicy{cfg: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}
}

// smarthostPolicy is the policy for the smarthost, by t.SmarthostTLS.
func (t *Transport) smarthostPolicy() tlsPolicy {
	switch t.SmarthostTLS {
	case TLSNone:
		return tlsPolicy{}
	case TLSStartTLS:
		return tlsPolicy{cfg: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, require: true}
	}
	host, _, err := net.SplitHostPort(t.Smarthost)
	if err != nil {
		host = t.Smarthost
	}
	// An IP address as ServerName is verified against the certificate's
	// IP SANs (crypto/tls).
	return tlsPolicy{cfg: &tls.Config{ServerName: host, RootCAs: t.SmarthostCA, MinVersion: tls.VersionTLS12}, require: true}
}

// errTLSFailed marks a STARTTLS that could not be completed.
var errTLSFailed = errors.New("STARTTLS failed")

// tlsError is a required STARTTLS that failed: a temporary failure with an
// RFC 3463 status (X.7.4 security features not supported: not offered;
// X.7.5 cryptographic failure: refused, handshake or certificate).
type tlsError struct {
	status string
	msg    string
}

func (e *tlsError) Error() string { return e.msg }
func (e *tlsError) Unwrap() error { return errTLSFailed }

// LoadCA reads PEM certificates to trust for the smarthost instead of the
// system roots.
func LoadCA(pemData []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}
