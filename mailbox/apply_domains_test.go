package mailbox

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	evlog "github.com/surat-mail/surat/log"
)

var (
	dkimKeysOnce sync.Once
	dkimKeys     []*evlog.DkimKey
)

// testDkimKeys returns, the same within a test binary: an Ed25519 and an
// RSA key of 2026-01-01 and an Ed25519 key of 2026-01-02.
func testDkimKeys() []*evlog.DkimKey {
	dkimKeysOnce.Do(func() {
		ed := func(seed byte) []byte {
			der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
			if err != nil {
				panic(err)
			}
			return der
		}
		r, err := rsa.GenerateKey(rand.Reader, 1024) // small: apply accepts it, tests stay fast
		if err != nil {
			panic(err)
		}
		rder, err := x509.MarshalPKCS8PrivateKey(r)
		if err != nil {
			panic(err)
		}
		dkimKeys = []*evlog.DkimKey{
			{Selector: "20260101e", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, PrivateKey: ed(1), CreatedUnix: 1_767_225_600},
			{Selector: "20260101r", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA, PrivateKey: rder, CreatedUnix: 1_767_225_600},
			{Selector: "20260102e", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, PrivateKey: ed(2), CreatedUnix: 1_767_312_000},
		}
	})
	return dkimKeys
}

func selectors(rec *evlog.DomainRecord) []string {
	var out []string
	for _, k := range rec.GetDkimKeys() {
		out = append(out, k.GetSelector())
	}
	return out
}

func TestDomainKeys(t *testing.T) {
	h := newHarness(t)
	keys := testDkimKeys()
	added := ev(&evlog.DomainAdded{Domain: "example.org", DkimKeys: keys[:2], AddedUnix: 1_767_225_600})
	h.ok(added)
	rec, err := h.s.Domain("example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got := selectors(rec); len(got) != 2 || got[0] != "20260101e" || got[1] != "20260101r" ||
		!bytes.Equal(rec.GetDkimKeys()[1].GetPrivateKey(), keys[1].GetPrivateKey()) || rec.GetAddedUnix() != 1_767_225_600 {
		t.Fatalf("domain record %v", rec)
	}
	if _, err := h.s.Domain("example.net"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Domain of an unknown domain: %v", err)
	}

	// With keys, a second add is refused, so a racing proposer learns that
	// its keys were not kept; without (an entry from before keys), it
	// succeeds and changes nothing, as it always did.
	h.fails(evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS, ev(&evlog.DomainAdded{Domain: "example.org", DkimKeys: keys[2:]}))
	h.ok(domainAdded("example.org"))
	if rec, _ := h.s.Domain("example.org"); len(rec.GetDkimKeys()) != 2 {
		t.Fatalf("keyless DomainAdded changed the keys: %v", selectors(rec))
	}

	// Rotation: a key with a new selector; the same selector again is refused.
	h.ok(ev(&evlog.DkimKeyAdded{Domain: "example.org", Key: keys[2]}))
	h.fails(evlog.ErrorCode_ERROR_CODE_DKIM_KEY_EXISTS, ev(&evlog.DkimKeyAdded{Domain: "example.org", Key: keys[2]}))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, ev(&evlog.DkimKeyAdded{Domain: "example.net", Key: keys[2]}))
	h.ok(ev(&evlog.DkimKeyRetired{Domain: "example.org", Selector: "20260101e"}))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DKIM_KEY, ev(&evlog.DkimKeyRetired{Domain: "example.org", Selector: "20260101e"}))
	if rec, _ := h.s.Domain("example.org"); len(rec.GetDkimKeys()) != 2 || selectors(rec)[0] != "20260101r" || selectors(rec)[1] != "20260102e" {
		t.Fatalf("after rotation: %v", selectors(rec))
	}

	// Keys that are not what they claim are refused.
	bad := func(k *evlog.DkimKey) *evlog.Event { return ev(&evlog.DkimKeyAdded{Domain: "example.org", Key: k}) }
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, bad(&evlog.DkimKey{Selector: "x", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA, PrivateKey: keys[0].GetPrivateKey()}))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, bad(&evlog.DkimKey{Selector: "x", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, PrivateKey: []byte("junk")}))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, bad(&evlog.DkimKey{Selector: "x", PrivateKey: keys[0].GetPrivateKey()}))
	for _, sel := range []string{"", "A1", "a.b", "-a", "a\x00b", string(bytes.Repeat([]byte("a"), 64))} {
		h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, bad(&evlog.DkimKey{Selector: sel, Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, PrivateKey: keys[0].GetPrivateKey()}))
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_DKIM_KEY_EXISTS, ev(&evlog.DomainAdded{Domain: "example.com", DkimKeys: []*evlog.DkimKey{keys[0], keys[0]}}))
}

func TestDomainSettings(t *testing.T) {
	h := newHarness(t)
	h.ok(ev(&evlog.DomainAdded{Domain: "example.org", DkimKeys: testDkimKeys()[:1]}))
	rec, _ := h.s.Domain("example.org")
	if rec.GetDmarcReportOnly() || rec.GetMtaStsMode() != evlog.MtaStsMode_MTA_STS_MODE_OFF || rec.GetDmarcPolicy() != "" {
		t.Fatalf("defaults: %v", rec)
	}
	mode := evlog.MtaStsMode_MTA_STS_MODE_TESTING
	h.ok(ev(&evlog.DomainSettingsChanged{Domain: "example.org", MtaStsMode: &mode, ChangedUnix: 5}))
	h.ok(ev(&evlog.DomainSettingsChanged{Domain: "example.org", DmarcReportOnly: proto.Bool(true), DmarcPolicy: proto.String("quarantine"), ChangedUnix: 7}))
	rec, _ = h.s.Domain("example.org")
	// Absent fields keep their value.
	if !rec.GetDmarcReportOnly() || rec.GetMtaStsMode() != mode || rec.GetDmarcPolicy() != "quarantine" || rec.GetSettingsUnix() != 7 {
		t.Fatalf("after two changes: %v", rec)
	}
	if light, err := h.s.DomainSettings("example.org"); err != nil || !light.GetDmarcReportOnly() || light.GetMtaStsMode() != mode ||
		light.GetDomain() != "example.org" || len(light.GetDkimKeys()) != 0 {
		t.Fatalf("DomainSettings: %v %v", light, err)
	}
	if _, err := h.s.DomainSettings("example.net"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DomainSettings of an unknown domain: %v", err)
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, ev(&evlog.DomainSettingsChanged{Domain: "example.org", DmarcPolicy: proto.String("REJECT")}))
	bogus := evlog.MtaStsMode(9)
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, ev(&evlog.DomainSettingsChanged{Domain: "example.org", MtaStsMode: &bogus}))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, ev(&evlog.DomainSettingsChanged{Domain: "example.net", DmarcPolicy: proto.String("none")}))
}

func TestDomainRemovedInUse(t *testing.T) {
	h := newHarness(t)
	h.ok(ev(&evlog.DomainAdded{Domain: "example.org", DkimKeys: testDkimKeys()[:2]}), userCreated("ann@example.org", 1))
	h.ok(domainAdded("example.net"), aliasAdded("postmaster@example.net", "ann@example.org"))
	stamped := func(d string) *evlog.Event { return ev(&evlog.DomainRemoved{Domain: d, RefuseIfUsed: true}) }
	h.fails(evlog.ErrorCode_ERROR_CODE_DOMAIN_IN_USE, stamped("example.org"))
	h.fails(evlog.ErrorCode_ERROR_CODE_DOMAIN_IN_USE, stamped("example.net"))
	h.ok(aliasRemoved("postmaster@example.net"), stamped("example.net"))
	h.ok(userDeleted("ann@example.org"), stamped("example.org"))
	if _, err := h.s.Domain("example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed domain still read: %v", err)
	}
	// Its keys went with it.
	_ = h.s.view(func(r reader) error {
		return scanRange(r, []byte(prefixDkimKey), prefixEnd([]byte(prefixDkimKey)), func(k, _ []byte) (bool, error) {
			t.Errorf("key %q left after DomainRemoved", k)
			return true, nil
		})
	})

	// An entry from before the stamp removes a domain with users, as it did.
	h.ok(domainAdded("example.com"), userCreated("bo@example.com", 1))
	h.ok(domainRemoved("example.com"))
	if ok, _ := h.s.IsLocalDomain("example.com"); ok {
		t.Fatal("unstamped DomainRemoved refused")
	}
}

// TestDigestHidesDkimKeys: stores that applied the same keys agree on the
// digest, stores with different keys do not, and no input of the digest
// holds a private key.
func TestDigestHidesDkimKeys(t *testing.T) {
	keys := testDkimKeys()
	a, b, c := newHarness(t), newHarness(t), newHarness(t)
	for _, h := range []*harness{a, b} {
		h.ok(ev(&evlog.DomainAdded{Domain: "example.org", DkimKeys: keys[:2]}))
	}
	c.ok(ev(&evlog.DomainAdded{Domain: "example.org", DkimKeys: []*evlog.DkimKey{keys[0],
		{Selector: "20260101r", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, PrivateKey: keys[2].GetPrivateKey()}}}))
	_, da, err := a.s.Digest()
	if err != nil {
		t.Fatal(err)
	}
	_, db, _ := b.s.Digest()
	_, dc, _ := c.s.Digest()
	if da != db {
		t.Fatal("same entries, different digests")
	}
	if da == dc {
		t.Fatal("different keys, same digest")
	}
	inputs := 0
	if _, err := a.s.digestInputs(func(k, v []byte) {
		inputs++
		for _, key := range keys[:2] {
			priv, _ := x509.ParsePKCS8PrivateKey(key.GetPrivateKey())
			var raw []byte
			switch p := priv.(type) {
			case ed25519.PrivateKey:
				raw = p.Seed()
			case *rsa.PrivateKey:
				raw = p.D.Bytes()
			}
			if bytes.Contains(v, key.GetPrivateKey()) || bytes.Contains(v, raw) {
				t.Errorf("digest input %q holds the private key of %s", k, key.GetSelector())
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if inputs < 3 {
		t.Fatalf("%d digest inputs", inputs)
	}
}
