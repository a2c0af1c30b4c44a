package imap

import (
	"fmt"
	"strings"
	"testing"
)

func TestAddressText(t *testing.T) {
	for in, want := range map[string]string{
		"<user-from (comment)@ (comment) domain.org>": "<user-from@domain.org>",
		"user@domain.org (Real (nested) Name)":        "user@domain.org",
		`"a (not a comment)" <x@y>`:                   `"a (not a comment)" <x@y>`,
		`"q\" (x)" <a@b> (c\) d)`:                     `"q\" (x)" <a@b>`,
		"plain@example.org":                           "plain@example.org",
		"unclosed (comment":                           "unclosed",
	} {
		if got := addressText(in); got != want {
			t.Errorf("addressText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzAddressText(f *testing.F) {
	f.Add(`"q\" (x)" <a (c) @ b> (c\) d)`)
	f.Fuzz(func(t *testing.T, s string) {
		if got := addressText(s); len(got) > len(s) {
			t.Fatalf("addressText grew %q to %q", s, got)
		}
	})
}

// TestSearchAddressComments: SEARCH FROM/TO matches an address written
// with comments inside it, as well as names and addresses as written
// (imaptest's search-addresses script).
func TestSearchAddressComments(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "searchaddr", password)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, implicit, user)
	defer rc.conn.Close()
	for _, from := range []string{
		"user-from@domain.org",
		"RealFrom <user-from@domain.org>",
		"<user-from (comment)@ (comment) domain.org>",
		"user-from@domain.org (RealFrom)",
		"other@domain.org",
	} {
		appendRaw(rc, "INBOX", fmt.Sprintf("From: %s\r\nTo: <user-to (c)@domain.org>\r\n\r\nbody\r\n", from))
	}
	if r := last(rc.cmd("s", "SELECT INBOX")); !strings.HasPrefix(r, "s OK") {
		t.Fatalf("SELECT: %q", r)
	}
	for q, want := range map[string]string{
		"FROM user-from@domain.org": "* SEARCH 1 2 3 4",
		"FROM realfrom":             "* SEARCH 2 4",
		"TO user-to@domain.org":     "* SEARCH 1 2 3 4 5",
		"FROM comment":              "* SEARCH 3",
	} {
		if got := rc.cmd("q", "SEARCH "+q); got[0] != want {
			t.Errorf("SEARCH %s: %q, want %s", q, got, want)
		}
	}
}
