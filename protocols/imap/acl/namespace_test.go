package acl

import "testing"

func TestSplitShared(t *testing.T) {
	tests := []struct {
		name, domain, owner, mailbox string
		ok                           bool
	}{
		{"Other Users/alice@example.com/Team", "example.com", "alice@example.com", "Team", true},
		{"Other Users/Alice@Example.com/Team/2026", "", "alice@example.com", "Team/2026", true},
		{"other users/alice/Team", "Example.com", "alice@example.com", "Team", true},
		{"Other Users/alice/Team", "", "", "", false},
		{"Other Users/alice@example.com", "example.com", "", "", false},
		{"Other Users/alice@example.com/", "example.com", "", "", false},
		{"Other Users//Team", "example.com", "", "", false},
		{"Other Users", "example.com", "", "", false},
		{"INBOX/Team", "example.com", "", "", false},
	}
	for _, tc := range tests {
		owner, mb, ok := SplitShared(tc.name, tc.domain)
		if ok != tc.ok || owner != tc.owner || mb != tc.mailbox {
			t.Errorf("SplitShared(%q, %q) = %q, %q, %v; want %q, %q, %v", tc.name, tc.domain, owner, mb, ok, tc.owner, tc.mailbox, tc.ok)
		}
	}
	name := SharedName("alice@example.com", "Team/x")
	if owner, mb, ok := SplitShared(name, ""); !ok || owner != "alice@example.com" || mb != "Team/x" {
		t.Errorf("SplitShared(SharedName) = %q %q %v", owner, mb, ok)
	}
	for name, want := range map[string]bool{"Other Users": true, "other users/x": true, "Other Usersx": false, "INBOX": false} {
		if IsOtherUsers(name) != want {
			t.Errorf("IsOtherUsers(%q) = %v", name, !want)
		}
	}
}

func FuzzSplitShared(f *testing.F) {
	f.Add("Other Users/alice@example.com/Team", "example.com")
	f.Add("other users/a/b", "")
	f.Fuzz(func(t *testing.T, name, domain string) {
		owner, mb, ok := SplitShared(name, domain)
		if !ok {
			return
		}
		if owner == "" || mb == "" {
			t.Fatalf("SplitShared(%q) = %q, %q", name, owner, mb)
		}
		o2, m2, ok := SplitShared(SharedName(owner, mb), "")
		if !ok || o2 != owner || m2 != mb {
			t.Fatalf("round trip of %q: %q %q %v", name, o2, m2, ok)
		}
	})
}
