package mailbox

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

func banAdded(prefix string, created, expires int64, reason string) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_BanAdded{BanAdded: &evlog.BanAdded{
		Prefix: prefix, CreatedUnix: created, ExpiresUnix: expires, Reason: reason, Source: "admin"}}}
}

func banRemoved(prefix string) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_BanRemoved{BanRemoved: &evlog.BanRemoved{Prefix: prefix}}}
}

func bansPruned(now int64) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_BansPruned{BansPruned: &evlog.BansPruned{NowUnix: now}}}
}

func TestBanLookup(t *testing.T) {
	h := newHarness(t)
	now := time.Unix(1_800_000_000, 0)
	h.ok(banAdded("192.0.2.7/32", now.Unix(), now.Unix()+3600, "guessing"),
		banAdded("198.51.100.0/24", now.Unix(), 0, "spam run"),
		banAdded("2001:db8:1:2::/64", now.Unix(), now.Unix()+60, "v6 guessing"),
		banAdded("10.0.0.0/8", now.Unix()-100, now.Unix()-1, "expired already"))
	for ip, want := range map[string]string{
		"192.0.2.7":              "192.0.2.7/32",
		"192.0.2.8":              "",
		"198.51.100.200":         "198.51.100.0/24",
		"::ffff:198.51.100.1":    "198.51.100.0/24",
		"2001:db8:1:2:ffff::1":   "2001:db8:1:2::/64",
		"2001:db8:1:3::1":        "",
		"10.1.2.3":               "", // expired: stops counting at read time
		"2001:db8:1:2::1%eth0":   "2001:db8:1:2::/64",
		"203.0.113.1":            "",
		"::":                     "",
		"2001:db8:1:2::dead:bee": "2001:db8:1:2::/64",
	} {
		a := netip.MustParseAddr(ip)
		got, ok := banPrefixFor(t, h.s, a, now)
		if got != want {
			t.Errorf("BanFor(%s) = %q, want %q", ip, got, want)
		}
		if h.s.Banned(a, now) != (want != "") {
			t.Errorf("Banned(%s) = %v", ip, !ok)
		}
	}
	// Expiry is judged against the caller's now.
	v6 := netip.MustParseAddr("2001:db8:1:2::1")
	if h.s.Banned(v6, now.Add(time.Minute)) || !h.s.Banned(v6, now.Add(59*time.Second)) {
		t.Error("a ban counts exactly until its expiry")
	}
	if !h.s.Banned(netip.MustParseAddr("198.51.100.1"), now.Add(100*365*24*time.Hour)) {
		t.Error("a ban without expiry stops counting")
	}
	// A shorter active prefix covers an address whose longer ban expired.
	h.ok(banAdded("192.0.0.0/16", now.Unix(), 0, "wide"), banAdded("192.0.2.7/32", now.Unix()-10, now.Unix()-5, "old"))
	if b, ok, _ := h.s.BanFor(netip.MustParseAddr("192.0.2.7"), now); !ok || b.Prefix.String() != "192.0.0.0/16" {
		t.Errorf("longest active prefix: %v %v", b, ok)
	}

	list, err := h.s.Bans(now)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range list {
		got = append(got, b.GetPrefix()+" "+b.GetReason())
	}
	want := []string{"192.0.0.0/16 wide", "198.51.100.0/24 spam run", "2001:db8:1:2::/64 v6 guessing"}
	if len(got) != len(want) {
		t.Fatalf("Bans = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Bans = %q, want %q", got, want)
		}
	}
}

// banPrefixFor is the prefix of the ban BanFor finds, "" when none.
func banPrefixFor(t *testing.T, s *Store, a netip.Addr, now time.Time) (string, bool) {
	t.Helper()
	b, ok, err := s.BanFor(a, now)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "", false
	}
	return b.Prefix.String(), true
}

func TestBanReplaceRemovePrune(t *testing.T) {
	h := newHarness(t)
	h.ok(banAdded("192.0.2.7/32", 100, 200, "first"))
	h.ok(banAdded("192.0.2.7/32", 150, 1000, "second")) // replaces, moves its expiry
	at, ok, err := h.s.NextBanExpiry()
	if err != nil || !ok || at.Unix() != 1000 {
		t.Fatalf("NextBanExpiry = %v %v %v, want 1000", at, ok, err)
	}
	h.ok(bansPruned(999)) // nothing expired yet: the old expiry index is gone
	if !h.s.Banned(netip.MustParseAddr("192.0.2.7"), time.Unix(500, 0)) {
		t.Fatal("re-added ban lost to a prune of its old expiry")
	}
	h.ok(banAdded("198.51.100.0/24", 100, 0, "forever"), banAdded("2001:db8::/64", 100, 1000, "v6"),
		banAdded("203.0.113.0/24", 100, 1001, "later"))
	h.ok(bansPruned(1000))
	list, _ := h.s.Bans(time.Unix(0, 0))
	if len(list) != 2 || list[0].GetPrefix() != "198.51.100.0/24" || list[1].GetPrefix() != "203.0.113.0/24" {
		t.Fatalf("after prune at 1000: %v", list)
	}
	if list[1].GetExpiresUnix() != 1001 || list[1].GetCreatedUnix() != 100 || list[1].GetSource() != "admin" || list[0].GetExpiresUnix() != 0 {
		t.Fatalf("ban fields: %+v", list)
	}
	h.ok(banRemoved("198.51.100.0/24"))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BAN, banRemoved("198.51.100.0/24"))
	h.ok(bansPruned(5000))
	if _, ok, _ := h.s.NextBanExpiry(); ok {
		t.Fatal("an expiry left after pruning everything")
	}
	checkNoBanKeys(t, h.s)
}

func checkNoBanKeys(t *testing.T, s *Store) {
	t.Helper()
	err := s.view(func(r reader) error {
		for _, p := range []string{prefixBan, prefixBanExpiry} {
			err := scanRange(r, []byte(p), prefixEnd([]byte(p)), func(k, _ []byte) (bool, error) {
				t.Errorf("key %x left", k)
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBanRefusals(t *testing.T) {
	h := newHarness(t)
	for name, e := range map[string]*evlog.Event{
		"not canonical":    banAdded("192.0.2.7/24", 1, 0, ""),
		"bare address":     banAdded("192.0.2.7", 1, 0, ""),
		"v6 too long":      banAdded("2001:db8::1/128", 1, 0, ""),
		"v4 in v6":         banAdded("::ffff:192.0.2.7/128", 1, 0, ""),
		"upper case v6":    banAdded("2001:DB8::/64", 1, 0, ""),
		"zone":             banAdded("fe80::%eth0/64", 1, 0, ""),
		"expires first":    banAdded("192.0.2.7/32", 100, 100, ""),
		"negative created": banAdded("192.0.2.7/32", -1, 0, ""),
		"control reason":   banAdded("192.0.2.7/32", 1, 0, "a\nb"),
		"remove garbage":   banRemoved("nonsense"),
		"prune negative":   bansPruned(-1),
	} {
		t.Run(name, func(t *testing.T) { h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, e) })
	}
}

// A password change or a re-creation gives the user a new credential
// index, which sessions compare (package doc).
func TestCredentialIndex(t *testing.T) {
	h := newHarness(t)
	h.ok(userCreated(userA, 1))
	first := h.user(userA).GetCredentialIndex()
	if first != h.index {
		t.Fatalf("credential index %d after UserCreated at %d", first, h.index)
	}
	h.ok(quotaSet(userA, 100))
	if h.user(userA).GetCredentialIndex() != first {
		t.Fatal("a quota change moved the credential index")
	}
	h.ok(ev(&evlog.PasswordChanged{Address: userA, PasswordHash: "x"}))
	second := h.user(userA).GetCredentialIndex()
	if second != h.index || second == first {
		t.Fatalf("credential index %d after PasswordChanged at %d", second, h.index)
	}
	h.ok(userDeleted(userA))
	h.ok(userCreated(userA, 1))
	if third := h.user(userA).GetCredentialIndex(); third == second || third != h.index {
		t.Fatalf("re-created user's credential index %d", third)
	}
}

// BenchmarkBanFor is the look-up every accepted connection pays: with no
// ban of the client's family, and with 10,000 bans of which none covers it.
func BenchmarkBanFor(b *testing.B) {
	for _, n := range []int{0, 10_000} {
		b.Run(fmt.Sprintf("bans=%d", n), func(b *testing.B) {
			h := newHarness(b)
			var evs []*evlog.Event
			for i := range n {
				evs = append(evs, banAdded(fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), 1, 0, ""))
				if len(evs) == 500 {
					h.ok(evs...)
					evs = nil
				}
			}
			if len(evs) > 0 {
				h.ok(evs...)
			}
			ip, now := netip.MustParseAddr("192.0.2.1"), time.Unix(2, 0)
			b.ResetTimer()
			for b.Loop() {
				if h.s.Banned(ip, now) {
					b.Fatal("banned")
				}
			}
		})
	}
}

// TestBanForMatchesBruteForce compares BanFor with the longest active
// prefix found by trying every ban, over random bans and addresses.
func TestBanForMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	h := newHarness(t)
	now := int64(1_000_000)
	type rec struct {
		p       netip.Prefix
		expires int64
	}
	bans := map[netip.Prefix]rec{}
	randAddr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			b[0], b[1], b[2] = 0x20, 0x01, byte(rng.IntN(4))
			b[3], b[7], b[15] = byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(256))
			return netip.AddrFrom16(b)
		}
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(4)), byte(rng.IntN(8))})
	}
	for range 300 {
		v6 := rng.IntN(3) == 0
		bits := rng.IntN(33)
		if v6 {
			bits = rng.IntN(evlog.MaxBanBitsIPv6 + 1)
		}
		p := netip.PrefixFrom(randAddr(v6), bits).Masked()
		var expires int64
		if rng.IntN(3) > 0 {
			expires = now - 50 + int64(rng.IntN(100))
		}
		h.ok(banAdded(p.String(), now-100, expires, ""))
		bans[p] = rec{p, expires}
	}
	for range 3000 {
		a := randAddr(rng.IntN(3) == 0)
		want := ""
		for _, r := range bans {
			if r.p.Contains(a) && (r.expires == 0 || now < r.expires) && (want == "" || r.p.Bits() > netip.MustParsePrefix(want).Bits()) {
				want = r.p.String()
			}
		}
		if got, _ := banPrefixFor(t, h.s, a, time.Unix(now, 0)); got != want {
			t.Fatalf("BanFor(%s) = %q, brute force %q", a, got, want)
		}
	}
}
