package mailbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// SieveScript is one stored Sieve script.
type SieveScript struct {
	Owner  string // a user's address, "@domain" or "@"
	Name   string
	Source []byte
	Put    time.Time // the proposer's clock when it was last put
	Active bool
}

// SieveScriptInfo is one script of SieveScripts, without its source.
type SieveScriptInfo struct {
	Name   string
	Size   int64
	Put    time.Time
	Active bool
}

// SieveScripts lists owner's scripts sorted by name (bytewise); none: an
// empty list.
func (s *Store) SieveScripts(owner string) (out []SieveScriptInfo, err error) {
	err = s.view(func(r reader) error {
		active, _, err := readValue(r, sieveActiveKey(owner))
		if err != nil {
			return err
		}
		p := sieveScriptPrefix(owner)
		return scanRange(r, p, prefixEnd(p), func(k, v []byte) (bool, error) {
			put, src, err := decodeSieveScript(v)
			if err != nil {
				return false, fmt.Errorf("mailbox: %q: %w", k, err)
			}
			name := string(k[len(p):])
			out = append(out, SieveScriptInfo{Name: name, Size: int64(len(src)), Put: time.Unix(put, 0).UTC(),
				Active: name == string(active)})
			return true, nil
		})
	})
	return out, err
}

// SieveScriptNamed returns owner's script name, or ErrNotFound.
func (s *Store) SieveScriptNamed(owner, name string) (sc *SieveScript, err error) {
	err = s.view(func(r reader) error {
		active, _, err := readValue(r, sieveActiveKey(owner))
		if err != nil {
			return err
		}
		sc, err = readSieveScript(r, owner, name)
		if sc != nil {
			sc.Active = string(active) == name
		}
		return err
	})
	return sc, err
}

func readSieveScript(r getter, owner, name string) (*SieveScript, error) {
	v, ok, err := readValue(r, sieveScriptKey(owner, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	put, src, err := decodeSieveScript(v)
	if err != nil {
		return nil, fmt.Errorf("mailbox: script %q of %q: %w", name, owner, err)
	}
	return &SieveScript{Owner: owner, Name: name, Source: src, Put: time.Unix(put, 0).UTC()}, nil
}

// readActiveScript is owner's active script, nil when none.
func readActiveScript(r getter, owner string) (*SieveScript, error) {
	name, ok, err := readValue(r, sieveActiveKey(owner))
	if err != nil || !ok {
		return nil, err
	}
	sc, err := readSieveScript(r, owner, string(name))
	if err == ErrNotFound {
		return nil, fmt.Errorf("mailbox: active script %q of %q is missing", name, owner)
	}
	if sc != nil {
		sc.Active = true
	}
	return sc, err
}

// ActiveSieveScript returns owner's active script, or ErrNotFound when
// none is active.
func (s *Store) ActiveSieveScript(owner string) (sc *SieveScript, err error) {
	err = s.view(func(r reader) error {
		sc, err = readActiveScript(r, owner)
		if err == nil && sc == nil {
			return ErrNotFound
		}
		return err
	})
	return sc, err
}

// DeliveryScripts are the scripts a delivery to one user runs, in order:
// the global administrators' script, the user's domain's, then the
// user's own active one (Pigeonhole's sieve_before, then the personal
// script). Each is nil when there is none.
type DeliveryScripts struct {
	Global, Domain, User *SieveScript
}

// Before returns the administrators' scripts that run before the user's,
// in order (nil ones left out).
func (d DeliveryScripts) Before() []*SieveScript {
	var out []*SieveScript
	for _, s := range []*SieveScript{d.Global, d.Domain} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// ScriptsForDelivery reads, in one consistent view, the active scripts a
// delivery to user (a canonical address) runs.
func (s *Store) ScriptsForDelivery(user string) (d DeliveryScripts, err error) {
	domain := ""
	if i := strings.LastIndexByte(user, '@'); i >= 0 {
		domain = user[i+1:]
	}
	err = s.view(func(r reader) error {
		if d.Global, err = readActiveScript(r, GlobalSieveOwner); err != nil {
			return err
		}
		if domain != "" {
			if d.Domain, err = readActiveScript(r, DomainSieveOwner(domain)); err != nil {
				return err
			}
		}
		d.User, err = readActiveScript(r, user)
		return err
	})
	return d, err
}

// VacationRunning reports whether a vacation reply from user to sender
// under handle was recorded and still runs at now (RFC 5230 §4.2): an
// expired record counts as none, pruned or not, so every node judges
// alike. Apply makes the exact decision; this read spares building a
// reply that would be skipped.
func (s *Store) VacationRunning(user, handle, sender string, now time.Time) (bool, error) {
	return s.sieveRecordRunning(vacationKey(user, sender, handle), now)
}

// DuplicateSeen reports whether the duplicate test's id (RFC 7352) was
// recorded for user and is still tracked at now.
func (s *Store) DuplicateSeen(user string, id []byte, now time.Time) (bool, error) {
	return s.sieveRecordRunning(duplicateKey(user, id), now)
}

func (s *Store) sieveRecordRunning(key []byte, now time.Time) (running bool, err error) {
	err = s.point(func(r getter) error {
		v, ok, err := readValue(r, key)
		if err != nil || !ok {
			return err
		}
		rec, err := decodeSieveRecord(v)
		if err != nil {
			return fmt.Errorf("mailbox: %w", err)
		}
		running = rec.expires > now.Unix()
		return nil
	})
	return running, err
}

// NextSieveExpiry is the earliest expiry of a stored vacation or duplicate
// record (expired ones included until pruned); ok is false when there is
// none.
func (s *Store) NextSieveExpiry() (at time.Time, ok bool, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixSieveExpiry), prefixEnd([]byte(prefixSieveExpiry)), func(k, _ []byte) (bool, error) {
			if len(k) < prefixLen+8 {
				return false, fmt.Errorf("mailbox: sieve expiry key %x", k)
			}
			at, ok = time.Unix(int64(binary.BigEndian.Uint64(k[prefixLen:])), 0).UTC(), true
			return false, nil
		})
	})
	return at, ok, err
}

// Forwarding is a user's forwarding setting (ForwardingSet).
type Forwarding struct {
	Addresses []string
	Keep      bool // also file a copy as usual
}

// ForwardingOf returns user's forwarding; ok is false when the user
// forwards nowhere.
func (s *Store) ForwardingOf(user string) (f Forwarding, ok bool, err error) {
	rec := new(evlog.ForwardingSet)
	err = s.point(func(r getter) error { return readRecord(r, forwardKey(user), rec) })
	if err == ErrNotFound {
		return Forwarding{}, false, nil
	}
	if err != nil {
		return Forwarding{}, false, err
	}
	return Forwarding{Addresses: rec.GetAddresses(), Keep: rec.GetKeep()}, len(rec.GetAddresses()) > 0, nil
}

// SRSKeys returns the SRS secrets, newest first: the first signs, all
// verify. None: an empty list (the leader seeds one). The keys are
// secrets: callers must not log them.
func (s *Store) SRSKeys() (keys [][]byte, err error) {
	err = s.view(func(r reader) error {
		return scanRange(r, []byte(prefixSrsKey), prefixEnd([]byte(prefixSrsKey)), func(_, v []byte) (bool, error) {
			keys = append(keys, bytes.Clone(v))
			return true, nil
		})
	})
	for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
		keys[i], keys[j] = keys[j], keys[i]
	}
	return keys, err
}

// Resolution is how ResolveRecipient found a recipient's user.
type Resolution int

const (
	// ResolvedExact: the address is a user or an alias.
	ResolvedExact Resolution = iota
	// ResolvedPlus: local+detail@domain, where local@domain is a user or
	// an alias and the whole address is neither (RFC 5233).
	ResolvedPlus
	// ResolvedCatchAll: an unknown local part of a domain whose catch-all
	// names an existing user.
	ResolvedCatchAll
)

// Recipient is ResolveRecipient's answer.
type Recipient struct {
	User   string
	Detail string // the +detail of a ResolvedPlus address, without '+'
	How    Resolution
	// PlusFolders is the recipient domain's plus_folders setting: mail to
	// user+detail is also filed into the user's mailbox named detail,
	// when it exists and no script filed it.
	PlusFolders bool
}

// PlusSeparator separates a local part from its detail (RFC 5233 §4,
// Surat's and Pigeonhole's default).
const PlusSeparator = '+'

// ResolveRecipient maps a canonical RCPT address to the user receiving
// its mail, in one consistent view: the address itself (a user, or an
// alias to its target), else user+detail with the detail cut off, else
// the domain's catch-all when that user exists; ErrNotFound otherwise.
// Unlike ResolveAddress (which names owners of addresses for the
// submission and DKIM checks) it answers for delivery only.
func (s *Store) ResolveRecipient(address string) (rc Recipient, err error) {
	at := strings.LastIndexByte(address, '@')
	if at <= 0 {
		return Recipient{}, ErrNotFound
	}
	local, domain := address[:at], address[at+1:]
	err = s.view(func(r reader) error {
		dom := new(evlog.DomainRecord)
		switch err := readRecord(r, domainKey(domain), dom); err {
		case nil, ErrNotFound:
		default:
			return err
		}
		rc.PlusFolders = dom.GetPlusFolders()
		user, ok, err := resolveIn(r, address)
		if err != nil || ok {
			rc.User = user
			return err
		}
		if i := strings.IndexByte(local, PlusSeparator); i > 0 {
			user, ok, err := resolveIn(r, local[:i]+"@"+domain)
			if err != nil || ok {
				rc.User, rc.Detail, rc.How = user, local[i+1:], ResolvedPlus
				return err
			}
		}
		if c := dom.GetCatchAll(); c != "" {
			if _, ok, err := readValue(r, userKey(c)); err != nil || ok {
				rc.User, rc.How = c, ResolvedCatchAll
				return err
			}
		}
		return ErrNotFound
	})
	if err != nil {
		return Recipient{}, err
	}
	return rc, nil
}

// resolveIn is ResolveAddress within a view.
func resolveIn(r getter, address string) (string, bool, error) {
	if _, ok, err := readValue(r, userKey(address)); err != nil || ok {
		return address, ok, err
	}
	target, ok, err := readValue(r, aliasKey(address))
	return string(target), ok, err
}

// DomainAddressing returns a local domain's catch-all (the user receiving
// mail for its unknown local parts; empty: none) and its plus_folders
// setting (smtp.Addressing). A domain that is not local answers "",
// false and ErrNotFound.
func (s *Store) DomainAddressing(domain string) (catchAll string, plusFolders bool, err error) {
	rec, err := s.DomainSettings(domain)
	if err != nil {
		return "", false, err
	}
	return rec.GetCatchAll(), rec.GetPlusFolders(), nil
}
