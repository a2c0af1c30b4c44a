package mailbox

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	evlog "github.com/surat-mail/surat/log"
)

func scriptPut(owner, name, src string, activate bool) *evlog.Event {
	return sieveEv(&evlog.SieveScriptPut{Owner: owner, Name: name, Script: []byte(src), PutUnix: 1_800_000_000,
		MaxScripts: 3, MaxBytes: 100, Activate: activate})
}

func scriptNames(t *testing.T, s *Store, owner string) (names []string, active string) {
	t.Helper()
	list, err := s.SieveScripts(owner)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range list {
		names = append(names, i.Name)
		if i.Active {
			if active != "" {
				t.Fatalf("two active scripts: %s, %s", active, i.Name)
			}
			active = i.Name
		}
	}
	return names, active
}

func TestSieveScripts(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	h.ok(scriptPut(userA, "b", "keep;", false), scriptPut(userA, "a", "discard;", true))
	names, active := scriptNames(t, h.s, userA)
	if len(names) != 2 || names[0] != "a" || names[1] != "b" || active != "a" {
		t.Fatalf("scripts %v, active %q", names, active)
	}
	sc, err := h.s.SieveScriptNamed(userA, "b")
	if err != nil || string(sc.Source) != "keep;" || sc.Active || sc.Put.Unix() != 1_800_000_000 {
		t.Fatalf("b = %+v, %v", sc, err)
	}
	if _, err := h.s.SieveScriptNamed(userA, "c"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing script: %v", err)
	}
	// Replacing keeps it active.
	h.ok(scriptPut(userA, "a", "stop;", false))
	if sc, err := h.s.ActiveSieveScript(userA); err != nil || sc.Name != "a" || string(sc.Source) != "stop;" {
		t.Fatalf("active = %+v, %v", sc, err)
	}
	// Limits stamped by the proposer.
	h.ok(scriptPut(userA, "c", "keep;", false))
	h.fails(errScriptQuota, scriptPut(userA, "d", "keep;", false))
	h.fails(errScriptQuota, scriptPut(userA, "c", string(make([]byte, 101)), false))
	h.ok(scriptPut(userA, "c", "replaced within the count;", false))
	// Owners and names.
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, scriptPut(nouser, "a", "keep;", false))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, scriptPut("@nowhere.test", "a", "keep;", false))
	h.fails(errInvalid, scriptPut(userA, "", "keep;", false))
	h.fails(errInvalid, scriptPut(userA, "tab\there", "keep;", false))
	h.fails(errInvalid, scriptPut(userA, "line\u2028sep", "keep;", false))
	h.ok(scriptPut(userA, "c", "keep;", false))
	// Delete: not the active one (RFC 5804 §2.10).
	h.fails(errScriptActive, sieveEv(&evlog.SieveScriptDeleted{Owner: userA, Name: "a"}))
	h.fails(errNoSuchScript, sieveEv(&evlog.SieveScriptDeleted{Owner: userA, Name: "zz"}))
	h.ok(sieveEv(&evlog.SieveScriptDeleted{Owner: userA, Name: "b"}))
	// Rename keeps the active mark.
	h.fails(errScriptExists, sieveEv(&evlog.SieveScriptRenamed{Owner: userA, Name: "a", NewName: "c"}))
	h.fails(errNoSuchScript, sieveEv(&evlog.SieveScriptRenamed{Owner: userA, Name: "zz", NewName: "y"}))
	h.ok(sieveEv(&evlog.SieveScriptRenamed{Owner: userA, Name: "a", NewName: "x"}))
	if names, active := scriptNames(t, h.s, userA); len(names) != 2 || active != "x" {
		t.Fatalf("after rename: %v, active %q", names, active)
	}
	// Activate, deactivate.
	h.fails(errNoSuchScript, sieveEv(&evlog.SieveScriptActivated{Owner: userA, Name: "zz"}))
	h.ok(sieveEv(&evlog.SieveScriptActivated{Owner: userA, Name: "c"}))
	if _, active := scriptNames(t, h.s, userA); active != "c" {
		t.Fatalf("active %q", active)
	}
	h.ok(sieveEv(&evlog.SieveScriptActivated{Owner: userA}))
	if _, err := h.s.ActiveSieveScript(userA); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deactivated: %v", err)
	}
	h.ok(sieveEv(&evlog.SieveScriptActivated{Owner: userA})) // none active: fine
	h.ok(sieveEv(&evlog.SieveScriptDeleted{Owner: userA, Name: "x"}))
}

func TestSieveDeliveryScripts(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), domainAdded("example.net"), userCreated(userA, 1000))
	d, err := h.s.ScriptsForDelivery(userA)
	if err != nil || d.Global != nil || d.Domain != nil || d.User != nil || len(d.Before()) != 0 {
		t.Fatalf("none: %+v, %v", d, err)
	}
	h.ok(scriptPut(GlobalSieveOwner, "g", "global;", true), scriptPut(DomainSieveOwner("example.org"), "d", "domain;", true),
		scriptPut(DomainSieveOwner("example.net"), "n", "other;", true), scriptPut(userA, "u", "user;", true),
		scriptPut(userA, "v", "inactive;", false))
	d, err = h.s.ScriptsForDelivery(userA)
	if err != nil {
		t.Fatal(err)
	}
	before := d.Before()
	if len(before) != 2 || string(before[0].Source) != "global;" || string(before[1].Source) != "domain;" ||
		string(d.User.Source) != "user;" || d.User.Owner != userA {
		t.Fatalf("scripts %+v", d)
	}
	// A removed domain takes its administrators' scripts along; a deleted
	// user, theirs.
	h.ok(domainRemoved("example.net"))
	if list, _ := h.s.SieveScripts(DomainSieveOwner("example.net")); len(list) != 0 {
		t.Fatalf("removed domain's scripts %v", list)
	}
	h.ok(userDeleted(userA))
	if list, _ := h.s.SieveScripts(userA); len(list) != 0 {
		t.Fatalf("deleted user's scripts %v", list)
	}
	checkInvariants(t, h.s)
}

func vacation(user, sender, handle string, replied, expires int64, qid byte, hash []byte, size int) *evlog.Event {
	q := vacationReply(qid, hash, size, replied)
	q.Recipients[0].Address = sender
	return sieveEv(&evlog.VacationReplied{User: user, Sender: sender, Handle: handle, RepliedUnix: replied,
		ExpiresUnix: expires, Reply: q})
}

func TestVacationOncePerPeriod(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	const t0 = 1_800_000_000
	const week = 7 * 86400
	body := "Subject: Auto: away\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n"
	hash := h.store(body)
	run := func(now int64) bool {
		ok, err := h.s.VacationRunning(userA, "", "s@remote.test", time.Unix(now, 0))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if run(t0) {
		t.Fatal("running before any reply")
	}
	r := h.one(vacation(userA, "s@remote.test", "", t0, t0+week, 1, hash, len(body)))
	if len(r.GetSkippedRecipients()) != 0 {
		t.Fatalf("first reply skipped: %v", r)
	}
	if n, _ := h.s.QueueLength(); n != 1 {
		t.Fatalf("%d queued, want the reply", n)
	}
	if !run(t0+week-1) || run(t0+week) {
		t.Fatal("record not running over exactly its period")
	}
	// A second reply in the period (another node, a retry after failover)
	// is skipped and not queued; the delivery it travels with goes on.
	r = h.one(vacation(userA, "s@remote.test", "", t0+60, t0+60+week, 2, hash, len(body)))
	if s := r.GetSkippedRecipients(); len(s) != 1 || s[0].GetReason() != errAlreadyReplied || s[0].GetAddress() != "s@remote.test" {
		t.Fatalf("second reply: %v", r)
	}
	if n, _ := h.s.QueueLength(); n != 1 {
		t.Fatalf("%d queued after the skipped reply", n)
	}
	// Another handle or sender is another record.
	h.one(vacation(userA, "s@remote.test", "other", t0+60, t0+60+week, 3, hash, len(body)))
	h.one(vacation(userA, "t@remote.test", "", t0+60, t0+60+week, 4, hash, len(body)))
	if n, _ := h.s.QueueLength(); n != 3 {
		t.Fatalf("%d queued", n)
	}
	// After the period, unpruned: a new reply.
	r = h.one(vacation(userA, "s@remote.test", "", t0+week, t0+2*week, 5, hash, len(body)))
	if len(r.GetSkippedRecipients()) != 0 {
		t.Fatalf("reply after the period skipped: %v", r)
	}
	// A deleted user's reply is skipped, not refused.
	r = h.one(vacation(userB, "s@remote.test", "", t0, t0+week, 6, hash, len(body)))
	if s := r.GetSkippedRecipients(); len(s) != 1 || s[0].GetReason() != evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER {
		t.Fatalf("no user: %v", r)
	}
	h.fails(errInvalid, vacation(userA, "s@remote.test", "", t0, t0, 7, hash, len(body)))
	h.fails(errInvalid, sieveEv(&evlog.VacationReplied{User: userA, Sender: "s@remote.test", RepliedUnix: t0, ExpiresUnix: t0 + 1}))
	checkInvariants(t, h.s)
}

func TestDuplicateAndPrune(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	const t0 = 1_800_000_000
	id1, id2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	seen := func(id []byte, now int64) bool {
		ok, err := h.s.DuplicateSeen(userA, id, time.Unix(now, 0))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	dup := func(seen, expires int64, ids ...[]byte) *evlog.Event {
		return sieveEv(&evlog.DuplicateRecorded{User: userA, Ids: ids, SeenUnix: seen, ExpiresUnix: expires})
	}
	h.ok(dup(t0, t0+100, id1, id2))
	if !seen(id1, t0+99) || seen(id1, t0+100) || seen([]byte{3}, t0) {
		t.Fatal("duplicate records not judged by their expiry")
	}
	// A shorter record committed later keeps the longer expiry.
	h.ok(dup(t0+10, t0+50, id1))
	if !seen(id1, t0+99) {
		t.Fatal("merge shortened the record")
	}
	h.ok(dup(t0+20, t0+300, id1))
	if !seen(id1, t0+299) {
		t.Fatal("merge did not lengthen the record")
	}
	h.ok(dup(t0, t0+1, id1)) // for a deleted user: ignored
	h.fails(errInvalid, dup(t0, t0+1))
	h.fails(errInvalid, dup(t0, t0, id1))
	h.fails(errInvalid, dup(t0, t0+1, make([]byte, MaxDuplicateIDLen+1)))

	body := "Subject: Auto\r\n\r\nAway.\r\n"
	hash := h.store(body)
	h.one(vacation(userA, "s@remote.test", "", t0, t0+200, 1, hash, len(body)))
	next, ok, err := h.s.NextSieveExpiry()
	if err != nil || !ok || next.Unix() != t0+100 {
		t.Fatalf("NextSieveExpiry = %v, %v, %v", next, ok, err)
	}
	h.ok(sieveEv(&evlog.SievePruned{BeforeUnix: t0 + 200}))
	next, ok, err = h.s.NextSieveExpiry()
	if err != nil || !ok || next.Unix() != t0+300 {
		t.Fatalf("after prune NextSieveExpiry = %v, %v, %v", next, ok, err)
	}
	if seen(id2, 0) {
		t.Fatal("pruned id still seen")
	}
	// The user's records go with the user, index and all.
	h.ok(userDeleted(userA))
	if _, ok, _ := h.s.NextSieveExpiry(); ok {
		t.Fatal("records left after the user was deleted")
	}
}

func TestForwardingAndSRSKeys(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	fwd := func(keep bool, to ...string) *evlog.Event {
		return sieveEv(&evlog.ForwardingSet{User: userA, Addresses: to, Keep: keep})
	}
	if _, ok, err := h.s.ForwardingOf(userA); ok || err != nil {
		t.Fatalf("forwarding before any: %v, %v", ok, err)
	}
	h.ok(fwd(true, "x@remote.test", "y@remote.test"))
	f, ok, err := h.s.ForwardingOf(userA)
	if err != nil || !ok || !f.Keep || len(f.Addresses) != 2 || f.Addresses[1] != "y@remote.test" {
		t.Fatalf("forwarding %+v, %v, %v", f, ok, err)
	}
	h.fails(errInvalid, fwd(false, "x@remote.test", "x@remote.test"))
	h.fails(errInvalid, fwd(false, "not an address"))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, sieveEv(&evlog.ForwardingSet{User: nouser, Addresses: []string{"x@remote.test"}}))
	h.ok(fwd(false))
	if _, ok, _ := h.s.ForwardingOf(userA); ok {
		t.Fatal("forwarding not cleared")
	}

	if keys, err := h.s.SRSKeys(); err != nil || len(keys) != 0 {
		t.Fatalf("keys %d, %v", len(keys), err)
	}
	key := func(n byte) []byte { return bytes.Repeat([]byte{n}, 32) }
	for i := range MaxSrsKeys + 2 {
		h.ok(sieveEv(&evlog.SrsKeyAdded{Key: key(byte(i)), AddedUnix: int64(1_800_000_000 + i)}))
	}
	h.ok(sieveEv(&evlog.SrsKeyAdded{Key: key(3), AddedUnix: 1_900_000_000})) // kept already: nothing
	keys, err := h.s.SRSKeys()
	if err != nil || len(keys) != MaxSrsKeys || !bytes.Equal(keys[0], key(MaxSrsKeys+1)) || !bytes.Equal(keys[MaxSrsKeys-1], key(2)) {
		t.Fatalf("keys %x, %v", keys, err)
	}
	h.fails(errInvalid, sieveEv(&evlog.SrsKeyAdded{Key: []byte("short"), AddedUnix: 1}))
	// The digest covers the keys without carrying them.
	var inputs [][]byte
	if _, err := h.s.digestInputs(func(k, v []byte) { inputs = append(inputs, bytes.Clone(v)) }); err != nil {
		t.Fatal(err)
	}
	for _, v := range inputs {
		if bytes.Equal(v, key(5)) {
			t.Fatal("an SRS key is among the digest's inputs")
		}
	}
}

func TestCatchAllAndPlusFolders(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000), userCreated(userB, 1000), aliasAdded("alias@example.org", userB))
	set := func(catchAll *string, plus *bool) *evlog.Event {
		return ev(&evlog.DomainSettingsChanged{Domain: "example.org", CatchAll: catchAll, PlusFolders: plus, ChangedUnix: 1})
	}
	resolve := func(a string) (Recipient, error) { return h.s.ResolveRecipient(a) }
	if _, err := resolve("unknown@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown without catch-all: %v", err)
	}
	ca, plus := userA, true
	h.ok(set(&ca, &plus))
	d, err := h.s.DomainSettings("example.org")
	if err != nil || d.GetCatchAll() != userA || !d.GetPlusFolders() {
		t.Fatalf("settings %v, %v", d, err)
	}
	if c, p, err := h.s.DomainAddressing("example.org"); err != nil || c != userA || !p {
		t.Fatalf("DomainAddressing = %q, %v, %v", c, p, err)
	}
	if _, _, err := h.s.DomainAddressing("elsewhere.test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DomainAddressing of no domain: %v", err)
	}
	for _, c := range []struct {
		addr, user, detail string
		how                Resolution
	}{
		{userB, userB, "", ResolvedExact},
		{"alias@example.org", userB, "", ResolvedExact},
		{"unknown@example.org", userA, "", ResolvedCatchAll},
		{"alias+lists@example.org", userB, "lists", ResolvedPlus},
		{"nobody+x@example.org", userA, "", ResolvedCatchAll},
	} {
		rc, err := resolve(c.addr)
		if err != nil || rc.User != c.user || rc.Detail != c.detail || rc.How != c.how || !rc.PlusFolders {
			t.Errorf("%s: %+v, %v", c.addr, rc, err)
		}
	}
	if _, err := resolve("x@elsewhere.test"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other domain: %v", err)
	}
	// Other settings keep the catch-all; a deleted target is ignored.
	h.ok(ev(&evlog.DomainSettingsChanged{Domain: "example.org", DmarcPolicy: ptr("none"), ChangedUnix: 2}))
	h.ok(userDeleted(userA))
	if _, err := resolve("unknown@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted catch-all: %v", err)
	}
	bad := nouser
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, set(&bad, nil))
	none := ""
	h.ok(set(&none, nil))
	if d, _ := h.s.DomainSettings("example.org"); d.GetCatchAll() != "" || !d.GetPlusFolders() {
		t.Fatalf("cleared: %v", d)
	}
}

func ptr[T any](v T) *T { return &v }

// FuzzSieveRecords: the decoders of Sieve values and expiry keys never
// panic; a name CheckSieveName accepts is UTF-8 without controls; a
// record round-trips through its expiry key.
func FuzzSieveRecords(f *testing.F) {
	f.Add([]byte("main"), []byte{0, 0, 0, 0, 0, 0, 0, 1, 'k'}, "ann@example.org", "s@remote.test", "handle")
	f.Add([]byte("line\u2028sep"), []byte{}, "a@b", "", "\x00")
	f.Fuzz(func(t *testing.T, name, value []byte, user, sender, handle string) {
		if CheckSieveName(string(name)) == nil {
			if !utf8.Valid(name) {
				t.Fatalf("accepted %q, not UTF-8", name)
			}
			for _, r := range string(name) {
				if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 {
					t.Fatalf("accepted %q", name)
				}
			}
		}
		_, _, _ = decodeSieveScript(value)
		_, _ = decodeSieveRecord(value)
		_, _ = sieveRecordKeyOf(value)
		key := vacationKey(user, sender, handle)
		x := sieveExpiryKey(1_800_000_000, expiryVacation, key)
		back, err := sieveRecordKeyOf(x)
		if err != nil || !bytes.Equal(back, key) {
			t.Fatalf("expiry key of %q gives %q, %v", key, back, err)
		}
	})
}

// TestPublicFolders: a domain's public folders account must be an existing
// user of that domain; PublicFolders ignores one deleted since, as
// ResolveRecipient ignores a deleted catch-all.
func TestPublicFolders(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), domainAdded("example.net"), userCreated(userA, 1000), userCreated(userB, 1000),
		userCreated("c@example.net", 1000))
	set := func(a string) *evlog.Event {
		return ev(&evlog.DomainSettingsChanged{Domain: "example.org", PublicFolders: &a, ChangedUnix: 1})
	}
	get := func() string {
		t.Helper()
		a, err := h.s.PublicFolders("example.org")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := get(); a != "" {
		t.Fatalf("unset: %q", a)
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, set(nouser))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, set("c@example.net"))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, set("not an address"))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN, ev(&evlog.DomainSettingsChanged{Domain: "example.com", PublicFolders: ptr(userA)}))
	h.ok(set(userA))
	if a := get(); a != userA {
		t.Fatalf("set: %q", a)
	}
	if d, _ := h.s.DomainSettings("example.org"); d.GetPublicFolders() != userA {
		t.Fatalf("record: %v", d)
	}
	// Other settings keep it; the other domain has none.
	h.ok(ev(&evlog.DomainSettingsChanged{Domain: "example.org", CatchAll: ptr(userB), ChangedUnix: 2}))
	if a := get(); a != userA {
		t.Fatalf("after another setting: %q", a)
	}
	if a, err := h.s.PublicFolders("example.net"); err != nil || a != "" {
		t.Fatalf("other domain: %q, %v", a, err)
	}
	if a, err := h.s.PublicFolders("elsewhere.test"); err != nil || a != "" {
		t.Fatalf("no such domain: %q, %v", a, err)
	}
	// A deleted account is ignored; the setting stays until cleared.
	h.ok(userDeleted(userA))
	if a := get(); a != "" {
		t.Fatalf("deleted account: %q", a)
	}
	if d, _ := h.s.DomainSettings("example.org"); d.GetPublicFolders() != userA {
		t.Fatalf("record after delete: %v", d)
	}
	h.ok(set(""))
	if d, _ := h.s.DomainSettings("example.org"); d.GetPublicFolders() != "" {
		t.Fatalf("cleared: %v", d)
	}
}
