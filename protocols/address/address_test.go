package address

import (
	"errors"
	"strings"
	"testing"
)

func TestAccount(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice@example.test", "alice@example.test", true},
		{"  Alice.B+tag@Example.TEST. ", "alice.b+tag@example.test", true},
		{"o'neil@xn--bcher-kva.example", "o'neil@xn--bcher-kva.example", true},
		{"a@localhost", "a@localhost", true},
		// RFC 6531: an internationalised domain is stored as its A-label.
		{"alice@bücher.example", "alice@xn--bcher-kva.example", true},
		{"alice@BÜCHER.example", "alice@xn--bcher-kva.example", true},
		{"", "", false},
		{"not-an-address", "", false},
		{"@example.test", "", false},
		{"alice@", "", false},
		{"alice@.", "", false},
		{".alice@example.test", "", false},
		{"al..ice@example.test", "", false},
		{"alice.@example.test", "", false},
		{`"quoted"@example.test`, "", false},
		{"al ice@example.test", "", false},
		{"jörg@example.test", "", false}, // accounts are ASCII dot-atoms
		{"alice@[127.0.0.1]", "", false},
		{"alice@exa_mple.test", "", false},
		{"alice@-example.test", "", false},
		{"alice@example..test", "", false},
		{"alice@exa mple.test", "", false},
		{strings.Repeat("a", 64) + "@example.test", strings.Repeat("a", 64) + "@example.test", true},
		{strings.Repeat("a", 65) + "@example.test", "", false},
		{"a@" + strings.Repeat("b", 64) + ".test", "", false},
		{strings.Repeat("a", 10) + "@" + strings.Repeat(strings.Repeat("b", 60)+".", 4) + "test", "", false}, // 259 octets
		{"a@b@example.test", "", false},
	}
	for _, tc := range tests {
		a, err := Account(tc.in)
		if tc.ok != (err == nil) || a.String() != tc.want {
			t.Errorf("Account(%q) = %q, %v; want %q ok=%v", tc.in, a, err, tc.want, tc.ok)
		}
		if err != nil && (!errors.Is(err, ErrSyntax) || strings.ContainsAny(err.Error(), "\r\n")) {
			t.Errorf("Account(%q): error %q does not wrap ErrSyntax or spans lines", tc.in, err)
		}
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Bob@Example.Test", "bob@example.test", true},
		{"bob@example.test.", "bob@example.test", true},
		{"bob@bücher.example", "bob@xn--bcher-kva.example", true},
		// RFC 6531 §3.3: UTF-8 local parts under SMTPUTF8.
		{"Jörg@example.test", "jörg@example.test", true},
		{`"quoted"@example.test`, `"quoted"@example.test`, true},
		{"a.b..c@example.test", "a.b..c@example.test", true}, // as sent; never a local account
		{strings.Repeat("a", 80) + "@example.test", strings.Repeat("a", 80) + "@example.test", true},
		{"bob@", "", false},
		{"@example.test", "", false},
		{"bob", "", false},
		{"bo b@example.test", "", false},
		{"bob\x00@example.test", "", false},
		{"bob\u0085@example.test", "", false},
		{"bob\xff@example.test", "", false},
		{"bob@exa\x00mple.test", "", false},
		{"bob@[192.0.2.1]", "", false},
		{strings.Repeat("a", 250) + "@example.test", "", false},
	}
	for _, tc := range tests {
		a, err := Path(tc.in)
		if tc.ok != (err == nil) || a.String() != tc.want {
			t.Errorf("Path(%q) = %q, %v; want %q ok=%v", tc.in, a, err, tc.want, tc.ok)
		}
	}
}

func TestDomain(t *testing.T) {
	for in, want := range map[string]string{
		"Example.TEST.":  "example.test",
		"bücher.example": "xn--bcher-kva.example",
		"localhost":      "localhost",
		"":               "",
		".":              "",
		"a..b":           "",
		"a_b.test":       "",
		"[192.0.2.1]":    "",
		"-a.test":        "",
	} {
		got, err := Domain(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("Domain(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAccountIsAPath(t *testing.T) {
	// Whatever Account accepts, Path maps to the same canonical form, so
	// an SMTP recipient and an account name meet in one key.
	for _, s := range []string{"Alice@Example.Test", "o'neil+x@bücher.example.", "a@localhost"} {
		a, err := Account(s)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Path(s)
		if err != nil || p != a {
			t.Errorf("Path(%q) = %q, %v; Account gives %q", s, p, err, a)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"alice@example.test", "A@B.C", `"x"@[1.2.3.4]`, "jörg@bücher.example.",
		"a@xn--bcher-kva.example", "a@xn--zz", "a@\u200d.test", "@", "a@@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, parse := range map[string]func(string) (Address, error){"Account": Account, "Path": Path} {
			a, err := parse(s)
			if err != nil {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("%s(%q): error %v does not wrap ErrSyntax", name, s, err)
				}
				continue
			}
			c := a.String()
			if c != strings.ToLower(c) || strings.Count(a.Domain(), "@") != 0 || a.Local() == "" ||
				len(c) > MaxAddressLen || strings.HasSuffix(c, ".") {
				t.Fatalf("%s(%q) accepted as %q", name, s, c)
			}
			// Canonical means a fixed point.
			b, err := parse(c)
			if err != nil || b != a {
				t.Fatalf("%s not idempotent: %q -> %q -> %q, %v", name, s, c, b, err)
			}
			if name == "Account" {
				if p, err := Path(c); err != nil || p != a {
					t.Fatalf("account %q is not the same path: %q, %v", c, p, err)
				}
			}
		}
	})
}
