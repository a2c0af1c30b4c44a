package tlsconf

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSelfSignedIsPersistedAndReused(t *testing.T) {
	data := t.TempDir()
	cfg, err := Server(Options{DataDir: data, Hostnames: []string{"example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.VerifyHostname("example.test"); err != nil {
		t.Errorf("certificate does not name example.test: %v", err)
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("certificate does not name 127.0.0.1: %v", err)
	}
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("unexpected key type %T", leaf.PublicKey)
	}
	st, err := os.Stat(filepath.Join(data, Dir, KeyName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}

	again, err := Server(Options{DataDir: data, Hostnames: []string{"example.test", "other.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Certificates[0].Certificate[0]) != string(cfg.Certificates[0].Certificate[0]) {
		t.Error("restart generated a new certificate instead of reusing the stored one")
	}
	entries, _ := os.ReadDir(filepath.Join(data, Dir))
	if len(entries) != 2 {
		t.Errorf("tls dir holds %d entries, want cert and key only", len(entries))
	}
}

func TestOperatorCertificate(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, err := generate([]string{"mail.example.test"}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, certPEM, 0o644)
	os.WriteFile(keyFile, keyPEM, 0o600)
	data := filepath.Join(dir, "data")
	cfg, err := Server(Options{CertFile: certFile, KeyFile: keyFile, DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err := leaf.VerifyHostname("mail.example.test"); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Error("loading an operator certificate wrote to the data directory")
	}

	for _, tc := range []struct{ name, cert, key string }{
		{"cert only", certFile, ""},
		{"key only", "", keyFile},
		{"missing file", filepath.Join(dir, "nope.pem"), keyFile},
		{"swapped", keyFile, certFile},
	} {
		if _, err := Server(Options{CertFile: tc.cert, KeyFile: tc.key, DataDir: data}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestHandshake(t *testing.T) {
	cfg, err := Server(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	// A TLS 1.1 client must be refused.
	if c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	c.Close()
}

// The generated certificate is named after the node's mail host name (the
// first of Hostnames) and covers the mail domains too.
func TestSelfSignedNamesHostnameFirst(t *testing.T) {
	cfg, err := Server(Options{DataDir: t.TempDir(), Hostnames: []string{"mx.example.test", "example.test", "mx.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "mx.example.test" {
		t.Errorf("CommonName %q, want mx.example.test", leaf.Subject.CommonName)
	}
	want := []string{"mx.example.test", "example.test", "localhost"}
	if !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNSNames %v, want %v", leaf.DNSNames, want)
	}
}

// A renamed node (another --hostname) or one on a new admin address gets a
// new self-signed certificate naming it; the old one verified for nobody.
func TestSelfSignedFollowsHostname(t *testing.T) {
	data := t.TempDir()
	leafOf := func(opts Options) *x509.Certificate {
		t.Helper()
		opts.DataDir = data
		cfg, err := Server(opts)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf
	}
	first := leafOf(Options{Hostnames: []string{"mx1.example.test", "example.test"}})
	if same := leafOf(Options{Hostnames: []string{"mx1.example.test", "example.test", "new.test"}}); !same.Equal(first) {
		t.Error("a new mail domain replaced the certificate")
	}
	renamed := leafOf(Options{Hostnames: []string{"mx9.example.test"}})
	if renamed.Equal(first) || renamed.VerifyHostname("mx9.example.test") != nil {
		t.Errorf("renamed node: certificate names %v", renamed.DNSNames)
	}
	withIP := leafOf(Options{Hostnames: []string{"mx9.example.test"}, IPs: []net.IP{net.ParseIP("10.0.0.1")}})
	if withIP.VerifyHostname("10.0.0.1") != nil {
		t.Errorf("IPs %v", withIP.IPAddresses)
	}
}
