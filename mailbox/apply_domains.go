package mailbox

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"slices"
	"strings"

	evlog "github.com/surat-mail/surat/log"
)

const (
	// maxDkimKeys bounds a domain's keys: rotation adds two at a time and
	// retires the old ones, so a handful is the most a domain needs.
	maxDkimKeys = 16
	// RSA key sizes apply accepts: RFC 8301 §3.2 makes 1024 bits the least
	// a verifier must accept; 4096 is the most DNS records carry with ease.
	minRSABits = 1024
	maxRSABits = 4096
	// maxSelectorLen: a selector is one DNS label (RFC 1035 §2.3.4).
	maxSelectorLen = 63
)

var dmarcPolicies = []string{"none", "quarantine", "reject"}

func (t *txn) domainAdded(e *evlog.DomainAdded) (*evlog.EventResult, error) {
	d := e.GetDomain()
	if err := checkDomain(d); err != nil {
		return nil, err
	}
	ok, err := t.has(domainKey(d))
	if err != nil {
		return nil, err
	}
	if ok {
		if len(e.GetDkimKeys()) > 0 {
			return nil, refuse(evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS, "domain %q", d)
		}
		return nil, nil // an entry from before keys: adding a present domain changes nothing
	}
	if len(e.GetDkimKeys()) > maxDkimKeys {
		return nil, refuse(errInvalid, "domain %q: %d DKIM keys, at most %d", d, len(e.GetDkimKeys()), maxDkimKeys)
	}
	for i, k := range e.GetDkimKeys() {
		if err := checkDkimKey(k); err != nil {
			return nil, err
		}
		for _, prev := range e.GetDkimKeys()[:i] {
			if prev.GetSelector() == k.GetSelector() {
				return nil, refuse(evlog.ErrorCode_ERROR_CODE_DKIM_KEY_EXISTS, "domain %q: selector %q twice", d, k.GetSelector())
			}
		}
	}
	// The domain's record: an entry from before keys had an empty value,
	// which decodes as a record with the defaults.
	if err := t.putRecord(domainKey(d), &evlog.DomainRecord{Domain: d, AddedUnix: e.GetAddedUnix()}); err != nil {
		return nil, err
	}
	for _, k := range e.GetDkimKeys() {
		if err := t.putRecord(dkimKeyKey(d, k.GetSelector()), k); err != nil {
			return nil, err
		}
	}
	t.changes.add(Change{Index: t.index, Address: d, Kind: DomainsChanged})
	return nil, nil
}

func (t *txn) domainRemoved(e *evlog.DomainRemoved) (*evlog.EventResult, error) {
	d := e.GetDomain()
	if err := checkDomain(d); err != nil {
		return nil, err
	}
	ok, err := t.has(domainKey(d))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, "domain %q", d)
	}
	if e.GetRefuseIfUsed() {
		for _, p := range []string{prefixUser, prefixAlias} {
			used, err := t.firstInDomain(p, d)
			if err != nil {
				return nil, err
			}
			if used != "" {
				return nil, refuse(evlog.ErrorCode_ERROR_CODE_DOMAIN_IN_USE,
					"domain %q still has %s (delete its users and aliases first)", d, used)
			}
		}
	}
	if err := t.deletePrefix(dkimKeyPrefix(d)); err != nil {
		return nil, err
	}
	if err := t.deleteSieveState(DomainSieveOwner(d)); err != nil {
		return nil, err
	}
	t.changes.add(Change{Index: t.index, Address: d, Kind: DomainsChanged})
	return nil, t.del(domainKey(d))
}

// firstInDomain returns the first address under prefix (usr/ or als/) in
// domain, or "". Addresses are keyed local part first, so this scans them
// all: removing a domain is rare, and its cost is one pass over the
// accounts.
func (t *txn) firstInDomain(prefix, domain string) (string, error) {
	var found string
	err := scanRange(t.b, []byte(prefix), prefixEnd([]byte(prefix)), func(k, _ []byte) (bool, error) {
		a := string(k[len(prefix):])
		if strings.HasSuffix(a, "@"+domain) {
			found = a
			return false, nil
		}
		return true, nil
	})
	return found, err
}

// loadDomain returns the domain's record, or a NO_SUCH_DOMAIN refusal.
func (t *txn) loadDomain(d string) (*evlog.DomainRecord, error) {
	if err := checkDomain(d); err != nil {
		return nil, err
	}
	rec := new(evlog.DomainRecord)
	ok, err := t.getRecord(domainKey(d), rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, "domain %q", d)
	}
	rec.Domain = d // a domain added before records had an empty value
	return rec, nil
}

func (t *txn) dkimKeyAdded(e *evlog.DkimKeyAdded) (*evlog.EventResult, error) {
	d := e.GetDomain()
	if _, err := t.loadDomain(d); err != nil {
		return nil, err
	}
	k := e.GetKey()
	if err := checkDkimKey(k); err != nil {
		return nil, err
	}
	existing, err := t.scan(dkimKeyPrefix(d), prefixEnd(dkimKeyPrefix(d)))
	if err != nil {
		return nil, err
	}
	if len(existing) >= maxDkimKeys {
		return nil, refuse(errInvalid, "domain %q has %d DKIM keys already, at most %d: retire one first", d, len(existing), maxDkimKeys)
	}
	ok, err := t.has(dkimKeyKey(d, k.GetSelector()))
	if err != nil {
		return nil, err
	}
	if ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_DKIM_KEY_EXISTS, "domain %q: selector %q", d, k.GetSelector())
	}
	t.changes.add(Change{Index: t.index, Address: d, Kind: DomainsChanged})
	return nil, t.putRecord(dkimKeyKey(d, k.GetSelector()), k)
}

func (t *txn) dkimKeyRetired(e *evlog.DkimKeyRetired) (*evlog.EventResult, error) {
	d := e.GetDomain()
	if _, err := t.loadDomain(d); err != nil {
		return nil, err
	}
	if err := checkSelector(e.GetSelector()); err != nil {
		return nil, err
	}
	key := dkimKeyKey(d, e.GetSelector())
	ok, err := t.has(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DKIM_KEY, "domain %q: selector %q", d, e.GetSelector())
	}
	t.changes.add(Change{Index: t.index, Address: d, Kind: DomainsChanged})
	return nil, t.del(key)
}

func (t *txn) domainSettingsChanged(e *evlog.DomainSettingsChanged) (*evlog.EventResult, error) {
	rec, err := t.loadDomain(e.GetDomain())
	if err != nil {
		return nil, err
	}
	if e.DmarcReportOnly != nil {
		rec.DmarcReportOnly = e.GetDmarcReportOnly()
	}
	if e.MtaStsMode != nil {
		switch m := e.GetMtaStsMode(); m {
		case evlog.MtaStsMode_MTA_STS_MODE_OFF, evlog.MtaStsMode_MTA_STS_MODE_TESTING, evlog.MtaStsMode_MTA_STS_MODE_ENFORCE:
			rec.MtaStsMode = m
		default:
			return nil, refuse(errInvalid, "domain %q: unknown MTA-STS mode %d", rec.GetDomain(), m)
		}
	}
	if e.DmarcPolicy != nil {
		p := e.GetDmarcPolicy()
		if !slices.Contains(dmarcPolicies, p) {
			return nil, refuse(errInvalid, "domain %q: DMARC policy %q is not none, quarantine or reject", rec.GetDomain(), p)
		}
		rec.DmarcPolicy = p
	}
	if e.CatchAll != nil {
		if err := t.checkCatchAll(rec.GetDomain(), e.GetCatchAll()); err != nil {
			return nil, err
		}
		rec.CatchAll = e.GetCatchAll()
	}
	if e.PlusFolders != nil {
		rec.PlusFolders = e.GetPlusFolders()
	}
	if e.PublicFolders != nil {
		if err := t.checkPublicFolders(rec.GetDomain(), e.GetPublicFolders()); err != nil {
			return nil, err
		}
		rec.PublicFolders = e.GetPublicFolders()
	}
	rec.SettingsUnix = e.GetChangedUnix()
	t.changes.add(Change{Index: t.index, Address: rec.GetDomain(), Kind: DomainsChanged})
	return nil, t.putRecord(domainKey(rec.GetDomain()), rec)
}

// checkPublicFolders validates the account of a domain's public folders
// (IMAP's "Shared/" namespace): empty (none) or an existing user of that
// domain, since only the domain's users see them. As for the catch-all, a
// user deleted later leaves the setting in place and readers ignore it
// (Store.PublicFolders).
func (t *txn) checkPublicFolders(domain, user string) error {
	if user == "" {
		return nil
	}
	if err := checkAddress("public folders account", user); err != nil {
		return err
	}
	if user[strings.LastIndexByte(user, '@')+1:] != domain {
		return refuse(errInvalid, "public folders of %q: %q is not a user of the domain", domain, user)
	}
	return t.mustHave(userKey(user), evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, "public folders of %q: no user %q", domain, user)
}

// checkSelector accepts a DNS label of lower-case letters, digits and '-'
// (RFC 6376 §3.1: a selector is a sub-domain; one label is what Surat
// generates and keys on).
func checkSelector(s string) error {
	ok := s != "" && len(s) <= maxSelectorLen && s[0] != '-' && s[len(s)-1] != '-'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if !ok {
		return refuse(errInvalid, "DKIM selector %q is not a lower-case DNS label", s)
	}
	return nil
}

// checkDkimKey validates a key as the proposer made it: a known algorithm
// and a PKCS #8 private key of that algorithm (parsing is deterministic).
func checkDkimKey(k *evlog.DkimKey) error {
	if err := checkSelector(k.GetSelector()); err != nil {
		return err
	}
	priv, err := x509.ParsePKCS8PrivateKey(k.GetPrivateKey())
	if err != nil {
		return refuse(errInvalid, "DKIM key %q: not a PKCS #8 private key", k.GetSelector())
	}
	switch k.GetAlgorithm() {
	case evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519:
		if _, ok := priv.(ed25519.PrivateKey); !ok {
			return refuse(errInvalid, "DKIM key %q: not an Ed25519 key", k.GetSelector())
		}
	case evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA:
		r, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return refuse(errInvalid, "DKIM key %q: not an RSA key", k.GetSelector())
		}
		if n := r.N.BitLen(); n < minRSABits || n > maxRSABits {
			return refuse(errInvalid, "DKIM key %q: RSA key of %d bits, want %d to %d", k.GetSelector(), n, minRSABits, maxRSABits)
		}
	default:
		return refuse(errInvalid, "DKIM key %q: unknown algorithm %d", k.GetSelector(), k.GetAlgorithm())
	}
	return nil
}
