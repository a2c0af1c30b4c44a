package srs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var day0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func clock(t *time.Time) func() time.Time { return func() time.Time { return *t } }

func newRewriter(t *testing.T, domain string, now *time.Time, keys ...string) *Rewriter {
	t.Helper()
	var ks [][]byte
	for _, k := range keys {
		ks = append(ks, []byte(k))
	}
	r, err := New(ks, domain, clock(now))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNew(t *testing.T) {
	if _, err := New(nil, "fwd.example", nil); err == nil {
		t.Error("no keys: want an error")
	}
	if _, err := New([][]byte{{}}, "fwd.example", nil); err == nil {
		t.Error("empty key: want an error")
	}
	if _, err := New([][]byte{[]byte("k")}, "not a domain", nil); err == nil {
		t.Error("bad domain: want an error")
	}
	r, err := New([][]byte{[]byte("k")}, "FWD.Example.", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Domain() != "fwd.example" {
		t.Errorf("Domain() = %q", r.Domain())
	}
}

func TestRoundTripSRS0(t *testing.T) {
	now := day0
	r := newRewriter(t, "fwd.example", &now, "secret")
	for _, sender := range []string{
		"alice@example.org",
		"bob.smith+tag@Mail.Example.COM",
		"a=b=c@example.org",   // '=' in the local part
		"SRS2=x@example.org",  // looks like SRS but is not
		"ünïcode@example.org", // RFC 6531 local part
		"user@bücher.example", // IDN domain: carried as A-labels
		"o'neil/x!#$%&*@example.org",
	} {
		fwd, err := r.Forward(sender)
		if err != nil {
			t.Errorf("Forward(%q): %v", sender, err)
			continue
		}
		if !strings.HasPrefix(fwd, "SRS0=") || !strings.HasSuffix(fwd, "@fwd.example") {
			t.Errorf("Forward(%q) = %q, want SRS0=...@fwd.example", sender, fwd)
		}
		local, _, _ := strings.Cut(fwd, "@")
		if !IsSRS(local) {
			t.Errorf("IsSRS(%q) = false", local)
		}
		back, err := r.Reverse(fwd)
		if err != nil {
			t.Errorf("Reverse(%q): %v", fwd, err)
			continue
		}
		want := sender
		if sender == "user@bücher.example" {
			want = "user@xn--bcher-kva.example"
		}
		if sender == "bob.smith+tag@Mail.Example.COM" {
			want = "bob.smith+tag@mail.example.com"
		}
		if back != want {
			t.Errorf("Reverse(Forward(%q)) = %q, want %q", sender, back, want)
		}
	}
}

func TestForwardFormat(t *testing.T) {
	now := time.Unix(0, 0).Add(1000 * 24 * time.Hour) // day 1000 = 31*32+8: "7I"
	r := newRewriter(t, "fwd.example", &now, "secret")
	fwd, err := r.Forward("alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSuffix(fwd, "@fwd.example"), "=")
	if len(f) != 5 || f[0] != "SRS0" || len(f[1]) != 4 || f[2] != "7I" || f[3] != "example.org" || f[4] != "alice" {
		t.Errorf("Forward = %q, want SRS0=HHHH=7I=example.org=alice@fwd.example", fwd)
	}
}

func TestNullAndOwnSender(t *testing.T) {
	now := day0
	r := newRewriter(t, "fwd.example", &now, "secret")
	if got, err := r.Forward(""); got != "" || err != nil {
		t.Errorf("Forward(\"\") = %q, %v; want the null sender", got, err)
	}
	// SPF passes for our own domain already (libsrs2's default).
	if got, err := r.Forward("carol@FWD.example"); got != "carol@FWD.example" || err != nil {
		t.Errorf("Forward(own) = %q, %v", got, err)
	}
}

func TestForwardTooLong(t *testing.T) {
	now := day0
	r := newRewriter(t, "fwd.example", &now, "secret")
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("d", 60) + "." + strings.Repeat("e", 60) + "." + strings.Repeat("f", 60) + ".example"
	if got, err := r.Forward(long); !errors.Is(err, ErrTooLong) {
		t.Errorf("Forward(%d octets) = %q, %v; want ErrTooLong", len(long), got, err)
	}
}

func TestForwardRefuses(t *testing.T) {
	now := day0
	r := newRewriter(t, "fwd.example", &now, "secret")
	for _, sender := range []string{
		`"john doe"@example.org`,
		"user@[192.0.2.1]",
		"nodomain",
		"@example.org",
		"user@",
		"a b@example.org",
		"user@exa mple.org",
	} {
		if got, err := r.Forward(sender); !errors.Is(err, ErrSyntax) {
			t.Errorf("Forward(%q) = %q, %v; want ErrSyntax", sender, got, err)
		}
	}
}

// TestGuardedChain forwards through two SRS hosts: the second makes an
// SRS1 address naming the first, a bounce goes back through both.
func TestGuardedChain(t *testing.T) {
	now := day0
	a := newRewriter(t, "a.example", &now, "key-a")
	b := newRewriter(t, "b.example", &now, "key-b")
	c := newRewriter(t, "c.example", &now, "key-c")

	atA, err := a.Forward("alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	atB, err := b.Forward(atA)
	if err != nil {
		t.Fatal(err)
	}
	tail := strings.TrimPrefix(strings.TrimSuffix(atA, "@a.example"), "SRS0")
	if !strings.HasPrefix(atB, "SRS1=") || !strings.HasSuffix(atB, "=a.example="+tail+"@b.example") {
		t.Fatalf("b.Forward(%q) = %q, want SRS1=HHHH=a.example==...@b.example", atA, atB)
	}
	// A third hop keeps the first host, re-signs.
	atC, err := c.Forward(atB)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(atC, "SRS1=") || !strings.HasSuffix(atC, "=a.example="+tail+"@c.example") {
		t.Fatalf("c.Forward(%q) = %q", atB, atC)
	}
	for _, hop := range []struct {
		r    *Rewriter
		addr string
	}{{b, atB}, {c, atC}} {
		back, err := hop.r.Reverse(hop.addr)
		if err != nil {
			t.Fatalf("Reverse(%q): %v", hop.addr, err)
		}
		if back != atA {
			t.Errorf("Reverse(%q) = %q, want %q", hop.addr, back, atA)
		}
	}
	orig, err := a.Reverse(atA)
	if err != nil || orig != "alice@example.org" {
		t.Errorf("a.Reverse(%q) = %q, %v", atA, orig, err)
	}
	// c cannot verify b's hash.
	if _, err := c.Reverse(atB); !errors.Is(err, ErrHash) {
		t.Errorf("c.Reverse(b's address): %v, want ErrHash", err)
	}
}

func TestReverseCaseInsensitive(t *testing.T) {
	now := day0
	r := newRewriter(t, "fwd.example", &now, "secret")
	fwd, _ := r.Forward("alice@example.org")
	for _, addr := range []string{strings.ToLower(fwd), strings.ToUpper(fwd)} {
		back, err := r.Reverse(addr)
		if err != nil {
			t.Errorf("Reverse(%q): %v", addr, err)
			continue
		}
		if !strings.EqualFold(back, "alice@example.org") {
			t.Errorf("Reverse(%q) = %q", addr, back)
		}
	}
	// libsrs2 accepts '+' and '-' after SRS0 too.
	for _, sep := range []string{"+", "-"} {
		addr := "SRS0" + sep + strings.TrimPrefix(fwd, "SRS0=")
		if _, err := r.Reverse(addr); err != nil {
			t.Errorf("Reverse(%q): %v", addr, err)
		}
	}
}

func TestTimestamp(t *testing.T) {
	made := day0
	now := made
	r := newRewriter(t, "fwd.example", &now, "secret")
	fwd, err := r.Forward("alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		age  time.Duration
		want error
	}{
		{0, nil},
		{MaxAge * 24 * time.Hour, nil},
		{(MaxAge + 1) * 24 * time.Hour, ErrExpired},
		{-24 * time.Hour, nil},        // the maker's clock was a day ahead
		{-48 * time.Hour, ErrExpired}, // too far in the future
		{1024 * 24 * time.Hour, nil},  // modulo 1024: indistinguishable, as in libsrs2
		{500 * 24 * time.Hour, ErrExpired},
	} {
		now = made.Add(tc.age)
		_, err := r.Reverse(fwd)
		if !errors.Is(err, tc.want) {
			t.Errorf("age %v: Reverse: %v, want %v", tc.age, err, tc.want)
		}
	}
}

func TestDayBeforeEpoch(t *testing.T) {
	if d := day(time.Unix(-1, 0)); d != 1023 {
		t.Errorf("day(-1s) = %d, want 1023", d)
	}
	if d := day(time.Unix(86400*1025, 0)); d != 1 {
		t.Errorf("day(1025 days) = %d, want 1", d)
	}
}

func TestKeyRotation(t *testing.T) {
	now := day0
	old := newRewriter(t, "fwd.example", &now, "old")
	fwd, _ := old.Forward("alice@example.org")

	rotated := newRewriter(t, "fwd.example", &now, "new", "old")
	if back, err := rotated.Reverse(fwd); err != nil || back != "alice@example.org" {
		t.Errorf("after rotation, Reverse(old address) = %q, %v", back, err)
	}
	fresh, _ := rotated.Forward("alice@example.org")
	if _, err := old.Reverse(fresh); !errors.Is(err, ErrHash) {
		t.Errorf("the new key signs: old.Reverse(new address): %v, want ErrHash", err)
	}
	dropped := newRewriter(t, "fwd.example", &now, "new")
	if _, err := dropped.Reverse(fwd); !errors.Is(err, ErrHash) {
		t.Errorf("a dropped key verifies nothing: %v, want ErrHash", err)
	}
}

func TestReverseRefuses(t *testing.T) {
	now := day0
	r := newRewriter(t, "fwd.example", &now, "secret")
	fwd, _ := r.Forward("alice@example.org")
	srs1, _ := r.Forward("SRS0=abcd=AB=example.org=alice@other.example")
	tamper := func(s, old, new string) string { return strings.Replace(s, old, new, 1) }
	for _, tc := range []struct {
		addr string
		want error
	}{
		{"alice@example.org", ErrNotSRS},
		{"SRS2=aaaa=AA=example.org=alice@fwd.example", ErrNotSRS},
		{"SRS0@fwd.example", ErrNotSRS},
		{"no-at-sign", ErrSyntax},
		{"SRS0=aaaa=AA=example.org@fwd.example", ErrSyntax},
		{"SRS0=aaaa=AAA=example.org=alice@fwd.example", ErrSyntax},
		{"SRS0=aaaa=A!=example.org=alice@fwd.example", ErrSyntax},
		{"SRS0=aaaa=AA=exa mple=alice@fwd.example", ErrSyntax},
		{"SRS0=aaaa=AA=example.org=@fwd.example", ErrSyntax},
		{"SRS1=aaaa=example.org@fwd.example", ErrSyntax},
		{"SRS1=aaaa=example.org=x@fwd.example", ErrSyntax},
		{tamper(fwd, "example.org", "evil.example"), ErrHash},
		{tamper(fwd, "=alice@", "=mallory@"), ErrHash},
		{tamper(srs1, "other.example", "evil.example"), ErrHash},
		{tamper(srs1, "=alice@", "=bob@"), ErrHash},
	} {
		if got, err := r.Reverse(tc.addr); !errors.Is(err, tc.want) {
			t.Errorf("Reverse(%q) = %q, %v; want %v", tc.addr, got, err, tc.want)
		}
	}
}

func TestIsSRS(t *testing.T) {
	for local, want := range map[string]bool{
		"SRS0=x":  true,
		"srs1+x":  true,
		"Srs0-x":  true,
		"SRS0":    false,
		"SRS2=x":  false,
		"SRS0_x":  false,
		"alice":   false,
		"":        false,
		"xSRS0=x": false,
	} {
		if got := IsSRS(local); got != want {
			t.Errorf("IsSRS(%q) = %v, want %v", local, got, want)
		}
	}
}
