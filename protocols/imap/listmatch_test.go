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

// naiveGlob is the obvious recursive definition globMatch must agree with.
func naiveGlob(name, pattern string) bool {
	if pattern == "" {
		return name == ""
	}
	switch pattern[0] {
	case '*', '%':
		for i := 0; i <= len(name); i++ {
			if pattern[0] == '%' && strings.IndexByte(name[:i], delim) >= 0 {
				break
			}
			if naiveGlob(name[i:], pattern[1:]) {
				return true
			}
		}
		return false
	}
	return name != "" && name[0] == pattern[0] && naiveGlob(name[1:], pattern[1:])
}

func FuzzGlobMatch(f *testing.F) {
	f.Add("a/b/c", "a/%/c")
	f.Add("INBOX/x", "*x")
	f.Add("aaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*c")
	f.Fuzz(func(t *testing.T, name, pattern string) {
		if len(name) > 64 || len(pattern) > 16 {
			return
		}
		if got, want := globMatch(name, pattern), naiveGlob(name, pattern); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, naive %v", name, pattern, got, want)
		}
	})
}
