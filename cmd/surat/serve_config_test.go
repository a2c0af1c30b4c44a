package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/outbound"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// baseArgs is a valid command line, as the acceptance harness builds it.
func baseArgs(data string) []string {
	return []string{"--id", "n1", "--data", data,
		"--raft", "127.0.0.1:7001", "--gossip", "127.0.0.1:7101",
		"--join", "127.0.0.1:7102,127.0.0.1:7103", "--bootstrap-expect", "3",
		"--domain", "Example.TEST", "--smtp", "127.0.0.1:2525", "--submission", "127.0.0.1:5870",
		"--imap", "127.0.0.1:1430", "--pop3", "127.0.0.1:1100", "--http", "127.0.0.1:8080",
		"--smarthost", "127.0.0.1:2600", "--max-message-size", "1048576", "--resolver", "none"}
}

// with replaces or appends flag values in args.
func with(args []string, kv ...string) []string {
	out := slices.Clone(args)
	for i := 0; i < len(kv); i += 2 {
		j := slices.Index(out, kv[i])
		if j >= 0 && kv[i+1] == "<drop>" {
			out = slices.Delete(out, j, j+2)
		} else if j >= 0 {
			out[j+1] = kv[i+1]
		} else {
			out = append(out, kv[i], kv[i+1])
		}
	}
	return out
}

func TestParseServeValid(t *testing.T) {
	data := filepath.Join(t.TempDir(), "n1", "data")
	c, err := parseServe(baseArgs(data), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "n1" || c.Data != data || c.BootstrapExpect != 3 || c.MaxMessageSize != 1048576 {
		t.Errorf("config %+v", c)
	}
	if !slices.Equal(c.Join, []string{"127.0.0.1:7102", "127.0.0.1:7103"}) || !slices.Equal(c.Domains, []string{"example.test"}) {
		t.Errorf("join %v domains %v", c.Join, c.Domains)
	}
	if _, ok := c.Resolver.(dns.None); !ok {
		t.Errorf("resolver %T, want dns.None", c.Resolver)
	}
	if c.ClusterKey != nil {
		t.Error("a key appeared from nowhere")
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Error("parsing created --data")
	}

	// Defaults: no --resolver means no DNS.
	c, err = parseServe([]string{"--id", "n1", "--data", data}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Resolver.(dns.None); !ok || c.HTTP != defaultHTTP || c.SMTP != "" {
		t.Errorf("defaults: resolver %T http %q smtp %q", c.Resolver, c.HTTP, c.SMTP)
	}
	if c.RaftHeartbeat != 200*time.Millisecond || c.RaftElection != 200*time.Millisecond || c.RaftLease != 100*time.Millisecond {
		t.Errorf("raft defaults: heartbeat %v election %v lease %v", c.RaftHeartbeat, c.RaftElection, c.RaftLease)
	}
	if c, err := parseServe([]string{"--id", "n1", "--data", data, "--raft-heartbeat-timeout", "1s",
		"--raft-election-timeout", "1s", "--raft-lease-timeout", "500ms"}, envOf(nil)); err != nil || c.RaftLease != 500*time.Millisecond || c.RaftHeartbeat != time.Second {
		t.Errorf("raft flags for a slow network: %+v, %v", c, err)
	}
	if c.SnapshotThreshold != 8192 || c.SnapshotInterval != time.Minute || c.TrailingLogs != 10240 {
		t.Errorf("snapshot defaults: threshold %d interval %v trailing %d", c.SnapshotThreshold, c.SnapshotInterval, c.TrailingLogs)
	}
	c, err = parseServe([]string{"--id", "n1", "--data", data, "--snapshot-threshold", "64",
		"--snapshot-interval", "500ms", "--trailing-logs", "10"}, envOf(nil))
	if err != nil || c.SnapshotThreshold != 64 || c.SnapshotInterval != 500*time.Millisecond || c.TrailingLogs != 10 {
		t.Errorf("snapshot flags: %+v, %v", c, err)
	}
	for _, tc := range []struct {
		args []string
		want uint64
	}{
		{nil, 256 << 20},
		{[]string{"--min-free-space", "0"}, 0},
		{[]string{"--min-free-space", "67108864"}, 64 << 20},
	} {
		c, err = parseServe(append([]string{"--id", "n1", "--data", data}, tc.args...), envOf(nil))
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		} else if c.MinFreeSpace != tc.want {
			t.Errorf("%v: min free space %d, want %d", tc.args, c.MinFreeSpace, tc.want)
		}
	}
}

func TestParseServeRefusals(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("not a directory\n"), 0o644)
	readonly := filepath.Join(dir, "ro")
	os.Mkdir(readonly, 0o555)
	keyFile := filepath.Join(dir, "key")
	if err := cluster.GenerateKeyFile(keyFile); err != nil {
		t.Fatal(err)
	}
	badKey := filepath.Join(dir, "badkey")
	os.WriteFile(badKey, []byte("c2hvcnQ=\n"), 0o600)
	data := filepath.Join(dir, "data")
	base := baseArgs(data)

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // substring of the error
	}{
		{"unknown flag", append(slices.Clone(base), "--no-such-flag-acceptance"), nil, "flag provided but not defined"},
		{"positional", append(slices.Clone(base), "extra"), nil, "unexpected argument"},
		{"missing id", with(base, "--id", "<drop>"), nil, "--id is required"},
		{"bad id", with(base, "--id", "n 1"), nil, "--id"},
		{"missing data", with(base, "--data", "<drop>"), nil, "--data is required"},
		{"data is a file", with(base, "--data", file), nil, "not a directory"},
		{"data under a file", with(base, "--data", filepath.Join(file, "sub")), nil, "not a directory"},
		{"bad raft", with(base, "--raft", "127.0.0.1"), nil, "--raft"},
		{"raft port zero", with(base, "--raft", "127.0.0.1:0"), nil, "--raft"},
		{"raft unspecified", with(base, "--raft", "0.0.0.0:7001"), map[string]string{"SURAT_CLUSTER_KEY": ""}, "--raft"},
		{"bad gossip", with(base, "--gossip", "x:y"), nil, "--gossip"},
		{"bad join", with(base, "--join", "127.0.0.1:7102,nope"), nil, "--join"},
		{"bad smtp", with(base, "--smtp", "2525"), nil, "--smtp"},
		{"same port twice", with(base, "--imap", "127.0.0.1:1100"), nil, "both use"},
		{"bad bootstrap-expect", with(base, "--bootstrap-expect", "three"), nil, "--bootstrap-expect"},
		{"negative bootstrap-expect", with(base, "--bootstrap-expect", "-1"), nil, "--bootstrap-expect"},
		{"bad domain", with(base, "--domain", "exa mple.test"), nil, "--domain"},
		{"bad max-message-size", with(base, "--max-message-size", "big"), nil, "--max-message-size"},
		{"tiny max-message-size", with(base, "--max-message-size", "10"), nil, "--max-message-size"},
		{"tiny snapshot-threshold", with(base, "--snapshot-threshold", "1"), nil, "--snapshot-threshold"},
		{"bad snapshot-interval", with(base, "--snapshot-interval", "soon"), nil, "--snapshot-interval"},
		{"zero trailing-logs", with(base, "--trailing-logs", "0"), nil, "--trailing-logs"},
		{"lease above heartbeat", with(base, "--raft-lease-timeout", "300ms"), nil, "--raft-lease-timeout"},
		{"tiny heartbeat", with(base, "--raft-heartbeat-timeout", "1ms"), nil, "--raft-heartbeat-timeout"},
		{"bad election timeout", with(base, "--raft-election-timeout", "fast"), nil, "--raft-election-timeout"},
		{"bad min-free-space", with(base, "--min-free-space", "1G"), nil, "--min-free-space"},
		{"negative min-free-space", with(base, "--min-free-space", "-1"), nil, "--min-free-space"},
		{"tiny min-free-space", with(base, "--min-free-space", "4096"), nil, "--min-free-space"},
		{"bad resolver", with(base, "--resolver", "8.8.8.8"), nil, "--resolver"},
		{"bad resolver-dnssec", with(base, "--resolver-dnssec", "maybe"), nil, "--resolver-dnssec"},
		{"resolver-dnssec without a server", with(base, "--resolver-dnssec", "true"), nil, "--resolver-dnssec"},
		{"resolver-dnssec with system", with(base, "--resolver", "system", "--resolver-dnssec", "true"), nil, "--resolver-dnssec"},
		{"cert without key", with(base, "--tls-cert", file), nil, "go together"},
		{"unreadable cert", with(base, "--tls-cert", file, "--tls-key", file), nil, "tlsconf"},
		{"bad log level", with(base, "--log-level", "loud"), nil, "--log-level"},
		{"bad log format", with(base, "--log-format", "xml"), nil, "--log-format"},
		{"http not loopback without token", with(base, "--http", "0.0.0.0:8080"), nil, "SURAT_ADMIN_TOKEN"},
		{"http all interfaces without token", with(base, "--http", ":8080"), nil, "SURAT_ADMIN_TOKEN"},
		{"raft not loopback without key", with(base, "--raft", "10.0.0.1:7001"), nil, "SURAT_CLUSTER_KEY"},
		{"join not loopback without key", with(base, "--join", "10.0.0.2:7101"), nil, "--join 10.0.0.2:7101 is not a loopback"},
		{"bad key in env", base, map[string]string{"SURAT_CLUSTER_KEY": "!!"}, "cluster key"},
		{"short key file", with(base, "--cluster-key-file", badKey), nil, "cluster key"},
		{"missing key file", with(base, "--cluster-key-file", filepath.Join(dir, "none")), nil, "cluster key"},
		{"missing config", with(base, "--config", filepath.Join(dir, "none.conf")), nil, "config"},
	}
	if os.Geteuid() != 0 { // root may write anywhere
		tests = append(tests, struct {
			name string
			args []string
			env  map[string]string
			want string
		}{"data not writable", with(base, "--data", filepath.Join(readonly, "data")), nil, "not writable"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseServe(tc.args, envOf(tc.env))
			if err == nil {
				t.Fatal("accepted")
			}
			if _, ok := err.(*usageError); !ok {
				t.Errorf("error %T is not a usage error", err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q lacks %q", msg, tc.want)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Fatal("a refused command line created --data")
			}
		})
	}

	// The same command lines with a key and a token are fine.
	okCases := [][]string{
		with(base, "--http", "0.0.0.0:8080"),
		with(base, "--raft", "10.0.0.1:7001", "--cluster-key-file", keyFile),
	}
	for _, args := range okCases {
		if _, err := parseServe(args, envOf(map[string]string{"SURAT_ADMIN_TOKEN": "t"})); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestConfigFilePrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "surat.conf")
	os.WriteFile(conf, []byte(`# a node
id = from-file
data = `+filepath.Join(dir, "data")+`
domain = example.test, other.test   # two domains
--smtp = 127.0.0.1:2525
max-message-size = "2097152"

http = 127.0.0.1:9090
`), 0o644)
	c, err := parseServe([]string{"--config", conf, "--http", "127.0.0.1:8081"}, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "from-file" || c.HTTP != "127.0.0.1:8081" || c.SMTP != "127.0.0.1:2525" || c.MaxMessageSize != 2097152 {
		t.Errorf("config %+v", c)
	}
	if !slices.Equal(c.Domains, []string{"example.test", "other.test"}) {
		t.Errorf("domains %v", c.Domains)
	}

	for name, body := range map[string]string{
		"unknown setting":  "id = n1\nno-such = 1\n",
		"config in config": "config = other\n",
		"no equals":        "id n1\n",
		"duplicate":        "id = a\nid = b\n",
		"bad value":        "id = n1\ndata = " + dir + "\nbootstrap-expect = x\n",
		"open quote":       "id = \"n1\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".conf")
		os.WriteFile(p, []byte(body), 0o644)
		_, err := parseServe([]string{"--config", p}, envOf(nil))
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// --hostname names the node (CONTRACT.md, "Common to all of them"); without
// it the OS host name, which must then be a domain name.
func TestParseServeHostname(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	c, err := parseServe(append(baseArgs(data), "--hostname", "MX.Example.TEST."), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hostname != "mx.example.test" {
		t.Errorf("hostname %q, want mx.example.test", c.Hostname)
	}
	// Not the first --domain any more: the default is the host name.
	c, err = parseServe(baseArgs(data), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := os.Hostname(); c.Hostname != strings.ToLower(strings.TrimSuffix(h, ".")) {
		t.Errorf("default hostname %q, want the OS host name %q", c.Hostname, h)
	}
	if _, err := parseServe(append(baseArgs(data), "--hostname", "mx_1.example.test"), envOf(nil)); err == nil ||
		!strings.Contains(err.Error(), "--hostname") {
		t.Errorf("bad --hostname: err %v", err)
	}
	for _, tc := range []struct {
		os      string
		osErr   error
		want    string
		wantErr string
	}{
		{"node7.example.net", nil, "node7.example.net", ""},
		{"Laptop", nil, "laptop", ""},
		{"my_box", nil, "", "set --hostname"},
		{"", os.ErrNotExist, "", "set --hostname"},
	} {
		got, err := mailHostname("", func() (string, error) { return tc.os, tc.osErr })
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("os host name %q: err %v, want %q", tc.os, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("os host name %q: %q, %v; want %q", tc.os, got, err, tc.want)
		}
	}
	// From the config file too.
	conf := filepath.Join(t.TempDir(), "surat.conf")
	os.WriteFile(conf, []byte("hostname = mail.example.test\n"), 0o644)
	if c, err := parseServe(append(baseArgs(data), "--config", conf), envOf(nil)); err != nil || c.Hostname != "mail.example.test" {
		t.Errorf("hostname from config file: %v, %v", c, err)
	}
}

// --smarthost-tls defaults to verify, and to none for a smarthost on
// loopback; credentials never go over a network in plaintext.
func TestParseServeSmarthostTLS(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	base := baseArgs(data) // --smarthost 127.0.0.1:2600
	parse := func(args ...string) (*serveConfig, error) {
		return parseServe(with(base, args...), envOf(nil))
	}
	c, err := parse()
	if err != nil || c.SmarthostTLS != outbound.TLSNone || c.SmarthostAuth != nil {
		t.Fatalf("loopback smarthost: %+v, %v", c, err)
	}
	c, err = parse("--smarthost", "relay.example.net:587")
	if err != nil || c.SmarthostTLS != outbound.TLSVerify {
		t.Fatalf("remote smarthost: %v, %v", c.SmarthostTLS, err)
	}
	if c.DelayWarning != 4*time.Hour {
		t.Errorf("delay warning %v by default", c.DelayWarning)
	}
	if c, err := parse("--delay-warning", "0"); err != nil || c.DelayWarning != 0 {
		t.Errorf("--delay-warning 0: %v", err)
	}
	if _, err := parse("--delay-warning", "5s"); err == nil {
		t.Error("--delay-warning 5s accepted")
	}
	if c.Postmaster != "" {
		t.Errorf("postmaster %q by default (smtp picks postmaster@ the first domain)", c.Postmaster)
	}
	if c, err := parse("--postmaster", "Hostmaster@Example.TEST"); err != nil || c.Postmaster != "hostmaster@example.test" {
		t.Errorf("--postmaster: %v", err)
	}
	if _, err := parse("--postmaster", "nobody"); err == nil {
		t.Error("--postmaster nobody accepted")
	}
	if c.AllowPrivateMX {
		t.Error("--allow-private-mx on by default")
	}
	if c, err := parse("--allow-private-mx", "true"); err != nil || !c.AllowPrivateMX {
		t.Errorf("--allow-private-mx true: %v", err)
	}
	if _, err := parse("--allow-private-mx", "maybe"); err == nil {
		t.Error("--allow-private-mx maybe accepted")
	}
	if r, ok := c.Resolver.(*dns.Client); ok && r.TrustsAD() {
		t.Error("the resolver's AD bit trusted by default")
	}
	for _, dnssec := range []bool{false, true} {
		c, err := parse("--resolver", "127.0.0.1:5353", "--resolver-dnssec", strconv.FormatBool(dnssec))
		if err != nil {
			t.Fatalf("--resolver-dnssec %v: %v", dnssec, err)
		}
		if r, ok := c.Resolver.(*dns.Client); !ok || r.TrustsAD() != dnssec || r.Server() != "127.0.0.1:5353" {
			t.Errorf("--resolver-dnssec %v: resolver %#v", dnssec, c.Resolver)
		}
	}
	c, err = parse("--smarthost-tls", "starttls")
	if err != nil || c.SmarthostTLS != outbound.TLSStartTLS {
		t.Fatalf("starttls: %v, %v", c.SmarthostTLS, err)
	}

	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, selfSignedPEM(t), 0o644)
	c, err = parse("--smarthost", "relay.example.net:587", "--smarthost-ca", caFile)
	if err != nil || c.SmarthostCA == nil {
		t.Fatalf("--smarthost-ca: %v", err)
	}
	authFile := filepath.Join(dir, "auth")
	os.WriteFile(authFile, []byte("relay-user:pa:ss word\r\nignored\n"), 0o600)
	c, err = parse("--smarthost", "relay.example.net:587", "--smarthost-auth-file", authFile)
	if err != nil || c.SmarthostAuth == nil || c.SmarthostAuth.Username != "relay-user" || c.SmarthostAuth.Password != "pa:ss word" {
		t.Fatalf("--smarthost-auth-file: %+v, %v", c.SmarthostAuth, err)
	}
	c, err = parse("--smarthost-auth", "u:p")
	if err != nil || c.SmarthostAuth == nil || c.SmarthostAuth.Username != "u" {
		t.Fatalf("--smarthost-auth on loopback: %+v, %v", c.SmarthostAuth, err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smarthost-tls", "may"}, "--smarthost-tls"},
		{[]string{"--smarthost", "<drop>", "--smarthost-tls", "verify"}, "needs --smarthost"},
		{[]string{"--smarthost-ca", filepath.Join(dir, "none.pem"), "--smarthost-tls", "verify"}, "--smarthost-ca"},
		{[]string{"--smarthost-ca", authFile, "--smarthost-tls", "verify"}, "no PEM certificate"},
		{[]string{"--smarthost-ca", caFile}, "only with --smarthost-tls verify"},
		{[]string{"--smarthost-auth", "nopassword"}, "USER:PASSWORD"},
		{[]string{"--smarthost-auth", "u:p", "--smarthost-auth-file", authFile}, "exclude each other"},
		{[]string{"--smarthost", "relay.example.net:25", "--smarthost-tls", "none", "--smarthost-auth", "u:p"}, "plaintext"},
	} {
		_, err := parse(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

// selfSignedPEM is a self-signed certificate in PEM, to use as a CA file.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	if _, err := tlsconf.Certificate(tlsconf.Options{DataDir: dir, Hostnames: []string{"ca.test"}}); err != nil {
		t.Fatal(err)
	}
	cert, err := os.ReadFile(filepath.Join(dir, tlsconf.Dir, tlsconf.CertName))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
