package proc

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNewLayout checks the command lines New gives nodes, without starting
// them: flags, join lists, prefixes, and the secrets that nodes off
// loopback require.
func TestNewLayout(t *testing.T) {
	// A stand-in binary: New runs only `surat cluster keygen`, for nodes
	// off loopback. (Never the test binary itself: it would run the tests.)
	const key = "c3RhbmQtaW4ga2V5IGZvciB0aGUgbGF5b3V0IHRlc3Q="
	bin := filepath.Join(t.TempDir(), "surat")
	script := "#!/bin/sh\n[ \"$1 $2\" = \"cluster keygen\" ] && echo " + key + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		opts       Options
		wantArgs   map[string][]string // node id → flags (with values) its argv must contain
		wantPrefix []string            // argv of n1 starts with it
		wantSecret bool                // key and token in every node's environment
	}{
		{
			name: "loopback defaults",
			opts: Options{Bin: bin},
			wantArgs: map[string][]string{
				"n1": {"serve", "--id n1", "--bootstrap-expect 3", "--domain example.test", "--resolver none"},
				"n3": {"--id n3"},
			},
		},
		{
			name: "namespaces",
			opts: Options{Bin: bin, Size: 2, Domain: "b.test", ExtraArgs: []string{"--log-level", "debug"},
				Node: func(i int) NodeSpec {
					host := []string{"198.18.0.1", "198.18.0.2"}[i]
					return NodeSpec{ID: "h" + string(rune('1'+i)), Host: host,
						Ports:  Ports{Raft: 7001, Gossip: 7101, SMTP: 25, IMAP: 143, POP3: 110, HTTP: 8080},
						Prefix: []string{"ip", "netns", "exec", "ns-" + host}}
				}},
			wantArgs: map[string][]string{
				"h1": {"--raft 198.18.0.1:7001", "--join 198.18.0.2:7101", "--smtp 198.18.0.1:25", "--http 198.18.0.1:8080", "--bootstrap-expect 2", "--domain b.test", "--log-level debug"},
				"h2": {"--gossip 198.18.0.2:7101", "--join 198.18.0.1:7101"},
			},
			wantPrefix: []string{"ip", "netns", "exec", "ns-198.18.0.1", bin, "serve"},
			wantSecret: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = t.TempDir()
			c, err := New(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range tt.wantArgs {
				n := c.Node(id)
				if n == nil {
					t.Fatalf("no node %s", id)
				}
				line := " " + strings.Join(n.Args(), " ") + " "
				for _, w := range want {
					if !strings.Contains(line, " "+w+" ") {
						t.Errorf("%s: %q not in %s", id, w, line)
					}
				}
			}
			if tt.wantPrefix != nil && !slices.Equal(c.Nodes()[0].Args()[:len(tt.wantPrefix)], tt.wantPrefix) {
				t.Errorf("argv %q does not start with %q", c.Nodes()[0].Args(), tt.wantPrefix)
			}
			for _, n := range c.Nodes() {
				hasKey := slices.Contains(n.env, "SURAT_CLUSTER_KEY="+key)
				hasToken := slices.ContainsFunc(n.env, func(e string) bool {
					return strings.HasPrefix(e, "SURAT_ADMIN_TOKEN=") && len(e) > len("SURAT_ADMIN_TOKEN=")
				})
				if hasKey != tt.wantSecret || hasToken != tt.wantSecret {
					t.Errorf("%s: cluster key %v, admin token %v; want both %v", n.ID(), hasKey, hasToken, tt.wantSecret)
				}
				if n.Running() || n.ExpectUp() {
					t.Errorf("%s: running before Start", n.ID())
				}
			}
		})
	}
}
