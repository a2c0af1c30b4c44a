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
