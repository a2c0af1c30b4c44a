package imap

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestSharedFolders: a mailbox alice shares, as bob sees it under the
// Other Users namespace (RFC 2342 §5): NAMESPACE, LIST with the \Noselect
// levels, and each command with the rights RFC 4314 §4 asks of it.
func TestSharedFolders(t *testing.T) {
	c := sharedCluster(t)
	alice := c.NewUser(t, "sharealice", password)
	bob := c.NewUser(t, "sharebob", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	ns := "Other Users/" + alice + "/"
	team, drop := `"`+ns+`Team"`, `"`+ns+`Drop"`
	short := `"Other Users/` + strings.TrimSuffix(alice, "@"+domain) + `/Team"` // the owner in bob's domain
	runScript(t, addr, alice, `
		C: a CREATE Team
		S: a OK
		C: b CREATE Team/Sub
		S: b OK
		C: c CREATE Drop
		S: c OK
		C: d CREATE Private
		S: d OK
		C: e APPEND Team (\Flagged) {14+}
		C: Subject: t
		C:
		C:
		S: e OK
		C: f SETACL Team `+bob+` lrs
		S: f OK
		C: g SETACL Drop `+bob+` li
		S: g OK`)
	rc := dialRawTLS(t, addr, bob)
	defer rc.conn.Close()
	appendRaw(rc, "INBOX", "Subject: b\r\n\r\nx\r\n")
	playScript(t, rc, `
		C: a NAMESPACE
		S: * NAMESPACE (("" "/")) (("Other Users/" "/")) NIL
		S: a OK
		C: b LIST "" "Other Users/*"
		S: * LIST (\Noselect \HasChildren) "/" "Other Users/`+alice+`"
		S: * LIST (\HasNoChildren) "/" `+drop+`
		S: * LIST (\HasNoChildren) "/" `+team+`
		S: b OK
		C: c LIST "" %
		S: * LIST (\HasNoChildren) "/" INBOX
		S: ...
		S: * LIST (\Noselect \HasChildren) "/" "Other Users"
		S: ...
		S: c OK
		C: d LIST "" "Other Users/%/%" RETURN (STATUS (MESSAGES))
		S: * LIST (\HasNoChildren) "/" `+drop+`
		S: * LIST (\HasNoChildren) "/" `+team+`
		S: * STATUS `+team+` (MESSAGES 1)
		S: d OK
		C: e STATUS `+team+` (MESSAGES UIDNEXT)
		S: * STATUS `+team+` (MESSAGES 1 UIDNEXT 2)
		S: e OK
		C: f STATUS `+drop+` (MESSAGES)
		S: f NO [NOPERM]
		C: g SELECT `+drop+`
		S: g NO [NOPERM]
		C: h SELECT "`+ns+`Private"
		S: h NO [NONEXISTENT]
		C: i SELECT "`+ns+`Team/Sub"
		S: i NO [NONEXISTENT]
		C: j CREATE "`+ns+`Team/New"
		S: j NO [NOPERM]
		C: k DELETE `+team+`
		S: k NO [NOPERM]
		C: l RENAME `+team+` Mine
		S: l NO [NOPERM]
		C: m RENAME INBOX "Other Users/x"
		S: m NO [NOPERM]
		C: n APPEND `+team+` {14+}
		C: Subject: n
		C:
		C:
		S: n NO [NOPERM]
		C: o APPEND `+drop+` (\Seen \Flagged $Work) {14+}
		C: Subject: o
		C:
		C:
		S: o OK [APPENDUID
		C: p SELECT INBOX
		S: ...
		S: p OK
		C: q STORE 1 +FLAGS (\Flagged \Seen)
		S: * 1 FETCH
		S: q OK
		C: r COPY 1 `+drop+`
		S: r OK [COPYUID
		C: s COPY 1 `+team+`
		S: s NO [NOPERM]
		C: t EXAMINE `+short+`
		S: ...
		S: t OK [READ-ONLY]
		# bob is the first to select Team: its message is \Recent to
		# him (IMAP4rev1, RFC 3501 §2.3.2), not to alice after him.
		C: u SELECT `+team+`
		S: * OK [CLOSED]
		S: * 1 EXISTS
		S: ...
		S: * OK [PERMANENTFLAGS (\Seen)]
		S: ...
		S: u OK [READ-WRITE]
		C: v FETCH 1 (FLAGS BODY[TEXT])
		S: * 1 FETCH (FLAGS (\Flagged \Seen \Recent) BODY[TEXT] {0}
		S: )
		S: v OK
		C: w STORE 1 +FLAGS (\Deleted $Work)
		S: * 1 FETCH (FLAGS (\Flagged \Seen \Recent))
		S: w OK
		C: x STORE 1 FLAGS (\Answered)
		S: * 1 FETCH (FLAGS (\Flagged \Recent))
		S: x OK
		# UNCHANGEDSINCE (RFC 7162 §3.1.3) holds for him too.
		C: xa STORE 1 (UNCHANGEDSINCE 1) FLAGS (\Seen)
		S: * OK [HIGHESTMODSEQ
		S: xa OK [MODIFIED 1]
		C: xb STORE 1 (UNCHANGEDSINCE 999999) +FLAGS (\Seen)
		S: * 1 FETCH (UID 1 FLAGS (\Flagged \Seen \Recent) MODSEQ (
		S: xb OK
		C: xc STORE 1 (UNCHANGEDSINCE 999999) -FLAGS (\Seen \Flagged)
		S: * 1 FETCH (UID 1 FLAGS (\Flagged \Recent) MODSEQ (
		S: xc OK
		C: y EXPUNGE
		S: y NO [NOPERM]
		C: z MOVE 1 INBOX
		S: z NO [NOPERM]
		C: za CLOSE
		S: za OK
		C: zb MYRIGHTS `+team+`
		S: * MYRIGHTS `+team+` lrs
		S: zb OK`)
	// What alice sees: nothing bob had no right to set or clear. She is
	// the first to select Drop: its messages are \Recent to her.
	runScript(t, addr, alice, `
		C: a SELECT Team
		S: ...
		S: a OK
		C: b FETCH 1 FLAGS
		S: * 1 FETCH (FLAGS (\Flagged))
		S: b OK
		C: c SELECT Drop
		S: ...
		S: c OK
		C: d FETCH 1:* FLAGS
		S: * 1 FETCH (FLAGS (\Recent))
		S: * 2 FETCH (FLAGS (\Recent))
		S: d OK`)
}

// teamSelected makes users prefix+"alice" and prefix+"bob", alice's Team
// with one message and "bob lrs" in its ACL, and a session of bob's that
// selected it (tag a), closed at the test's end.
func teamSelected(t *testing.T, prefix string) (addr, alice, bob, team string, rc *rawConn) {
	t.Helper()
	c := sharedCluster(t)
	alice = c.NewUser(t, prefix+"alice", password)
	bob = c.NewUser(t, prefix+"bob", password)
	_, _, addr = c.serve(t, c.Nodes[0], nil)
	team = `"Other Users/` + alice + `/Team"`
	runScript(t, addr, alice, `
		C: a CREATE Team
		S: a OK
		C: b APPEND Team {14+}
		C: Subject: t
		C:
		C:
		S: b OK
		C: c SETACL Team `+bob+` lrs
		S: c OK`)
	rc = dialRawTLS(t, addr, bob)
	t.Cleanup(func() { rc.conn.Close() })
	playScript(t, rc, `
		C: a SELECT `+team+`
		S: ...
		S: a OK [READ-WRITE]`)
	return addr, alice, bob, team, rc
}

// TestSharedRightsChange: a session showing a shared mailbox reads its
// rights again when the owner changes the ACL (ACLChanged in the feed):
// without r its FETCH is refused, and a mailbox taken away is gone from
// LIST.
func TestSharedRightsChange(t *testing.T) {
	addr, alice, bob, team, rc := teamSelected(t, "rights")
	playScript(t, rc, `
		C: b FETCH 1 FLAGS
		S: * 1 FETCH (FLAGS (\Recent))
		S: b OK`)
	runScript(t, addr, alice, `
		C: a SETACL Team `+bob+` -r
		S: a OK`)
	waitFor(t, func() bool { return strings.HasPrefix(last(rc.cmd("c", "FETCH 1 FLAGS")), "c NO [NOPERM]") })
	// lr alone: nothing bob may change, so SELECT is READ-ONLY (RFC 4314
	// §4) and offers no permanent flag.
	runScript(t, addr, alice, `
		C: a SETACL Team `+bob+` lr
		S: a OK`)
	playScript(t, rc, `
		C: ca SELECT `+team+`
		S: ...
		S: * OK [PERMANENTFLAGS ()]
		S: ...
		S: ca OK [READ-ONLY]
		C: cb STORE 1 +FLAGS (\Seen)
		S: cb NO
		C: cc FETCH 1 (FLAGS BODY[])
		S: * 1 FETCH (FLAGS () BODY[]
		S: ...
		S: cc OK`)
	runScript(t, addr, alice, `
		C: a DELETEACL Team `+bob+`
		S: a OK`)
	playScript(t, rc, `
		C: d LIST "" "Other Users/*"
		S: d OK
		C: e MYRIGHTS `+team+`
		S: e NO [NONEXISTENT]`)
}

// TestSharedCreateDelete: with k on a shared mailbox another user creates
// below it, and the new mailbox is shared as its parent is (so it shows in
// their LIST); with x on a mailbox they delete it, and with k on the new
// parent too, rename it (RFC 4314 §4). Without those rights, NO [NOPERM].
func TestSharedCreateDelete(t *testing.T) {
	c := sharedCluster(t)
	alice := c.NewUser(t, "sharedcreatealice", password)
	bob := c.NewUser(t, "sharedcreatebob", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	ns := "Other Users/" + alice + "/"
	runScript(t, addr, alice, `
		C: a CREATE Team
		S: a OK
		C: b SETACL Team `+bob+` lr
		S: b OK`)
	rc := dialRawTLS(t, addr, bob)
	defer rc.conn.Close()
	playScript(t, rc, `
		C: a CREATE "`+ns+`Team/Bobs"
		S: a NO [NOPERM]
		C: b CREATE "`+ns+`Nowhere/Bobs"
		S: b NO [NOPERM]
		C: c CREATE "`+ns+`Bobs"
		S: c NO [NOPERM]`)
	runScript(t, addr, alice, `
		C: a SETACL Team `+bob+` lrk
		S: a OK`)
	playScript(t, rc, `
		C: d CREATE "`+ns+`Team/Bobs"
		S: d OK
		C: e CREATE "`+ns+`Team/Bobs"
		S: e NO [ALREADYEXISTS]
		C: f CREATE "`+ns+`Team/Used" (USE (\Archive))
		S: f NO [USEATTR]
		C: g LIST "" "`+ns+`Team/*"
		S: * LIST (\HasNoChildren) "/" "`+ns+`Team/Bobs"
		S: g OK
		C: h MYRIGHTS "`+ns+`Team/Bobs"
		S: * MYRIGHTS "`+ns+`Team/Bobs" lrk
		S: h OK
		C: i DELETE "`+ns+`Team/Bobs"
		S: i NO [NOPERM]
		C: j RENAME "`+ns+`Team/Bobs" Mine
		S: j NO [NOPERM]`)
	runScript(t, addr, alice, `
		C: a LIST "" "Team/*"
		S: * LIST (\HasNoChildren) "/" Team/Bobs
		S: a OK
		C: b SETACL Team/Bobs `+bob+` +x
		S: b OK`)
	playScript(t, rc, `
		C: k RENAME "`+ns+`Team/Bobs" "`+ns+`Elsewhere/Bobs"
		S: k NO [NOPERM]
		C: l RENAME "`+ns+`Team/Bobs" "`+ns+`Team/Renamed"
		S: l OK
		C: m LIST "" "`+ns+`Team/*"
		S: * LIST (\HasNoChildren) "/" "`+ns+`Team/Renamed"
		S: m OK
		C: n DELETE "`+ns+`Team/Renamed"
		S: n OK
		C: o LIST "" "`+ns+`Team/*"
		S: o OK`)
}

// TestSharedRightsChangeWhileIdle: a user whose r right is taken hears
// nothing more of the mailbox, idling or not (no EXISTS for a message
// added meanwhile), and an idling session hears it again as soon as the
// right comes back, without a further change (the hub wakes it on the
// ACLChanged).
func TestSharedRightsChangeWhileIdle(t *testing.T) {
	addr, alice, bob, _, rc := teamSelected(t, "idlerights")
	playScript(t, rc, `
		C: b IDLE
		S: + idling`)
	runScript(t, addr, alice, `
		C: a SETACL Team `+bob+` ls
		S: a OK
		C: b APPEND Team {15+}
		C: Subject: t2
		C:
		C:
		S: b OK`)
	playScript(t, rc, `
		C: DONE
		S: b OK
		C: c NOOP
		S: c OK
		C: d IDLE
		S: + idling`)
	runScript(t, addr, alice, `
		C: a SETACL Team `+bob+` lrs
		S: a OK`)
	playScript(t, rc, `
		S: * 2 EXISTS
		S: ...
		C: DONE
		S: d OK`)
}

// TestSharedIdleAcrossNodes: bob idles on alice's shared mailbox on one
// node and hears her changes made on another (the hub's one feed carries
// every user's changes, docs/DESIGN.md "Shared folders and ACL").
func TestSharedIdleAcrossNodes(t *testing.T) {
	c := startCluster(t, 3)
	alice := c.Address("idlealice")
	bob := c.Address("idlebob")
	c.CreateUser(t, alice, password)
	c.CreateUser(t, bob, password)
	_, addrA, _ := c.serve(t, c.Nodes[0], nil)
	_, addrB, _ := c.serve(t, c.Nodes[1], nil)
	for _, n := range c.Nodes[:2] {
		waitFor(t, func() bool { _, err := n.Store.User(bob); return err == nil })
	}
	owner, _ := dial(t, addrA, alice)
	if err := owner.Create("Team", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMsg(t, owner, "Team", msg("first", "x"))
	if err := owner.SetACL("Team", imap.RightsIdentifier(bob), imap.RightModificationReplace, imap.RightSet("lrs")).Wait(); err != nil {
		t.Fatal(err)
	}
	shared := "Other Users/" + alice + "/Team"
	waitFor(t, func() bool { _, err := c.Nodes[1].Store.SharedMailboxByName(bob, alice, "Team"); return err == nil })
	watcher, u := dial(t, addrB, bob)
	if d := mustSelect(t, watcher, shared); d.NumMessages != 1 {
		t.Fatalf("bob sees %d messages in %s, want 1", d.NumMessages, shared)
	}
	idle, err := watcher.Idle()
	if err != nil {
		t.Fatal(err)
	}
	appendMsg(t, owner, "Team", msg("second", "x"))
	u.wait(t, 5*time.Second, "EXISTS 2 in IDLE on the other node", func(u *updates) bool {
		return len(u.exists) > 0 && u.exists[len(u.exists)-1] == 2
	})
	mustSelect(t, owner, "Team")
	if _, err := owner.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Collect(); err != nil {
		t.Fatal(err)
	}
	u.wait(t, 5*time.Second, "FETCH FLAGS in IDLE on the other node", func(u *updates) bool { return hasFlagList(u.flags[1], imap.FlagFlagged) })
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}
