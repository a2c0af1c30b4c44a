package imap

import (
	"regexp"
	"strings"
	"testing"
)

var (
	reFlagsResp = regexp.MustCompile(`(?i)^\* FLAGS \(([^)]*)\)`)
	reFetchFlag = regexp.MustCompile(`(?i)^\* \d+ FETCH \(.*FLAGS \(([^)]*)\)`)
)

// announced checks RFC 3501 §7.2.6 over a session's lines: every keyword
// in a FETCH FLAGS was named by an untagged FLAGS before it; known carries
// what was announced across calls. It returns the keywords fetched.
func announced(t *testing.T, known map[string]bool, lines []string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range lines {
		if m := reFlagsResp.FindStringSubmatch(l); m != nil {
			clear(known)
			for _, f := range strings.Fields(m[1]) {
				known[strings.ToLower(f)] = true
			}
			continue
		}
		if m := reFetchFlag.FindStringSubmatch(l); m != nil {
			for _, f := range strings.Fields(m[1]) {
				if strings.HasPrefix(f, `\`) {
					continue
				}
				if !known[strings.ToLower(f)] {
					t.Errorf("keyword %s in %q without an untagged FLAGS naming it first (lines: %q)", f, l, lines)
				}
				seen[f] = true
			}
		}
	}
	return seen
}

// TestKeywordsAnnounced: a keyword set by this session's STORE, by another
// session (seen at NOOP), or read by a FETCH before the poll reported it,
// always follows an untagged FLAGS that names it, and the flags are still
// reported in the same command's responses.
func TestKeywordsAnnounced(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "keywords", password)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	a := dialRawTLS(t, implicit, user)
	defer a.conn.Close()
	b := dialRawTLS(t, implicit, user)
	defer b.conn.Close()
	appendRaw(a, "INBOX", "Subject: one\r\n\r\nbody\r\n")
	appendRaw(a, "INBOX", "Subject: two\r\n\r\nbody\r\n")
	known := map[string]bool{}
	sel := a.cmd("s", "SELECT INBOX")
	if !strings.HasPrefix(last(sel), "s OK") {
		t.Fatalf("SELECT: %q", sel)
	}
	announced(t, known, sel)
	if r := last(b.cmd("s", "SELECT INBOX")); !strings.HasPrefix(r, "s OK") {
		t.Fatalf("SELECT: %q", r)
	}

	// This session's own STORE of a new keyword.
	st := a.cmd("t1", "STORE 1 +FLAGS ($hello)")
	if got := announced(t, known, st); !got["$hello"] || !strings.HasPrefix(last(st), "t1 OK") {
		t.Fatalf("STORE $hello: %q", st)
	}
	// The UID form, another new keyword and one known.
	st = a.cmd("t2", "UID STORE 1:2 +FLAGS ($hello $World)")
	if got := announced(t, known, st); !got["$hello"] || !got["$World"] {
		t.Fatalf("UID STORE: %q", st)
	}
	// Another session's keyword, seen at NOOP.
	if r := last(b.cmd("t3", "STORE 2 +FLAGS.SILENT (Other)")); !strings.HasPrefix(r, "t3 OK") {
		t.Fatalf("STORE by b: %q", r)
	}
	waitFor(t, func() bool {
		return announced(t, known, a.cmd("n", "NOOP"))["Other"]
	})
	// Another session's keyword read by FETCH before any poll told this
	// one: left out of the FETCH, then announced and reported.
	if r := last(b.cmd("t4", "STORE 1 +FLAGS.SILENT (Late)")); !strings.HasPrefix(r, "t4 OK") {
		t.Fatalf("STORE by b: %q", r)
	}
	waitFor(t, func() bool {
		return announced(t, known, a.cmd("f", "FETCH 1 (FLAGS)"))["Late"]
	})
	// Keywords the mailbox holds are announced at SELECT.
	known = map[string]bool{}
	sel = b.cmd("s2", "SELECT INBOX")
	announced(t, known, sel)
	for _, k := range []string{"$hello", "$world", "other", "late"} {
		if !known[k] {
			t.Errorf("SELECT's FLAGS lacks %s: %q", k, sel)
		}
	}
}
