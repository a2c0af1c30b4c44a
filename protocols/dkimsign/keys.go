package dkimsign

import (
	"errors"
	"fmt"
	"sync"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// Store is what Keys reads (*mailbox.Store has it).
type Store interface {
	// Domain returns the domain with its keys, or an error wrapping
	// mailbox.ErrNotFound.
	Domain(name string) (*evlog.DomainRecord, error)
	// Subscribe delivers the changes concerning address: for a domain,
	// its DomainsChanged changes (and every Reset).
	Subscribe(address string) *mailbox.Subscription
}

// Keys is a node's cache of Signers, one per domain, each dropped when its
// domain changes in the store.
type Keys struct {
	store  Store
	mu     sync.Mutex
	cache  map[string]*entry
	closed bool
	wg     sync.WaitGroup
}

type entry struct {
	ready  chan struct{} // closed once signer and err are set
	signer *Signer
	err    error
	sub    *mailbox.Subscription
}

// NewKeys makes an empty cache over store. Close it to end its watches.
func NewKeys(store Store) *Keys {
	return &Keys{store: store, cache: map[string]*entry{}}
}

// Signer returns the domain's Signer: ErrNoKeys (wrapped) when the domain
// is not local or has no key.
func (k *Keys) Signer(domain string) (*Signer, error) {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil, errors.New("dkimsign: key cache closed")
	}
	e, ok := k.cache[domain]
	if ok {
		k.mu.Unlock()
		<-e.ready
		return e.signer, e.err
	}
	// Subscribe before reading, so that a change applied between the
	// read and the watch still drops the entry.
	e = &entry{ready: make(chan struct{}), sub: k.store.Subscribe(domain)}
	k.cache[domain] = e
	k.wg.Add(1)
	k.mu.Unlock()
	go k.watch(domain, e)

	rec, err := k.store.Domain(domain)
	switch {
	case errors.Is(err, mailbox.ErrNotFound):
		e.err = fmt.Errorf("%w: %s is not a local domain", ErrNoKeys, domain)
	case err != nil:
		e.err = fmt.Errorf("dkimsign: read domain %s: %w", domain, err)
		k.drop(domain, e) // a read error is not remembered
	default:
		e.signer, e.err = New(rec)
	}
	close(e.ready)
	return e.signer, e.err
}

// watch drops the entry at the first change to its domain (or Reset, or
// the store closing).
func (k *Keys) watch(domain string, e *entry) {
	defer k.wg.Done()
	<-e.sub.C
	k.drop(domain, e)
}

func (k *Keys) drop(domain string, e *entry) {
	k.mu.Lock()
	if k.cache[domain] == e {
		delete(k.cache, domain)
	}
	k.mu.Unlock()
	e.sub.Close()
}

// Close ends the watches; Signer fails afterwards.
func (k *Keys) Close() {
	k.mu.Lock()
	k.closed = true
	entries := k.cache
	k.cache = map[string]*entry{}
	k.mu.Unlock()
	for _, e := range entries {
		e.sub.Close()
	}
	k.wg.Wait()
}

// Sign returns the DKIM-Signature fields of a whole message signed by
// domain's keys (for messages Surat writes itself, such as DSNs).
func (k *Keys) Sign(domain string, msg []byte) ([]byte, error) {
	s, err := k.Signer(domain)
	if err != nil {
		return nil, err
	}
	m := s.Start()
	if _, err := m.Write(msg); err != nil {
		m.Abort()
		return nil, err
	}
	return m.Fields()
}
