package smtp

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/surat-mail/surat/mailbox"
)

// The store holds the replicated keys.
var _ SRSKeyReader = (*mailbox.Store)(nil)

type keyList struct {
	mu   sync.Mutex
	keys [][]byte
}

func (k *keyList) SRSKeys() ([][]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys, nil
}

// TestReplicatedSRS: no key, no rewriting; a node with the keys reverses
// what another made; after a rotation the old addresses still verify and
// new ones are signed with the new key.
func TestReplicatedSRS(t *testing.T) {
	keys := &keyList{}
	a, b := NewReplicatedSRS(keys, domain, nil), NewReplicatedSRS(keys, domain, nil)
	if _, err := a.Forward(sender); !errors.Is(err, errNoSRSKey) {
		t.Fatalf("Forward without a key: %v", err)
	}
	if f, err := a.Forward(""); f != "" || err != nil {
		t.Fatalf("null sender: %q %v", f, err)
	}
	keys.keys = [][]byte{[]byte("first key")}
	old, err := a.Forward(sender)
	if err != nil || !strings.HasPrefix(old, "SRS0=") {
		t.Fatalf("Forward: %q %v", old, err)
	}
	if back, err := b.Reverse(old); err != nil || back != sender {
		t.Fatalf("another node's Reverse: %q %v", back, err)
	}
	keys.keys = [][]byte{[]byte("second key"), []byte("first key")}
	if back, err := a.Reverse(old); err != nil || back != sender {
		t.Fatalf("Reverse after rotation: %q %v", back, err)
	}
	fresh, _ := a.Forward(sender)
	keys.keys = [][]byte{[]byte("second key")}
	if back, err := b.Reverse(fresh); err != nil || back != sender {
		t.Fatalf("new address under the new key: %q %v", back, err)
	}
	if _, err := b.Reverse(old); err == nil {
		t.Fatal("an address of a dropped key still verifies")
	}
}
