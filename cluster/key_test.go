package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKey(t *testing.T) {
	key, _ := GenerateKey()
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := GenerateKeyFile(file); err != nil {
		t.Fatal(err)
	}
	if err := GenerateKeyFile(file); err == nil {
		t.Fatal("GenerateKeyFile overwrote an existing key")
	}
	if info, _ := os.Stat(file); info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", info.Mode().Perm())
	}
	fromFile, err := LoadKey("", file)
	if err != nil || len(fromFile) != KeySize {
		t.Fatalf("LoadKey(file) = %d bytes, %v", len(fromFile), err)
	}
	cases := []struct {
		name, env, file  string
		wantNil, wantErr bool
	}{
		{name: "env wins", env: EncodeKey(key), file: file},
		{name: "env with newline", env: EncodeKey(key) + "\n"},
		{name: "unpadded", env: strings.TrimRight(EncodeKey(key), "=")},
		{name: "file", file: file},
		{name: "none", wantNil: true},
		{name: "short", env: EncodeKey(key[:16]), wantErr: true},
		{name: "not base64", env: "%%%", wantErr: true},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: true},
	}
	for _, tc := range cases {
		got, err := LoadKey(tc.env, tc.file)
		switch {
		case tc.wantErr && err == nil:
			t.Errorf("%s: no error", tc.name)
		case !tc.wantErr && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantNil && got != nil:
			t.Errorf("%s: got a key", tc.name)
		case !tc.wantErr && !tc.wantNil && len(got) != KeySize:
			t.Errorf("%s: %d bytes", tc.name, len(got))
		}
	}
}

func TestNoKeyMeansLoopbackOnly(t *testing.T) {
	base := Config{NodeID: "n1", DataDir: t.TempDir(), RaftAddr: "127.0.0.1:1", GossipAddr: "127.0.0.1:2", StateMachine: &memSM{}}
	for _, tc := range []struct {
		name   string
		change func(*Config)
	}{
		{"raft", func(c *Config) { c.RaftAddr = "192.0.2.1:7001" }},
		{"gossip", func(c *Config) { c.GossipAddr = "0.0.0.0:7101" }},
		{"join", func(c *Config) { c.Join = []string{"198.51.100.7:7101"} }},
	} {
		cfg := base
		tc.change(&cfg)
		if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "not loopback") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		key, _ := GenerateKey()
		cfg.Key = key
		if err := cfg.validate(); err != nil {
			t.Errorf("%s with key: %v", tc.name, err)
		}
	}
}

func TestClusterTLSTrustsOnlyTheSameKey(t *testing.T) {
	a, _ := GenerateKey()
	b, _ := GenerateKey()
	ta1, err := clusterTLS(a)
	if err != nil {
		t.Fatal(err)
	}
	ta2, _ := clusterTLS(a)
	tb, _ := clusterTLS(b)
	if err := chainVerifies(ta1, ta2); err != nil {
		t.Fatalf("two nodes with the same key do not trust each other: %v", err)
	}
	if err := chainVerifies(ta1, tb); err == nil {
		t.Fatal("a node with another key is trusted")
	}
}

// chainVerifies checks the certificate that `from` presents against the
// CA that `to` trusts, as the TLS handshake does.
func chainVerifies(from, to *tls.Config) error {
	leaf, err := x509.ParseCertificate(from.Certificates[0].Certificate[0])
	if err != nil {
		return err
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		DNSName:   peerName,
		Roots:     to.RootCAs,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return err
}

func TestRestartWithAnotherKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, _ := GenerateKey()
	b, _ := GenerateKey()
	if err := checkKey(dir, a); err != nil {
		t.Fatal(err)
	}
	if err := checkKey(dir, a); err != nil {
		t.Fatalf("same key refused: %v", err)
	}
	if err := checkKey(dir, b); err == nil || !strings.Contains(err.Error(), "differs") {
		t.Fatalf("other key: err = %v", err)
	}
	if err := checkKey(dir, nil); err == nil {
		t.Fatal("no key accepted for a keyed data directory")
	}
}
