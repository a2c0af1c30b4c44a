package dkimsign

import (
	"errors"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/domains"
)

func TestCheckFrom(t *testing.T) {
	st := mailboxtest.Open(t)
	added, err := domains.Added("example.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Must(t, added,
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: "ann@example.test", PasswordHash: "x"}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: "bo@example.test", PasswordHash: "x"}}},
		&evlog.Event{Kind: &evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: "sales@example.test", Target: "ann@example.test"}}},
		&evlog.Event{Kind: &evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: "help@example.test", Target: "bo@example.test"}}})
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{"From: ann@example.test\r\n", true},
		{"From: Ann <ANN@Example.TEST>\r\nTo: x@y.test\r\n", true},
		{"From: =?utf-8?q?Ann_=C3=A9?= <ann@example.test>\r\n", true},
		{"From: Sales <sales@example.test>\r\n", true},                                // an alias of ann
		{"From: ann@example.test, sales@example.test\r\n", true},                      // all hers
		{"Subject: x\r\nFrom:\r\n ann@example.test\r\n", true},                        // folded
		{"From: bo@example.test\r\n", false},                                          // another user
		{"From: help@example.test\r\n", false},                                        // another's alias
		{"From: ann@example.test, bo@example.test\r\n", false},                        // one not hers
		{"From: nobody@example.test\r\n", false},                                      // nobody's
		{"From: ann@elsewhere.test\r\n", false},                                       // another domain
		{"To: ann@example.test\r\n", false},                                           // no From
		{"From: ann@example.test\r\nFrom: bo@example.test\r\n", false},                // two From fields
		{"From: not an address\r\n", false},                                           // does not parse
		{"From: ann@example.test\r\nbroken line\r\nFrom: bo@example.test\r\n", false}, // hidden second From
		{"", false},
	} {
		err := CheckFrom([]byte(tc.header), "ann@example.test", st)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrNotAligned) {
			t.Errorf("%q: %v, want ok=%v", tc.header, err, tc.ok)
		}
	}
}

// failingOwners fails every look-up: not a refusal but a temporary error.
type failingOwners struct{}

func (failingOwners) ResolveAddress(string) (string, error) { return "", errors.New("store closed") }

func TestCheckFromLookupFails(t *testing.T) {
	err := CheckFrom([]byte("From: sales@example.test\r\n"), "ann@example.test", failingOwners{})
	if err == nil || errors.Is(err, ErrNotAligned) {
		t.Fatalf("look-up failure: %v", err)
	}
}

// TestKeysFollowTheStore: the cached signer changes when a key is retired
// or the domain removed, as the node applies the event.
func TestKeysFollowTheStore(t *testing.T) {
	st := mailboxtest.Open(t)
	keys := NewKeys(st.Store)
	defer keys.Close()
	if _, err := keys.Signer("example.test"); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("unknown domain: %v", err)
	}
	added, err := domains.Added("example.test", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	st.Must(t, added)
	waitSelectors(t, keys, "20261202e,20261202r")
	rotated, err := domains.Rotated(&evlog.DomainRecord{Domain: "example.test", DkimKeys: added.GetDomainAdded().GetDkimKeys()},
		time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	st.Must(t, rotated...)
	waitSelectors(t, keys, "20261202e,20261202r") // the oldest still sign
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DkimKeyRetired{DkimKeyRetired: &evlog.DkimKeyRetired{Domain: "example.test", Selector: "20261202e"}}})
	waitSelectors(t, keys, "20261203e,20261202r")
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainRemoved{DomainRemoved: &evlog.DomainRemoved{Domain: "example.test", RefuseIfUsed: true}}})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := keys.Signer("example.test"); errors.Is(err, ErrNoKeys) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still signing for a removed domain")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitSelectors waits for the feed to drop the stale signer (it runs
// after apply, on its own goroutine).
func waitSelectors(t *testing.T, keys *Keys, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := keys.Signer("example.test")
		got := ""
		if err == nil {
			got = strings.Join(s.Selectors(), ",")
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("signer selectors %q (%v), want %q", got, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
