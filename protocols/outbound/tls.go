package outbound

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
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
	Detail          string // why plaintext or failed, or why the certificate did not verify
	// check is a certificate check of the recipient's policy that failed
	// without stopping the delivery (MTA-STS testing), for TLS-RPT.
	check *certError
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
	// check, when set, verifies the server's certificate in place of
	// crypto/tls (MTA-STS's Web PKI check for the MX name, DANE). With
	// enforce a failed check fails the handshake; without, it is only
	// reported (MTA-STS testing mode).
	check   func(tls.ConnectionState) *certError
	enforce bool
}

func (p tlsPolicy) verified() bool { return p.cfg != nil && !p.cfg.InsecureSkipVerify }

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
	result tlsrpt.ResultType // the failure as TLS-RPT reports it (RFC 8460 §4.3)
	local  net.Addr          // our end of the connection
}

func (e *tlsError) Error() string { return e.msg }
func (e *tlsError) Unwrap() error { return errTLSFailed }

// certError is a certificate that failed a policy's check.
type certError struct {
	result tlsrpt.ResultType
	err    error
}

func (e *certError) Error() string { return e.err.Error() }
func (e *certError) Unwrap() error { return e.err }

// certResult names a verification failure as RFC 8460 §4.3.1 does.
func certResult(err error) tlsrpt.ResultType {
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &host):
		return tlsrpt.CertificateHostMismatch
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return tlsrpt.CertificateExpired
	case errors.As(err, &unknown):
		return tlsrpt.CertificateNotTrusted
	}
	return tlsrpt.ValidationFailure
}

// LoadCA reads PEM certificates to trust for the smarthost instead of the
// system roots.
func LoadCA(pemData []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}
