// Package tlsconf owns the server TLS configuration of the mail listeners
// (STARTTLS on SMTP, submission, IMAP and POP3; implicit TLS per RFC 8314).
//
// The certificate comes from --tls-cert/--tls-key, or, without them, from a
// self-signed ECDSA P-256 certificate generated once and kept under
// <data>/tls/ so that clients that pinned it see the same one after a restart.
// TLS 1.2 is the minimum (RFC 8996 deprecates 1.0 and 1.1; RFC 8314 §4.1).
// This package does not listen, does not decide which protocol offers TLS,
// and never writes outside <data>/tls/.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names under <data>/tls/.
const (
	Dir      = "tls"
	CertName = "cert.pem"
	KeyName  = "key.pem"
)

// selfSignedValidity is long because nobody renews a self-signed
// certificate; operators who care supply their own.
const selfSignedValidity = 10 * 365 * 24 * time.Hour

// Options say where the certificate comes from.
type Options struct {
	CertFile, KeyFile string   // both or neither
	DataDir           string   // for the self-signed certificate: DataDir/tls/
	Hostnames         []string // DNS names for a generated certificate; the first (the node's --hostname) is its CommonName
	IPs               []net.IP // more IP addresses for a generated certificate (loopback is always in)
	Now               func() time.Time
}

// Server returns the TLS configuration for the mail listeners. With
// CertFile/KeyFile it loads them; otherwise it loads DataDir/tls/, creating a
// self-signed certificate there first when none exists.
func Server(opts Options) (*tls.Config, error) {
	cert, err := Certificate(opts)
	if err != nil {
		return nil, err
	}
	return Config(cert), nil
}

// Config is the server configuration around one certificate.
func Config(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
}

// Certificate returns the certificate Server would use.
func Certificate(opts Options) (tls.Certificate, error) {
	if opts.CertFile != "" || opts.KeyFile != "" {
		return LoadKeyPair(opts.CertFile, opts.KeyFile)
	}
	if opts.DataDir == "" {
		return tls.Certificate{}, errors.New("tlsconf: no certificate given and no data directory for a self-signed one")
	}
	dir := filepath.Join(opts.DataDir, Dir)
	certPath, keyPath := filepath.Join(dir, CertName), filepath.Join(dir, KeyName)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil && covers(cert, opts) {
		return cert, nil
	}
	if err == nil {
		// The node was renamed (--hostname) or given another address:
		// a certificate naming the old one verifies for nobody.
		err = fs.ErrNotExist
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("tlsconf: load self-signed certificate from %s: %w", dir, err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	certPEM, keyPEM, err := generate(opts.Hostnames, opts.IPs, now())
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: %w", err)
	}
	// Key first, certificate last: a crash in between leaves no
	// certificate, and the next start generates a fresh pair.
	if err := writeAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: generated pair: %w", err)
	}
	return cert, nil
}

// LoadKeyPair loads an operator-supplied certificate chain and key (PEM). It
// only reads, so cmd can call it while validating flags.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, errors.New("tlsconf: --tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsconf: load %s and %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}

// covers reports whether a stored self-signed certificate still names
// the node: its first host name and its IPs. Other names (mail domains
// added later) do not force a new certificate on clients that pinned it.
func covers(cert tls.Certificate, opts Options) bool {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return false
	}
	if len(opts.Hostnames) > 0 && opts.Hostnames[0] != "" && leaf.VerifyHostname(opts.Hostnames[0]) != nil {
		return false
	}
	for _, ip := range opts.IPs {
		if leaf.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	return true
}

func generate(hostnames []string, ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: serial: %w", err)
	}
	var names []string
	for _, h := range hostnames {
		if h != "" && h != "localhost" && !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	cn := "localhost"
	if len(names) > 0 {
		cn = names[0]
	}
	names = append(names, "localhost")
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Surat self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, ips...),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsconf: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("tlsconf: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("tlsconf: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("tlsconf: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("tlsconf: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tlsconf: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tlsconf: %w", err)
	}
	return nil
}
