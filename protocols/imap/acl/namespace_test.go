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

func TestPublicNamespace(t *testing.T) {
	for _, tc := range []struct {
		name, mailbox string
		ok            bool
	}{
		{"Shared/Announcements", "Announcements", true},
		{"shared/Team/2026", "Team/2026", true},
		{"SHARED/x", "x", true},
		{"Shared/", "", false},
		{"Shared", "", false},
		{"Sharedx/y", "", false},
		{"INBOX/Shared/x", "", false},
	} {
		mb, ok := SplitPublic(tc.name)
		if ok != tc.ok || mb != tc.mailbox {
			t.Errorf("SplitPublic(%q) = %q, %v; want %q, %v", tc.name, mb, ok, tc.mailbox, tc.ok)
		}
	}
	if mb, ok := SplitPublic(PublicName("A/b")); !ok || mb != "A/b" {
		t.Errorf("SplitPublic(PublicName) = %q %v", mb, ok)
	}
	for name, want := range map[string]bool{"Shared": true, "shared": true, "Shared/x": true, "Shared/": true, "Sharedx": false, "INBOX": false, "Other Users/a/b": false} {
		if IsPublic(name) != want {
			t.Errorf("IsPublic(%q) = %v", name, !want)
		}
	}
	for _, tc := range []struct {
		name, domain, public, owner, mailbox string
		ok                                   bool
	}{
		{"Shared/News", "example.com", "pub@example.com", "pub@example.com", "News", true},
		{"Shared/News", "example.com", "", "", "", false},
		{"Other Users/alice/Team", "example.com", "pub@example.com", "alice@example.com", "Team", true},
		{"Other Users/alice/Team", "example.com", "", "alice@example.com", "Team", true},
		{"News", "example.com", "pub@example.com", "", "", false},
		{"Shared", "example.com", "pub@example.com", "", "", false},
	} {
		owner, mb, ok := SplitNamespaced(tc.name, tc.domain, tc.public)
		if ok != tc.ok || owner != tc.owner || mb != tc.mailbox {
			t.Errorf("SplitNamespaced(%q, %q, %q) = %q, %q, %v", tc.name, tc.domain, tc.public, owner, mb, ok)
		}
	}
}

func FuzzSplitPublic(f *testing.F) {
	f.Add("Shared/Announcements")
	f.Add("shared/a/b")
	f.Add("Shared")
	f.Fuzz(func(t *testing.T, name string) {
		mb, ok := SplitPublic(name)
		if ok != (IsPublic(name) && len(name) > len(PublicPrefix)) {
			t.Fatalf("SplitPublic(%q) ok=%v, IsPublic %v", name, ok, IsPublic(name))
		}
		if !ok {
			return
		}
		if mb == "" {
			t.Fatalf("SplitPublic(%q) = empty", name)
		}
		if m2, ok := SplitPublic(PublicName(mb)); !ok || m2 != mb {
			t.Fatalf("round trip of %q: %q %v", name, m2, ok)
		}
		owner, m3, ok := SplitNamespaced(name, "example.com", "pub@example.com")
		if !ok || owner != "pub@example.com" && !IsOtherUsers(name) || owner == "pub@example.com" && m3 != mb {
			t.Fatalf("SplitNamespaced(%q) = %q %q %v", name, owner, m3, ok)
		}
	})
}
