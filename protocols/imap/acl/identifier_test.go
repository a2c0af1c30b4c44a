package acl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCanonicalIdentifier(t *testing.T) {
	tests := map[string]string{
		"anyone":           "anyone",
		"ANYONE":           "anyone",
		"-anyone":          "-anyone",
		"Authenticated":    "authenticated",
		"Bob@Example.COM":  "bob@example.com",
		"-bob@example.com": "-bob@example.com",
	}
	for in, want := range tests {
		got, err := CanonicalIdentifier(in)
		if err != nil || got != want {
			t.Errorf("CanonicalIdentifier(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-", "bob", "@example.com", "bob@", "bob @example.com", "--bob@example.com",
		"b\x00b@example.com", "a/b@example.com", strings.Repeat("a", 300) + "@example.com"} {
		if got, err := CanonicalIdentifier(bad); !errors.Is(err, ErrBadIdentifier) {
			t.Errorf("CanonicalIdentifier(%q) = %q, %v; want ErrBadIdentifier", bad, got, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	r := func(s string) Rights {
		x, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	const owner, bob, cy = "alice@example.com", "bob@example.com", "cy@example.com"
	acl := []Entry{
		{Identifier: bob, Rights: r("lrsw")},
		{Identifier: Anyone, Rights: r("l")},
		{Identifier: Authenticated, Rights: r("r")},
		{Identifier: "-" + bob, Rights: r("w")},
		{Identifier: "-anyone", Rights: r("t")},
	}
	tests := []struct {
		user string
		want string
	}{
		{owner, "lrswipkxtea"}, // the owner holds everything, whatever the ACL says
		{bob, "lrs"},           // his own, anyone's and authenticated's, less his negative w
		{cy, "lr"},             // anyone's and authenticated's
	}
	for _, tc := range tests {
		if got := Evaluate(owner, tc.user, acl); got.String() != tc.want {
			t.Errorf("Evaluate(%s) = %q, want %q", tc.user, got, tc.want)
		}
	}
	// Negative rights win over any grant (RFC 4314 §2).
	deny := []Entry{{Identifier: Anyone, Rights: All}, {Identifier: "-" + cy, Rights: All}}
	if got := Evaluate(owner, cy, deny); got != None {
		t.Errorf("cy denied everything has %q", got)
	}
}

func TestListRights(t *testing.T) {
	req, opt := ListRights("alice@example.com", "alice@example.com")
	if req != All || opt != nil {
		t.Errorf("owner: %q %q", req, opt)
	}
	req, opt = ListRights("alice@example.com", "bob@example.com")
	if req != None || strings.Join(opt, " ") != "l r s w i p k x t e a c d" {
		t.Errorf("other: %q %q", req, opt)
	}
}

func TestSort(t *testing.T) {
	e := []Entry{{Identifier: "-anyone"}, {Identifier: "bob@x.test"}, {Identifier: "anyone"}, {Identifier: "-bob@x.test"}}
	Sort(e)
	var got []string
	for _, x := range e {
		got = append(got, x.Identifier)
	}
	if want := []string{"anyone", "bob@x.test", "-anyone", "-bob@x.test"}; !slices.Equal(got, want) {
		t.Errorf("Sort: %q, want %q", got, want)
	}
}

func FuzzCanonicalIdentifier(f *testing.F) {
	for _, s := range []string{"anyone", "-Bob@Example.com", "", "-", "a@b", "\xff@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalIdentifier(s)
		if err != nil {
			return
		}
		again, err := CanonicalIdentifier(c)
		if err != nil || again != c {
			t.Fatalf("CanonicalIdentifier(%q) = %q, which canonicalises to %q, %v", s, c, again, err)
		}
	})
}
