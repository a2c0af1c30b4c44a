package imap

import (
	"slices"
	"strings"
	"testing"
)

// TestRecent follows imaptest's select and copy scripts (RFC 3501 §2.3.2,
// IMAP4rev1): messages no session has seen are recent at EXAMINE (which
// claims nothing) and STATUS; the first SELECT claims them, so STATUS then
// counts none and another SELECT none; a message arriving while selected
// is recent for the session told of it (EXISTS then RECENT, \Recent in
// FETCH FLAGS, SEARCH RECENT/NEW/OLD); a session that enabled IMAP4rev2 is
// not shown \Recent.
func TestRecent(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "recent", password)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	a := dialRawTLS(t, implicit, user)
	defer a.conn.Close()
	if r := last(a.cmd("c", "CREATE Box")); !strings.HasPrefix(r, "c OK") {
		t.Fatalf("CREATE: %q", r)
	}
	appendRaw(a, "Box", "Subject: one\r\n\r\nbody\r\n")
	appendRaw(a, "Box", "Subject: two\r\n\r\nbody\r\n")
	has := func(lines []string, want string) bool {
		return slices.ContainsFunc(lines, func(l string) bool { return strings.EqualFold(l, want) })
	}
	if ex := a.cmd("e", "EXAMINE Box"); !has(ex, "* 2 RECENT") {
		t.Fatalf("EXAMINE: %q", ex)
	}
	a.cmd("x", "CLOSE")
	if st := a.cmd("s", "STATUS Box (MESSAGES RECENT)"); !has(st, `* STATUS "Box" (MESSAGES 2 RECENT 2)`) && !has(st, `* STATUS Box (MESSAGES 2 RECENT 2)`) {
		t.Fatalf("STATUS before SELECT: %q", st)
	}
	sel := a.cmd("s", "SELECT Box")
	if !has(sel, "* 2 RECENT") {
		t.Fatalf("SELECT: %q", sel)
	}
	if f := a.cmd("f", "FETCH 1:2 (FLAGS)"); !strings.Contains(f[0], `\Recent`) || !strings.Contains(f[1], `\Recent`) {
		t.Fatalf("FETCH FLAGS: %q", f)
	}
	if s := a.cmd("q", "SEARCH NEW"); s[0] != "* SEARCH 1 2" {
		t.Fatalf("SEARCH NEW: %q", s)
	}
	a.cmd("x", "CLOSE")
	if st := a.cmd("s", "STATUS Box (RECENT)"); !has(st, `* STATUS "Box" (RECENT 0)`) && !has(st, `* STATUS Box (RECENT 0)`) {
		t.Fatalf("STATUS after SELECT: %q", st)
	}
	if sel := a.cmd("s", "SELECT Box"); !has(sel, "* 0 RECENT") {
		t.Fatalf("second SELECT: %q", sel)
	}
	if s := a.cmd("q", "SEARCH OLD"); s[0] != "* SEARCH 1 2" {
		t.Fatalf("SEARCH OLD: %q", s)
	}

	// A copy arriving while selected: recent here.
	b := dialRawTLS(t, implicit, user)
	defer b.conn.Close()
	appendRaw(b, "INBOX", "Subject: three\r\n\r\nbody\r\n")
	if r := last(b.cmd("s", "SELECT INBOX")); !strings.HasPrefix(r, "s OK") {
		t.Fatalf("SELECT INBOX: %q", r)
	}
	if r := last(b.cmd("c", "COPY 1 Box")); !strings.HasPrefix(r, "c OK") {
		t.Fatalf("COPY: %q", r)
	}
	var noop []string
	waitFor(t, func() bool { noop = a.cmd("n", "NOOP"); return has(noop, "* 3 EXISTS") })
	if !has(noop, "* 1 RECENT") {
		t.Fatalf("NOOP after COPY: %q", noop)
	}
	if s := a.cmd("q", "SEARCH RECENT"); s[0] != "* SEARCH 3" {
		t.Fatalf("SEARCH RECENT: %q", s)
	}

	// IMAP4rev2: no \Recent.
	r2 := dialRawTLS(t, implicit, user)
	defer r2.conn.Close()
	r2.cmd("e", "ENABLE IMAP4rev2")
	appendRaw(r2, "Box", "Subject: four\r\n\r\nbody\r\n")
	r2.cmd("s", "SELECT Box")
	if f := r2.cmd("f", "FETCH 1:* (FLAGS)"); slices.ContainsFunc(f, func(l string) bool { return strings.Contains(l, `\Recent`) }) {
		t.Fatalf("IMAP4rev2 FETCH: %q", f)
	}
}
