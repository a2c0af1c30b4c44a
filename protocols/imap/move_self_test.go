package imap

import (
	"strings"
	"testing"
)

// TestMoveIntoSelf: MOVE into the selected mailbox itself (imaptest's move
// script; Dovecot allows it) answers COPYUID with new UIDs, expunges the
// old sequence number and reports the new message with EXISTS, all before
// the tagged OK.
func TestMoveIntoSelf(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "moveself", password)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, implicit, user)
	defer rc.conn.Close()
	appendRaw(rc, "INBOX", "Subject: one\r\n\r\nbody\r\n")
	if r := last(rc.cmd("e", "ENABLE IMAP4rev2")); !strings.HasPrefix(r, "e OK") { // no RECENT lines
		t.Fatalf("ENABLE: %q", r)
	}
	if r := last(rc.cmd("s", "SELECT INBOX")); !strings.HasPrefix(r, "s OK") {
		t.Fatalf("SELECT: %q", r)
	}
	for round, uid := range []string{"1", "2", "3"} {
		got := rc.cmd("m", "MOVE 1 INBOX")
		want := []string{"* OK [COPYUID ", "* 1 EXPUNGE", "* 1 EXISTS", "m OK"}
		if len(got) != len(want) {
			t.Fatalf("round %d: MOVE 1 INBOX: %q", round, got)
		}
		for i, w := range want {
			if !strings.HasPrefix(got[i], w) {
				t.Fatalf("round %d: MOVE 1 INBOX: line %d %q, want %q…", round, i, got[i], w)
			}
		}
		next := string(rune('2' + round))
		if !strings.Contains(got[0], " "+uid+" "+next+"]") {
			t.Fatalf("round %d: COPYUID %q: want source %s, destination %s", round, got[0], uid, next)
		}
	}
	if f := rc.cmd("f", "UID FETCH 1:* (UID)"); len(f) != 2 || !strings.Contains(f[0], "UID 4") {
		t.Fatalf("after the moves: %q", f)
	}
}
