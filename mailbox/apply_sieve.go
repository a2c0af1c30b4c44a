package mailbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	evlog "github.com/surat-mail/surat/log"
)

// Sieve (events 130–138): users' and administrators' scripts, the active
// one per owner, the vacation and duplicate records of the filter,
// forwarding and the SRS secrets. Apply never parses a script (the
// proposer compiled it); it keeps the per-owner limits the proposer
// stamped and the records' proposer-stamped expiry, judged at read time
// like a ban's or a greylisting triple's.
const (
	prefixSieveScript = "svs/"
	prefixSieveActive = "sva/"
	prefixVacation    = "svv/"
	prefixDuplicate   = "svd/"
	prefixSieveExpiry = "svx/"
	prefixForward     = "fwd/"
	prefixSrsKey      = "srs/"

	// MaxSieveScriptBytes bounds one script whatever the proposer's
	// limit (a proposal is at most 1 MiB anyway).
	MaxSieveScriptBytes = 512 << 10
	// MaxSieveNameLen: RFC 5804 §1.6 lets servers limit names; 128 octets
	// is what Pigeonhole allows.
	MaxSieveNameLen = 128
	// MaxVacationHandleLen bounds a vacation :handle (RFC 5230 §4.3).
	MaxVacationHandleLen = 1024
	// MaxDuplicateIDs bounds the ids of one DuplicateRecorded, and
	// MaxDuplicateIDLen each id (a SHA-256 is 32).
	MaxDuplicateIDs   = 64
	MaxDuplicateIDLen = 64
	// MaxForwardAddresses bounds a user's forwarding targets.
	MaxForwardAddresses = 16
	// MaxSrsKeys is how many SRS secrets are kept: adding one more drops
	// the oldest.
	MaxSrsKeys = 8
	// srsKeyMinLen and srsKeyMaxLen bound a secret (32 bytes expected).
	srsKeyMinLen, srsKeyMaxLen = 16, 64

	// expiry kinds in svx/ keys
	expiryVacation  = 'v'
	expiryDuplicate = 'd'
	// sieveRecordLen: two u64 (replied or seen, expires).
	sieveRecordLen = 16
)

// GlobalSieveOwner owns the script run before every user's; "@" + domain
// owns the one run before that domain's users' (after the global one).
const GlobalSieveOwner = "@"

// DomainSieveOwner is the owner of the administrators' script for domain.
func DomainSieveOwner(domain string) string { return "@" + domain }

var (
	errNoSuchScript   = evlog.ErrorCode_ERROR_CODE_NO_SUCH_SCRIPT
	errScriptExists   = evlog.ErrorCode_ERROR_CODE_SCRIPT_EXISTS
	errScriptActive   = evlog.ErrorCode_ERROR_CODE_SCRIPT_ACTIVE
	errScriptQuota    = evlog.ErrorCode_ERROR_CODE_SCRIPT_QUOTA
	errAlreadyReplied = evlog.ErrorCode_ERROR_CODE_ALREADY_REPLIED
)

func sieveScriptPrefix(owner string) []byte { return []byte(prefixSieveScript + owner + "\x00") }
func sieveScriptKey(owner, name string) []byte {
	return []byte(prefixSieveScript + owner + "\x00" + name)
}
func sieveActiveKey(owner string) []byte { return []byte(prefixSieveActive + owner) }
func vacationUserPrefix(user string) []byte {
	return []byte(prefixVacation + user + "\x00")
}

// vacationKey: the handle comes last, so it may hold any byte.
func vacationKey(user, sender, handle string) []byte {
	return []byte(prefixVacation + user + "\x00" + sender + "\x00" + handle)
}
func duplicateUserPrefix(user string) []byte { return []byte(prefixDuplicate + user + "\x00") }
func duplicateKey(user string, id []byte) []byte {
	return append(duplicateUserPrefix(user), id...)
}
func forwardKey(user string) []byte { return []byte(prefixForward + user) }

// sieveExpiryKey indexes a vacation (svv/) or duplicate (svd/) record by
// its expiry: expires u64, the kind, then the record's key past its
// prefix.
func sieveExpiryKey(expires int64, kind byte, recordKey []byte) []byte {
	k := binary.BigEndian.AppendUint64([]byte(prefixSieveExpiry), uint64(max(expires, 0)))
	k = append(k, kind)
	return append(k, recordKey[prefixLen:]...)
}

func srsKeyKey(added int64, key []byte) []byte {
	sum := sha256.Sum256(key)
	k := binary.BigEndian.AppendUint64([]byte(prefixSrsKey), uint64(max(added, 0)))
	return append(k, sum[:8]...)
}

// sieveRecord is a vacation or duplicate record: when it was made and
// until when it runs.
type sieveRecord struct{ at, expires int64 }

func (r sieveRecord) encode() []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, sieveRecordLen), uint64(r.at))
	return binary.BigEndian.AppendUint64(v, uint64(r.expires))
}

func decodeSieveRecord(v []byte) (sieveRecord, error) {
	if len(v) != sieveRecordLen {
		return sieveRecord{}, fmt.Errorf("sieve record of %d bytes", len(v))
	}
	return sieveRecord{at: int64(binary.BigEndian.Uint64(v)), expires: int64(binary.BigEndian.Uint64(v[8:]))}, nil
}

// encodeSieveScript is a script's value: put-unix u64, then the source.
func encodeSieveScript(putUnix int64, src []byte) []byte {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(src)), uint64(putUnix))
	return append(v, src...)
}

func decodeSieveScript(v []byte) (putUnix int64, src []byte, err error) {
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("sieve script value of %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v)), v[8:], nil
}

// CheckSieveName validates a script name as RFC 5804 §1.6 requires: UTF-8
// (Net-Unicode) without control characters (U+0000–U+001F, U+007F–U+009F)
// or the line and paragraph separators (U+2028, U+2029), not empty and at
// most MaxSieveNameLen octets.
func CheckSieveName(name string) error {
	if name == "" || len(name) > MaxSieveNameLen || !utf8.ValidString(name) {
		return fmt.Errorf("script name %q: 1 to %d octets of UTF-8", name, MaxSieveNameLen)
	}
	if strings.ContainsFunc(name, func(r rune) bool {
		return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029
	}) {
		return fmt.Errorf("script name %q holds a control character (RFC 5804 §1.6)", name)
	}
	return nil
}

func checkScriptName(name string) error {
	if err := CheckSieveName(name); err != nil {
		return refuse(errInvalid, "%v", err)
	}
	return nil
}

// checkSieveOwner accepts "@" (the global script), "@domain" for a local
// domain, or an existing user.
func (t *txn) checkSieveOwner(owner string) error {
	switch {
	case owner == GlobalSieveOwner:
		return nil
	case strings.HasPrefix(owner, "@"):
		d := owner[1:]
		if err := checkDomain(d); err != nil {
			return err
		}
		return t.mustHave(domainKey(d), evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, "sieve owner %q: no such domain", owner)
	}
	if err := checkAddress("sieve owner", owner); err != nil {
		return err
	}
	return t.mustHave(userKey(owner), evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, "sieve owner %q", owner)
}

// mustHave refuses with code and the message unless key exists.
func (t *txn) mustHave(key []byte, code evlog.ErrorCode, format string, args ...any) error {
	ok, err := t.has(key)
	if err != nil {
		return err
	}
	if !ok {
		return refuse(code, format, args...)
	}
	return nil
}

func (t *txn) sieveScriptPut(e *evlog.SieveScriptPut) (*evlog.EventResult, error) {
	owner, name, src := e.GetOwner(), e.GetName(), e.GetScript()
	if err := t.checkSieveOwner(owner); err != nil {
		return nil, err
	}
	if err := checkScriptName(name); err != nil {
		return nil, err
	}
	if err := checkTime("script put time", e.GetPutUnix()); err != nil {
		return nil, err
	}
	if len(src) > MaxSieveScriptBytes {
		return nil, refuse(errScriptQuota, "script %q of %d bytes: at most %d", name, len(src), MaxSieveScriptBytes)
	}
	if m := e.GetMaxBytes(); m > 0 && uint64(len(src)) > m {
		return nil, refuse(errScriptQuota, "script %q of %d bytes: at most %d (MAXSIZE)", name, len(src), m)
	}
	exists, err := t.has(sieveScriptKey(owner, name))
	if err != nil {
		return nil, err
	}
	if m := e.GetMaxScripts(); !exists && m > 0 {
		n, err := t.countPrefix(sieveScriptPrefix(owner))
		if err != nil {
			return nil, err
		}
		if n+1 > int(m) {
			return nil, refuse(errScriptQuota, "owner %q has %d scripts: at most %d (MAXSCRIPTS)", owner, n, m)
		}
	}
	if err := t.put(sieveScriptKey(owner, name), encodeSieveScript(e.GetPutUnix(), src)); err != nil {
		return nil, err
	}
	if e.GetActivate() {
		return nil, t.put(sieveActiveKey(owner), []byte(name))
	}
	return nil, nil
}

func (t *txn) countPrefix(p []byte) (int, error) {
	n := 0
	err := scanRange(t.b, p, prefixEnd(p), func(_, _ []byte) (bool, error) {
		n++
		return true, nil
	})
	return n, err
}

// activeScript is the owner's active script name, "" when none.
func (t *txn) activeScript(owner string) (string, error) {
	v, _, err := t.get(sieveActiveKey(owner))
	return string(v), err
}

func (t *txn) sieveScriptDeleted(e *evlog.SieveScriptDeleted) (*evlog.EventResult, error) {
	owner, name := e.GetOwner(), e.GetName()
	if err := checkScriptName(name); err != nil {
		return nil, err
	}
	if err := t.mustHave(sieveScriptKey(owner, name), errNoSuchScript, "owner %q has no script %q", owner, name); err != nil {
		return nil, err
	}
	active, err := t.activeScript(owner)
	if err != nil {
		return nil, err
	}
	if active == name {
		// RFC 5804 §2.10: the active script cannot be deleted.
		return nil, refuse(errScriptActive, "script %q of %q is active", name, owner)
	}
	return nil, t.del(sieveScriptKey(owner, name))
}

func (t *txn) sieveScriptRenamed(e *evlog.SieveScriptRenamed) (*evlog.EventResult, error) {
	owner, name, to := e.GetOwner(), e.GetName(), e.GetNewName()
	if err := checkScriptName(name); err != nil {
		return nil, err
	}
	if err := checkScriptName(to); err != nil {
		return nil, err
	}
	v, ok, err := t.get(sieveScriptKey(owner, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, refuse(errNoSuchScript, "owner %q has no script %q", owner, name)
	}
	if to == name {
		return nil, nil
	}
	taken, err := t.has(sieveScriptKey(owner, to))
	if err != nil {
		return nil, err
	}
	if taken {
		// RFC 5804 §2.11.1: ALREADYEXISTS.
		return nil, refuse(errScriptExists, "owner %q already has a script %q", owner, to)
	}
	if err := t.del(sieveScriptKey(owner, name)); err != nil {
		return nil, err
	}
	if err := t.put(sieveScriptKey(owner, to), v); err != nil {
		return nil, err
	}
	active, err := t.activeScript(owner)
	if err != nil || active != name {
		return nil, err
	}
	return nil, t.put(sieveActiveKey(owner), []byte(to))
}

func (t *txn) sieveScriptActivated(e *evlog.SieveScriptActivated) (*evlog.EventResult, error) {
	owner, name := e.GetOwner(), e.GetName()
	if name == "" {
		// RFC 5804 §2.8: SETACTIVE "" deactivates; none active is fine.
		if strings.ContainsRune(owner, 0) {
			return nil, refuse(errInvalid, "sieve owner %q", owner)
		}
		return nil, t.del(sieveActiveKey(owner))
	}
	if err := checkScriptName(name); err != nil {
		return nil, err
	}
	if err := t.mustHave(sieveScriptKey(owner, name), errNoSuchScript, "owner %q has no script %q", owner, name); err != nil {
		return nil, err
	}
	return nil, t.put(sieveActiveKey(owner), []byte(name))
}

// putSieveRecord writes a vacation or duplicate record and moves its
// expiry index entry.
func (t *txn) putSieveRecord(key []byte, kind byte, old *sieveRecord, cur sieveRecord) error {
	if old != nil {
		if err := t.del(sieveExpiryKey(old.expires, kind, key)); err != nil {
			return err
		}
	}
	if err := t.put(key, cur.encode()); err != nil {
		return err
	}
	return t.put(sieveExpiryKey(cur.expires, kind, key), nil)
}

func (t *txn) loadSieveRecord(key []byte) (*sieveRecord, error) {
	v, ok, err := t.get(key)
	if err != nil || !ok {
		return nil, err
	}
	r, err := decodeSieveRecord(v)
	if err != nil {
		return nil, fmt.Errorf("stored %w", err)
	}
	return &r, nil
}

// vacationReplied records the reply and queues it, unless a record of
// (user, handle, sender) still runs at replied_unix (RFC 5230 §4.2): then
// the event is skipped, reported as sender with ALREADY_REPLIED in
// skipped_recipients, and nothing is queued (the reply's body, stored
// earlier in the batch, stays unreferenced for the collector). A user
// deleted since the proposer looked is skipped alike with NO_SUCH_USER:
// the delivery the event travels with must not fail for it.
func (t *txn) vacationReplied(e *evlog.VacationReplied) (*evlog.EventResult, error) {
	user, sender, handle := e.GetUser(), e.GetSender(), e.GetHandle()
	if err := checkAddress("vacation user", user); err != nil {
		return nil, err
	}
	if sender == "" || len(sender) > maxAddressLen || hasControl(sender) {
		return nil, refuse(errInvalid, "vacation sender %q", sender)
	}
	if len(handle) > MaxVacationHandleLen {
		return nil, refuse(errInvalid, "vacation handle of %d bytes: at most %d", len(handle), MaxVacationHandleLen)
	}
	if err := checkTime("vacation reply time", e.GetRepliedUnix()); err != nil {
		return nil, err
	}
	if e.GetExpiresUnix() <= e.GetRepliedUnix() {
		return nil, refuse(errInvalid, "vacation record expires (%d) before the reply (%d)", e.GetExpiresUnix(), e.GetRepliedUnix())
	}
	if e.GetReply() == nil {
		return nil, refuse(errInvalid, "vacation record without its reply")
	}
	skip := func(code evlog.ErrorCode) *evlog.EventResult {
		return &evlog.EventResult{Skipped: []string{sender},
			SkippedRecipients: []*evlog.SkippedRecipient{{Address: sender, Reason: code}}}
	}
	if ok, err := t.has(userKey(user)); err != nil || !ok {
		return skip(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER), err
	}
	key := vacationKey(user, sender, handle)
	old, err := t.loadSieveRecord(key)
	if err != nil {
		return nil, err
	}
	if old != nil && old.expires > e.GetRepliedUnix() {
		t.logger.Debug("vacation reply already sent in its period", "raft_index", t.index, "user", user, "from", sender)
		return skip(errAlreadyReplied), nil
	}
	if err := t.putSieveRecord(key, expiryVacation, old, sieveRecord{at: e.GetRepliedUnix(), expires: e.GetExpiresUnix()}); err != nil {
		return nil, err
	}
	return t.queued(e.GetReply())
}

// duplicateRecorded remembers each id until expires_unix; an id still
// tracked keeps the later expiry, so that records from two nodes merge
// whatever their commit order. A user deleted since is ignored.
func (t *txn) duplicateRecorded(e *evlog.DuplicateRecorded) (*evlog.EventResult, error) {
	user, ids := e.GetUser(), e.GetIds()
	if err := checkAddress("duplicate user", user); err != nil {
		return nil, err
	}
	if len(ids) == 0 || len(ids) > MaxDuplicateIDs {
		return nil, refuse(errInvalid, "duplicate: %d ids (1 to %d)", len(ids), MaxDuplicateIDs)
	}
	for _, id := range ids {
		if len(id) == 0 || len(id) > MaxDuplicateIDLen {
			return nil, refuse(errInvalid, "duplicate: an id of %d bytes (1 to %d)", len(id), MaxDuplicateIDLen)
		}
	}
	if err := checkTime("duplicate time", e.GetSeenUnix()); err != nil {
		return nil, err
	}
	if e.GetExpiresUnix() <= e.GetSeenUnix() {
		return nil, refuse(errInvalid, "duplicate record expires (%d) before it is seen (%d)", e.GetExpiresUnix(), e.GetSeenUnix())
	}
	if ok, err := t.has(userKey(user)); err != nil || !ok {
		return nil, err
	}
	for _, id := range ids {
		key := duplicateKey(user, id)
		old, err := t.loadSieveRecord(key)
		if err != nil {
			return nil, err
		}
		cur := sieveRecord{at: e.GetSeenUnix(), expires: e.GetExpiresUnix()}
		if old != nil && old.expires > cur.at {
			cur = sieveRecord{at: max(old.at, cur.at), expires: max(old.expires, cur.expires)}
		}
		if old != nil && *old == cur {
			continue
		}
		if err := t.putSieveRecord(key, expiryDuplicate, old, cur); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// sievePruned forgets the vacation and duplicate records that expired at
// or before before_unix, in expiry order through the svx/ index.
func (t *txn) sievePruned(e *evlog.SievePruned) (*evlog.EventResult, error) {
	if e.GetBeforeUnix() < 0 {
		return nil, refuse(errInvalid, "prune time before the epoch")
	}
	upper := binary.BigEndian.AppendUint64([]byte(prefixSieveExpiry), uint64(e.GetBeforeUnix())+1)
	expired, err := t.scan([]byte(prefixSieveExpiry), upper)
	if err != nil {
		return nil, err
	}
	for _, x := range expired {
		rk, err := sieveRecordKeyOf(x.key)
		if err != nil {
			return nil, err
		}
		if err := t.del(rk); err != nil {
			return nil, err
		}
		if err := t.del(x.key); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// sieveRecordKeyOf is the svv/ or svd/ key an svx/ key indexes.
func sieveRecordKeyOf(expiryKey []byte) ([]byte, error) {
	if len(expiryKey) < prefixLen+9 {
		return nil, fmt.Errorf("sieve expiry key %x", expiryKey)
	}
	rest := expiryKey[prefixLen+9:]
	switch expiryKey[prefixLen+8] {
	case expiryVacation:
		return append([]byte(prefixVacation), rest...), nil
	case expiryDuplicate:
		return append([]byte(prefixDuplicate), rest...), nil
	}
	return nil, fmt.Errorf("sieve expiry key %x of an unknown kind", expiryKey)
}

func (t *txn) forwardingSet(e *evlog.ForwardingSet) (*evlog.EventResult, error) {
	user, to := e.GetUser(), e.GetAddresses()
	if err := checkAddress("forwarding user", user); err != nil {
		return nil, err
	}
	if len(to) > MaxForwardAddresses {
		return nil, refuse(errInvalid, "forwarding to %d addresses: at most %d", len(to), MaxForwardAddresses)
	}
	for i, a := range to {
		if err := checkAddress("forwarding address", a); err != nil {
			return nil, err
		}
		for _, b := range to[:i] {
			if a == b {
				return nil, refuse(errInvalid, "forwarding address %q twice", a)
			}
		}
	}
	if err := t.mustHave(userKey(user), evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, "forwarding for %q", user); err != nil {
		return nil, err
	}
	if len(to) == 0 {
		return nil, t.del(forwardKey(user))
	}
	return nil, t.putRecord(forwardKey(user), &evlog.ForwardingSet{User: user, Addresses: to, Keep: e.GetKeep()})
}

// srsKeyAdded keeps the secret (one already kept changes nothing); past
// MaxSrsKeys the oldest goes.
func (t *txn) srsKeyAdded(e *evlog.SrsKeyAdded) (*evlog.EventResult, error) {
	key := e.GetKey()
	if len(key) < srsKeyMinLen || len(key) > srsKeyMaxLen {
		return nil, refuse(errInvalid, "SRS key of %d bytes (%d to %d)", len(key), srsKeyMinLen, srsKeyMaxLen)
	}
	if err := checkTime("SRS key time", e.GetAddedUnix()); err != nil {
		return nil, err
	}
	keys, err := t.scan([]byte(prefixSrsKey), prefixEnd([]byte(prefixSrsKey)))
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if bytes.Equal(k.value, key) {
			return nil, nil
		}
	}
	if err := t.put(srsKeyKey(e.GetAddedUnix(), key), key); err != nil {
		return nil, err
	}
	keys, err = t.scan([]byte(prefixSrsKey), prefixEnd([]byte(prefixSrsKey)))
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(keys)-MaxSrsKeys; i++ {
		if err := t.del(keys[i].key); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// deleteSieveState deletes an owner's scripts and active mark, and for a
// user its vacation and duplicate records (with their expiry index) and
// forwarding: UserDeleted, and DomainRemoved for "@domain".
func (t *txn) deleteSieveState(owner string) error {
	if err := t.deletePrefix(sieveScriptPrefix(owner)); err != nil {
		return err
	}
	if err := t.del(sieveActiveKey(owner)); err != nil {
		return err
	}
	if strings.HasPrefix(owner, "@") {
		return nil
	}
	for _, r := range []struct {
		prefix []byte
		kind   byte
	}{{vacationUserPrefix(owner), expiryVacation}, {duplicateUserPrefix(owner), expiryDuplicate}} {
		recs, err := t.scan(r.prefix, prefixEnd(r.prefix))
		if err != nil {
			return err
		}
		for _, x := range recs {
			rec, err := decodeSieveRecord(x.value)
			if err != nil {
				return fmt.Errorf("stored %w", err)
			}
			if err := t.del(sieveExpiryKey(rec.expires, r.kind, x.key)); err != nil {
				return err
			}
			if err := t.del(x.key); err != nil {
				return err
			}
		}
	}
	return t.del(forwardKey(owner))
}

// checkCatchAll validates a domain's catch-all target: empty (none) or an
// existing user (any domain's), so that unknown local parts of domain
// have somewhere to go. A target deleted later leaves the setting in
// place; ResolveRecipient then ignores it.
func (t *txn) checkCatchAll(domain, user string) error {
	if user == "" {
		return nil
	}
	if err := checkAddress("catch-all user", user); err != nil {
		return err
	}
	return t.mustHave(userKey(user), evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, "catch-all of %q: no user %q", domain, user)
}
