package sieve

import (
	"slices"
	"testing"
)

// TestGlob: :matches (RFC 5228 §2.7.1) with the captures variables use
// (RFC 5229 §3.2).
func TestGlob(t *testing.T) {
	for _, c := range []struct {
		value, pattern string
		cmp            comparator
		want           bool
		caps           []string
	}{
		{"", "", cmpCasemap, true, []string{""}},
		{"", "*", cmpCasemap, true, []string{"", ""}},
		{"abc", "*", cmpCasemap, true, []string{"abc", "abc"}},
		{"abc", "a?c", cmpCasemap, true, []string{"abc", "b"}},
		{"abc", "a??c", cmpCasemap, false, nil},
		{"ABC", "a*", cmpCasemap, true, []string{"ABC", "BC"}},
		{"ABC", "a*", cmpOctet, false, nil},
		{"[acme-users] [fwd] version 1.0 is out", "[*] *", cmpCasemap, true,
			[]string{"[acme-users] [fwd] version 1.0 is out", "acme-users", "[fwd] version 1.0 is out"}},
		{"Acme users <acme-users.lists.example.org>", "*<*@*", cmpCasemap, false, nil},
		{"coyote@desert.example.org", "*@*.example.org", cmpCasemap, true,
			[]string{"coyote@desert.example.org", "coyote", "desert"}},
		{"a*b", `a\*b`, cmpCasemap, true, []string{"a*b"}},
		{"axb", `a\*b`, cmpCasemap, false, nil},
		{"a?b", `a\?b`, cmpCasemap, true, []string{"a?b"}},
		{`a\b`, `a\\b`, cmpCasemap, true, []string{`a\b`}},
		{"héllo", "h?llo", cmpCasemap, true, []string{"héllo", "é"}},
		{"aaa", "*a", cmpCasemap, true, []string{"aaa", "aa"}},
		{"abcabc", "*b*", cmpCasemap, true, []string{"abcabc", "a", "cabc"}},
		{"xyz", "x**z", cmpCasemap, true, []string{"xyz", "", "y"}},
		{"abc", "abcd", cmpCasemap, false, nil},
		{"abcd", "abc", cmpCasemap, false, nil},
	} {
		var caps []string
		got := c.cmp.glob(c.value, c.pattern, &caps, nil)
		if got != c.want {
			t.Errorf("glob(%q, %q) = %v, want %v", c.value, c.pattern, got, c.want)
			continue
		}
		if got && !slices.Equal(caps, c.caps) {
			t.Errorf("glob(%q, %q) captured %q, want %q", c.value, c.pattern, caps, c.caps)
		}
	}
}

// TestGlobLinear: a pattern of many stars against a long value finishes
// (the matcher backtracks only to the last star).
func TestGlobLinear(t *testing.T) {
	value := make([]byte, 20000)
	for i := range value {
		value[i] = 'a'
	}
	pattern := "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"
	if cmpCasemap.glob(string(value), pattern, nil, nil) {
		t.Fatal("matched")
	}
	budget := 1000
	if cmpCasemap.glob(string(value), pattern, nil, &budget) || budget > 0 {
		t.Fatalf("budget %d left", budget)
	}
}

func TestContains(t *testing.T) {
	if !cmpCasemap.contains("Hello World", "o w") || cmpOctet.contains("Hello World", "o w") || !cmpOctet.contains("x", "") {
		t.Fatal("contains")
	}
}
