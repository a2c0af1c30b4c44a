package log

import "testing"

func TestBanPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                "192.0.2.7/32",
		" 192.0.2.7 ":              "192.0.2.7/32",
		"192.0.2.7/24":             "192.0.2.0/24",
		"0.0.0.0/0":                "0.0.0.0/0",
		"::ffff:192.0.2.7":         "192.0.2.7/32",
		"::ffff:192.0.2.0/120":     "192.0.2.0/24",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:db8:1:2:3:4:5:6/128": "2001:db8:1:2::/64",
		"2001:db8:1:2:3::/80":      "2001:db8:1:2::/64",
		"2001:db8:1:2::/48":        "2001:db8:1::/48",
		"2001:DB8::1":              "2001:db8::/64",
	} {
		p, err := BanPrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("BanPrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "example.org", "192.0.2.1/33", "fe80::1%eth0", "192.0.2", "1.2.3.4/-1"} {
		if p, err := BanPrefix(in); err == nil {
			t.Errorf("BanPrefix(%q) = %v, want an error", in, p)
		}
	}
}

// FuzzBanPrefix: whatever BanPrefix accepts is canonical (what apply
// requires) and a fixed point.
func FuzzBanPrefix(f *testing.F) {
	for _, s := range []string{"192.0.2.7", "192.0.2.7/24", "2001:db8::1", "2001:db8::/128", "::ffff:1.2.3.4/120",
		"::ffff:1.2.3.4/90", "fe80::1%eth0", "0.0.0.0/0", "::/0", " 10.0.0.1 ", "1.2.3.4/33", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := BanPrefix(s)
		if err != nil {
			return
		}
		a := p.Addr()
		if !p.IsValid() || p != p.Masked() || a.Zone() != "" || a.Is4In6() || (a.Is6() && p.Bits() > MaxBanBitsIPv6) {
			t.Fatalf("BanPrefix(%q) = %v: not canonical", s, p)
		}
		if q, err := BanPrefix(p.String()); err != nil || q != p {
			t.Fatalf("BanPrefix(%q) = %v, again %v, %v", s, p, q, err)
		}
	})
}
