package admin

import (
	"strings"
	"testing"
)

func TestCanonicalAddress(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice@example.test", "alice@example.test", true},
		{"  Alice.B+tag@Example.TEST. ", "alice.b+tag@example.test", true},
		{"o'neil@xn--bcher-kva.example", "o'neil@xn--bcher-kva.example", true},
		{"a@localhost", "a@localhost", true},
		{"", "", false},
		{"not-an-address", "", false},
		{"@example.test", "", false},
		{"alice@", "", false},
		{".alice@example.test", "", false},
		{"al..ice@example.test", "", false},
		{"alice.@example.test", "", false},
		{`"quoted"@example.test`, "", false},
		{"al ice@example.test", "", false},
		{"alice@[127.0.0.1]", "", false},
		{"alice@exa_mple.test", "", false},
		{"alice@-example.test", "", false},
		{"alice@example..test", "", false},
		{"alice@bücher.example", "", false},
		{strings.Repeat("a", 65) + "@example.test", "", false},
		{"a@" + strings.Repeat("b", 64) + ".test", "", false},
		{"a@b@example.test", "", false},
	}
	for _, tc := range tests {
		got, err := CanonicalAddress(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("CanonicalAddress(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
}

func FuzzCanonicalAddress(f *testing.F) {
	f.Add("alice@example.test")
	f.Add("A@B.C")
	f.Add("\"x\"@[1.2.3.4]")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := CanonicalAddress(s)
		if err != nil {
			return
		}
		if a != strings.ToLower(a) || strings.Count(a, "@") != 1 || len(a) > 254 {
			t.Fatalf("accepted %q as %q", s, a)
		}
		if b, err := CanonicalAddress(a); err != nil || b != a {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, a, b, err)
		}
	})
}
