package imap

import (
	"strings"
	"testing"
)

func TestListMatch(t *testing.T) {
	for _, tt := range []struct {
		name, ref, pattern string
		want               bool
	}{
		{"INBOX", "", "*", true},
		{"INBOX", "", "%", true},
		{"a/b", "", "%", false},
		{"a/b", "", "a/%", true},
		{"a/b/c", "", "a/%", false},
		{"a/b/c", "", "a/*", true},
		{"a/b/c", "a/", "*", true},
		{"a/b/c", "a/", "%", false},
		{"a/b", "a/", "%", true},
		{"a/b", "x/", "/a/%", false},
		{"Archive", "", "Arch*", true},
		{"Archive", "", "arch*", false},
		{"a%b", "", "a%b", true},
		{"", "", "", true},
		{"x", "", "", false},
		{"abc", "", "a*c", true},
		{"abcd", "", "a*c", false},
		{"a/c", "", "a%c", false},
	} {
		if got := listMatch(tt.name, tt.ref, tt.pattern); got != tt.want {
			t.Errorf("listMatch(%q, %q, %q) = %v, want %v", tt.name, tt.ref, tt.pattern, got, tt.want)
		}
	}
}

// naiveGlob is the obvious recursive definition globMatch must agree with,
// memoized on the suffixes it reaches: without the memo a pattern of many
// wildcards against a long name takes exponential time, and the fuzzer
// reports the oracle as hung.
func naiveGlob(name, pattern string) bool {
	memo := map[[2]int]bool{}
	var match func(n, p int) bool
	match = func(n, p int) bool {
		key := [2]int{n, p}
		if v, ok := memo[key]; ok {
			return v
		}
		var ok bool
		switch {
		case p == len(pattern):
			ok = n == len(name)
		case pattern[p] == '*' || pattern[p] == '%':
			for i := n; i <= len(name) && !ok; i++ {
				if pattern[p] == '%' && strings.IndexByte(name[n:i], delim) >= 0 {
					break
				}
				ok = match(i, p+1)
			}
		default:
			ok = n < len(name) && name[n] == pattern[p] && match(n+1, p+1)
		}
		memo[key] = ok
		return ok
	}
	return match(0, 0)
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("a/b/c", "a/%/c")
	f.Add("INBOX/x", "*x")
	f.Add("aaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*c")
	f.Add(strings.Repeat("a/", 32), "*%*%*%*%*%*%*%*b")
	f.Fuzz(func(t *testing.T, name, pattern string) {
		if len(name) > 64 || len(pattern) > 16 {
			return
		}
		if got, want := globMatch(name, pattern), naiveGlob(name, pattern); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, naive %v", name, pattern, got, want)
		}
	})
}
