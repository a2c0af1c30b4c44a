package imap

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	mailboxIDRe = regexp.MustCompile(`MAILBOXID \((F[0-9a-f]{24})\)`)
	emailIDRe   = regexp.MustCompile(`EMAILID \((M[0-9a-f]{24})\)`)
)

// find returns the first submatch of re in lines, failing the test if
// there is none.
func find(t *testing.T, re *regexp.Regexp, lines []string) string {
	t.Helper()
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no %s in %q", re, lines)
	return ""
}

// TestCmdObjectID: OBJECTID (RFC 8474): MAILBOXID in SELECT, STATUS and
// LIST-STATUS, kept by RENAME; EMAILID kept by COPY and MOVE and the same
// on every node; THREADID NIL; SEARCH EMAILID and THREADID.
func TestCmdObjectID(t *testing.T) {
	c := startCluster(t, 3)
	user := c.NewUser(t, "objectid", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	_, _, addr1 := c.serve(t, c.Nodes[1], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	const body = "Subject: id\r\n\r\nsame everywhere\r\n"
	appendRaw(rc, "INBOX", body)
	sum := sha256.Sum256([]byte(body))
	wantEmail := "M" + hex.EncodeToString(sum[:12])

	inbox := find(t, mailboxIDRe, rc.cmd("a", "SELECT INBOX"))
	if got := find(t, mailboxIDRe, rc.cmd("b", "STATUS INBOX (MESSAGES MAILBOXID)")); got != inbox {
		t.Fatalf("STATUS MAILBOXID %s, SELECT's %s", got, inbox)
	}
	if got := find(t, mailboxIDRe, rc.cmd("c", `LIST "" INBOX RETURN (STATUS (MAILBOXID))`)); got != inbox {
		t.Fatalf("LIST-STATUS MAILBOXID %s, SELECT's %s", got, inbox)
	}
	if r := last(rc.cmd("d", "CREATE Old")); !strings.HasPrefix(r, "d OK") {
		t.Fatal(r)
	}
	old := find(t, mailboxIDRe, rc.cmd("e", "STATUS Old (MAILBOXID)"))
	if old == inbox {
		t.Fatalf("two mailboxes share MAILBOXID %s", old)
	}
	rc.cmd("f", "RENAME Old New")
	if got := find(t, mailboxIDRe, rc.cmd("g", "STATUS New (MAILBOXID)")); got != old {
		t.Fatalf("MAILBOXID after RENAME %s, before %s", got, old)
	}

	fetched := rc.cmd("h", "FETCH 1 (EMAILID THREADID)")
	if got := find(t, emailIDRe, fetched); got != wantEmail {
		t.Fatalf("EMAILID %s, want %s", got, wantEmail)
	}
	if !strings.Contains(fetched[0], "THREADID NIL") {
		t.Fatalf("THREADID: %q", fetched)
	}
	rc.cmd("i", "COPY 1 New")
	playScript(t, rc, `
		C: j SEARCH EMAILID `+wantEmail+`
		S: * SEARCH 1
		S: j OK
		C: k SEARCH OR THREADID T1 EMAILID M000000000000000000000000
		S: * SEARCH
		S: k OK
		C: l SEARCH EMAILID bad!id
		S: l BAD
		C: m SELECT New
		S: ...
		S: m OK
		C: n FETCH 1 (EMAILID)
		S: * 1 FETCH (EMAILID (`+wantEmail+`))
		S: n OK
		C: o MOVE 1 INBOX
		S: ...
		S: o OK
		C: p SELECT INBOX
		S: ...
		S: p OK
		C: q FETCH 2 (EMAILID)
		S: * 2 FETCH (EMAILID (`+wantEmail+`))
		S: q OK`)

	// Another node answers the same ids: they come from replicated state.
	c.WaitConverged(t, 20*time.Second)
	rc1 := dialRawTLS(t, addr1, user)
	defer rc1.conn.Close()
	if got := find(t, mailboxIDRe, rc1.cmd("a", "SELECT INBOX")); got != inbox {
		t.Fatalf("MAILBOXID on node 1 %s, node 0 %s", got, inbox)
	}
	if got := find(t, emailIDRe, rc1.cmd("b", "FETCH 1 EMAILID")); got != wantEmail {
		t.Fatalf("EMAILID on node 1 %s, want %s", got, wantEmail)
	}
}
