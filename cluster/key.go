package cluster

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeySize is the length of a cluster key in bytes.
const KeySize = 32

// peerName is the name every node's certificate carries and every dialer
// expects: identity comes from the cluster CA, not from host names.
const peerName = "surat-node"

// developmentKey is used when no cluster key is configured. It is public,
// so a node using it accepts only loopback addresses.
var developmentKey = sha256.Sum256([]byte("surat development cluster key: loopback only"))

// GenerateKey returns a new random cluster key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate cluster key: %w", err)
	}
	return key, nil
}

// EncodeKey renders a key as it is written to key files and SURAT_CLUSTER_KEY.
func EncodeKey(key []byte) string {
	return base64.StdEncoding.EncodeToString(key)
}

// GenerateKeyFile writes a new key to path, readable by its owner only.
// It refuses to overwrite an existing file.
func GenerateKeyFile(path string) error {
	key, err := GenerateKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(EncodeKey(key) + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync key file %s: %w", path, err)
	}
	return f.Close()
}

// LoadKey returns the cluster key from the environment value (base64) or,
// when that is empty, from the key file. Both empty: nil, no error (the
// node then runs on loopback only).
func LoadKey(envValue, filePath string) ([]byte, error) {
	text := strings.TrimSpace(envValue)
	source := "SURAT_CLUSTER_KEY"
	if text == "" && filePath != "" {
		raw, err := os.ReadFile(filePath)
		if err != nil {
			return nil, fmt.Errorf("read cluster key: %w", err)
		}
		text = strings.TrimSpace(string(raw))
		source = filePath
	}
	if text == "" {
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(text)
	}
	if err != nil || len(key) != KeySize {
		return nil, fmt.Errorf("cluster key from %s: want %d bytes in base64 (make one with 'surat cluster keygen')", source, KeySize)
	}
	return key, nil
}

// secrets holds everything derived from the cluster key.
type secrets struct {
	gossipKey []byte
	tls       *tls.Config
}

func deriveSecrets(key []byte) (*secrets, error) {
	if key == nil {
		key = developmentKey[:]
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("cluster key must be %d bytes", KeySize)
	}
	gossipKey, err := hkdf.Key(sha256.New, key, nil, "surat gossip v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive gossip key: %w", err)
	}
	tlsConf, err := clusterTLS(key)
	if err != nil {
		return nil, err
	}
	return &secrets{gossipKey: gossipKey, tls: tlsConf}, nil
}

// clusterTLS builds a mutual TLS 1.3 configuration in which a peer is
// trusted iff its certificate is signed by a CA whose private key is derived
// from the cluster key. Every holder of the key can derive the CA, so the key
// is the membership credential, and no certificate files need distributing.
func clusterTLS(key []byte) (*tls.Config, error) {
	seed, err := hkdf.Key(sha256.New, key, nil, "surat cluster ca v1", ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive cluster CA: %w", err)
	}
	caKey := ed25519.NewKeyFromSeed(seed)
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "surat cluster CA"},
		NotBefore:             epoch,
		NotAfter:              epoch.AddDate(200, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("make cluster CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse cluster CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)

	leafPub, leafKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make node key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, fmt.Errorf("make serial: %w", err)
	}
	now := time.Now()
	leafTemplate := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: peerName},
		DNSNames:     []string{peerName},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTemplate, caCert, leafPub, caKey)
	if err != nil {
		return nil, fmt.Errorf("make node certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ServerName:   peerName,
		MinVersion:   tls.VersionTLS13,
	}, nil
}

// keyCheckFile records, in the Raft directory, a fingerprint of the key
// the node's state was made with, so that a restart with another key is a
// clear error rather than a node that silently cannot reach its peers.
const keyCheckFile = "cluster-key.check"

func keyFingerprint(key []byte) string {
	if key == nil {
		key = developmentKey[:]
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("surat cluster key check v1"))
	return hex.EncodeToString(mac.Sum(nil))
}

// checkKey compares the key with the fingerprint stored in dir, writing it
// on first use.
func checkKey(dir string, key []byte) error {
	path := filepath.Join(dir, keyCheckFile)
	want := keyFingerprint(key)
	got, err := os.ReadFile(path)
	switch {
	case err == nil:
		if strings.TrimSpace(string(got)) != want {
			if key == nil {
				return errors.New("this data directory belongs to a cluster with a key, and no cluster key is set")
			}
			return errors.New("the cluster key differs from the one this data directory was created with")
		}
		return nil
	case errors.Is(err, os.ErrNotExist):
		if err := os.WriteFile(path, []byte(want+"\n"), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	default:
		return fmt.Errorf("read %s: %w", path, err)
	}
}

// requireLoopback refuses non-loopback addresses for a node without a key.
func requireLoopback(what, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s address %q: %w", what, addr, err)
	}
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return errors.New(what + " address " + addr + " is not loopback: set SURAT_CLUSTER_KEY or --cluster-key-file to run a cluster across hosts")
}
