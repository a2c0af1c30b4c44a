package main

import (
	"errors"
	"strings"
	"testing"
)

// fakeSRSKeys is the store as the SRS rewriter reads it.
type fakeSRSKeys struct {
	keys    [][]byte
	domains []string
}

func (f *fakeSRSKeys) SRSKeys() ([][]byte, error) { return f.keys, nil }
func (f *fakeSRSKeys) Domains() ([]string, error) { return f.domains, nil }

func TestClusterSRSWaitsForTheFirstKey(t *testing.T) {
	store := &fakeSRSKeys{domains: []string{"example.test"}}
	c := newClusterSRS(store, &serveConfig{})
	if _, err := c.Forward("sender@remote.test"); !errors.Is(err, errNoSRSKey) {
		t.Fatalf("Forward without a key: %v, want errNoSRSKey", err)
	}
	store.keys = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	got, err := c.Forward("sender@remote.test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "SRS0=") || !strings.HasSuffix(got, "@example.test") {
		t.Fatalf("Forward = %q, want SRS0=...@example.test (the store's first domain)", got)
	}
	back, err := c.Reverse(got)
	if err != nil || back != "sender@remote.test" {
		t.Fatalf("Reverse(%q) = %q, %v", got, back, err)
	}
}

func TestClusterSRSDomainAndKeyRotation(t *testing.T) {
	old := []byte("old-key-old-key-old-key-old-key!")
	store := &fakeSRSKeys{keys: [][]byte{old}, domains: []string{"a.test", "b.test"}}
	c := newClusterSRS(store, &serveConfig{Domains: []string{"b.test"}})
	made, err := c.Forward("x@remote.test")
	if err != nil || !strings.HasSuffix(made, "@b.test") {
		t.Fatalf("Forward = %q, %v; want the first --domain", made, err)
	}
	c = newClusterSRS(store, &serveConfig{SRSDomain: "fwd.test", Domains: []string{"b.test"}})
	if made, err = c.Forward("x@remote.test"); err != nil || !strings.HasSuffix(made, "@fwd.test") {
		t.Fatalf("Forward = %q, %v; want --srs-domain", made, err)
	}
	// The leader adds a newer key: it signs, the old one still verifies.
	store.keys = [][]byte{[]byte("new-key-new-key-new-key-new-key!"), old}
	if back, err := c.Reverse(made); err != nil || back != "x@remote.test" {
		t.Fatalf("Reverse under the older key = %q, %v", back, err)
	}
	store.keys = [][]byte{[]byte("new-key-new-key-new-key-new-key!")}
	if _, err := c.Reverse(made); err == nil {
		t.Fatal("Reverse verified an address made under a key no longer kept")
	}
}
