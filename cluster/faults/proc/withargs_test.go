package proc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWithArgs checks that the second cluster is the same nodes (IDs,
// ports, data) with the other serve flags, without starting either.
func TestWithArgs(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "surat")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Bin: bin, Dir: t.TempDir(), ExtraArgs: []string{"--spam-classifier=true"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := a.WithArgs([]string{"--spam-classifier=false"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.Nodes()) != len(a.Nodes()) {
		t.Fatalf("%d nodes, want %d", len(b.Nodes()), len(a.Nodes()))
	}
	for i, n := range b.Nodes() {
		m := a.Nodes()[i]
		if n.ID() != m.ID() || n.Ports() != m.Ports() || n.DataDir() != m.DataDir() {
			t.Errorf("node %d: %s %v %s, want %s %v %s", i, n.ID(), n.Ports(), n.DataDir(), m.ID(), m.Ports(), m.DataDir())
		}
		if !slices.Contains(n.Args(), "--spam-classifier=false") || slices.Contains(n.Args(), "--spam-classifier=true") {
			t.Errorf("node %s: %v", n.ID(), n.Args())
		}
	}
}
