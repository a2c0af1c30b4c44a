package imap

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// publicDomain adds a fresh local domain (a shared cluster outlives a
// test, and its own domain's settings must not change under the others)
// and its public folders' account "shared@<domain>", made the domain's
// public folders; it returns the domain and the account, which is deleted
// when the test ends.
func publicDomain(t testing.TB, c *testCluster) (dom, account string) {
	t.Helper()
	dom = strings.Replace(c.Address("pub"), "@", ".", 1)
	c.Submit(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: dom}}})
	account = "shared@" + dom
	c.CreateUser(t, account, password)
	setPublicFolders(t, c, dom, account)
	// The account's grants to anyone and authenticated would show its
	// mailboxes to every later test's users of the shared cluster.
	t.Cleanup(func() {
		c.Submit(t, &evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: account}}})
	})
	return dom, account
}

func setPublicFolders(t testing.TB, c *testCluster, dom, account string) {
	t.Helper()
	c.Submit(t, &evlog.Event{Kind: &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: &evlog.DomainSettingsChanged{
		Domain: dom, PublicFolders: &account, ChangedUnix: time.Now().Unix()}}})
}

// TestPublicFolders: a domain's public folders as its users see them in
// the "Shared/" namespace (RFC 2342 §5): NAMESPACE, LIST, and each command
// through the shared-folder path with the rights RFC 4314 §4 asks of it,
// flags shared by all; the account itself, and users of another domain,
// do not have the namespace.
func TestPublicFolders(t *testing.T) {
	c := sharedCluster(t)
	dom, pub := publicDomain(t, c)
	alice, bob := "alice@"+dom, "bob@"+dom
	c.CreateUser(t, alice, password)
	c.CreateUser(t, bob, password)
	outsider := c.NewUser(t, "puboutsider", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	// The administrator, logged in as the account, makes the folders and
	// grants the rights; the account has no public namespace itself.
	runScript(t, addr, pub, `
		C: a NAMESPACE
		S: * NAMESPACE (("" "/")) (("Other Users/" "/")) NIL
		S: a OK
		C: b CREATE Announcements
		S: b OK
		C: c CREATE Team
		S: c OK
		C: d CREATE Team/Sub
		S: d OK
		C: e CREATE Private
		S: e OK
		C: f APPEND Announcements {14+}
		C: Subject: a
		C:
		C:
		S: f OK
		C: g APPEND Team {14+}
		C: Subject: t
		C:
		C:
		S: g OK
		C: h SETACL Announcements anyone lr
		S: h OK
		C: i SETACL Team authenticated lrswi
		S: i OK
		C: j SETACL Team/Sub `+bob+` lra
		S: j OK
		C: k SETMETADATA Team (/shared/comment "team")
		S: k OK`)
	rc := dialRawTLS(t, addr, alice)
	defer rc.conn.Close()
	playScript(t, rc, `
		C: a NAMESPACE
		S: * NAMESPACE (("" "/")) (("Other Users/" "/")) (("Shared/" "/"))
		S: a OK
		C: b LIST "" "Shared/*"
		S: * LIST (\HasNoChildren) "/" Shared/Announcements
		S: * LIST (\HasNoChildren) "/" Shared/Team
		S: b OK
		C: c LIST "" %
		S: * LIST (\HasNoChildren) "/" INBOX
		S: ...
		S: * LIST (\Noselect \HasChildren) "/" Shared
		S: ...
		S: c OK
		C: d LIST "" "Shared/%" RETURN (STATUS (MESSAGES))
		S: * LIST (\HasNoChildren) "/" Shared/Announcements
		S: * STATUS Shared/Announcements (MESSAGES 1)
		S: * LIST (\HasNoChildren) "/" Shared/Team
		S: * STATUS Shared/Team (MESSAGES 1)
		S: d OK
		C: e STATUS shared/Announcements (MESSAGES UIDNEXT)
		S: * STATUS shared/Announcements (MESSAGES 1 UIDNEXT 2)
		S: e OK
		C: f SELECT Shared/Private
		S: f NO [NONEXISTENT]
		C: g SELECT Shared/Team/Sub
		S: g NO [NONEXISTENT]
		C: h CREATE Shared/New
		S: h NO [NOPERM]
		C: i CREATE Shared
		S: i NO [NOPERM]
		C: j DELETE Shared/Team
		S: j NO [NOPERM]
		C: k RENAME Shared/Team Mine
		S: k NO [NOPERM]
		C: l RENAME INBOX Shared/Inbox
		S: l NO [NOPERM]
		C: m APPEND Shared/Announcements {14+}
		C: Subject: m
		C:
		C:
		S: m NO [NOPERM]
		C: n APPEND Shared/Nowhere {14}
		S: n NO [NONEXISTENT]
		C: o APPEND Shared/Team (\Seen \Flagged) {14+}
		C: Subject: o
		C:
		C:
		S: o OK [APPENDUID
		C: p MYRIGHTS Shared/Team
		S: * MYRIGHTS Shared/Team lrswi
		S: p OK
		C: q GETACL Shared/Team
		S: q NO [NOPERM]
		C: qa GETMETADATA Shared/Team /shared/comment
		S: * METADATA Shared/Team (/shared/comment "team")
		S: qa OK
		C: r EXAMINE Shared/Announcements
		S: ...
		S: r OK [READ-ONLY]
		C: s SELECT Shared/Announcements
		S: ...
		S: s OK [READ-ONLY]
		C: t STORE 1 +FLAGS (\Seen)
		S: t NO
		C: u SELECT Shared/Team
		S: ...
		S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Draft \*)]
		S: ...
		S: u OK [READ-WRITE]
		C: v STORE 1 +FLAGS (\Seen \Deleted)
		S: * 1 FETCH (FLAGS (\Seen
		S: v OK
		C: w EXPUNGE
		S: w NO [NOPERM]
		C: x SUBSCRIBE Shared/Team
		S: x OK
		C: y LSUB "" "Shared/*"
		S: * LSUB () "/" Shared/Team
		S: y OK
		C: z COPY 2 Shared/Announcements
		S: z NO [NOPERM]
		C: za COPY 2 Shared/Team
		S: ...
		S: za OK [COPYUID
		C: zc MOVE 1 INBOX
		S: zc NO [NOPERM]`)
	// The public account's mailboxes are no longer under Other Users for
	// the domain's users.
	for _, l := range rc.cmd("zb", `LIST "" "Other Users/*"`) {
		if strings.Contains(l, pub) {
			t.Fatalf("%s listed under Other Users: %q", pub, l)
		}
	}
	// Flags are shared: bob sees alice's \Seen (Dovecot's public
	// namespace without INDEXPVT), and the copies and APPEND she made.
	runScript(t, addr, bob, `
		C: a SELECT Shared/Team
		S: * 3 EXISTS
		S: ...
		S: a OK [READ-WRITE]
		C: b FETCH 1:3 FLAGS
		S: * 1 FETCH (FLAGS (\Seen
		S: * 2 FETCH (FLAGS (\Flagged \Seen
		S: * 3 FETCH (FLAGS (\Flagged \Seen
		S: b OK
		C: c LIST "" "Shared/*"
		S: * LIST (\HasNoChildren) "/" Shared/Announcements
		S: * LIST (\HasChildren) "/" Shared/Team
		S: * LIST (\HasNoChildren) "/" Shared/Team/Sub
		S: c OK
		# With a, bob administers the folder through its public name.
		C: d SETACL Shared/Team/Sub `+alice+` lr
		S: d OK
		C: e GETACL Shared/Team/Sub
		S: * ACL Shared/Team/Sub `+pub+` lrswipkxteacd
		S: e OK
		C: f LISTRIGHTS Shared/Team/Sub anyone
		S: * LISTRIGHTS Shared/Team/Sub anyone "" l r
		S: f OK`)
	// A user of another domain sees what anyone may see under Other
	// Users, as before; no public namespace.
	runScript(t, addr, outsider, `
		C: a NAMESPACE
		S: * NAMESPACE (("" "/")) (("Other Users/" "/")) NIL
		S: a OK
		C: b SELECT "Other Users/`+pub+`/Announcements"
		S: ...
		S: b OK [READ-ONLY]
		C: c SELECT Shared/Announcements
		S: ...
		S: c NO [NONEXISTENT]`)
	// Without public folders, Shared/ is an ordinary personal name again,
	// and the account's mailboxes are back under Other Users.
	setPublicFolders(t, c, dom, "")
	playScript(t, rc, `
		C: ca NAMESPACE
		S: * NAMESPACE (("" "/")) (("Other Users/" "/")) NIL
		S: ca OK
		C: cb LIST "" "Other Users/`+pub+`/*"
		S: * LIST (\HasNoChildren) "/" "Other Users/`+pub+`/Announcements"
		S: * LIST (\HasChildren) "/" "Other Users/`+pub+`/Team"
		S: * LIST (\HasNoChildren) "/" "Other Users/`+pub+`/Team/Sub"
		S: cb OK
		C: cc CREATE Shared/Mine
		S: cc OK
		C: cd LIST "" "Shared/*"
		S: * LIST (\HasNoChildren) "/" Shared/Mine
		S: cd OK`)
	// Public folders again: the user's own Shared/Mine stays reachable
	// (lookup falls back to the personal name) beside the public ones.
	setPublicFolders(t, c, dom, pub)
	playScript(t, rc, `
		C: da LIST "" "Shared/*"
		S: * LIST (\HasNoChildren) "/" Shared/Announcements
		S: * LIST (\HasNoChildren) "/" Shared/Mine
		S: * LIST (\HasChildren) "/" Shared/Team
		S: * LIST (\HasNoChildren) "/" Shared/Team/Sub
		S: da OK
		C: db SELECT Shared/Mine
		S: ...
		S: db OK [READ-WRITE]
		C: dc MYRIGHTS Shared/Mine
		S: * MYRIGHTS Shared/Mine lrswipkxtea
		S: dc OK`)
}

// TestPublicFoldersIdleAcrossNodes: a user idles on a public folder on
// one node and hears the public account's changes made on another, and
// the administrator's SETACL from a third reaches the session's rights.
func TestPublicFoldersIdleAcrossNodes(t *testing.T) {
	c := startCluster(t, 3)
	dom, pub := publicDomain(t, c)
	alice := "alice@" + dom
	c.CreateUser(t, alice, password)
	_, addrA, _ := c.serve(t, c.Nodes[0], nil)
	_, addrB, _ := c.serve(t, c.Nodes[1], nil)
	owner, _ := dial(t, addrA, pub)
	if err := owner.Create("News", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	appendMsg(t, owner, "News", msg("first", "x"))
	if err := owner.SetACL("News", imap.RightsIdentifier("anyone"), imap.RightModificationReplace, imap.RightSet("lrs")).Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		a, err := c.Nodes[1].Store.PublicFolders(dom)
		if err != nil || a != pub {
			return false
		}
		_, err = c.Nodes[1].Store.SharedMailboxByName(alice, pub, "News")
		return err == nil
	})
	watcher, u := dial(t, addrB, alice)
	if d := mustSelect(t, watcher, "Shared/News"); d.NumMessages != 1 {
		t.Fatalf("alice sees %d messages in Shared/News, want 1", d.NumMessages)
	}
	idle, err := watcher.Idle()
	if err != nil {
		t.Fatal(err)
	}
	appendMsg(t, owner, "News", msg("second", "x"))
	u.wait(t, 5*time.Second, "EXISTS 2 in IDLE on the other node", func(u *updates) bool {
		return len(u.exists) > 0 && u.exists[len(u.exists)-1] == 2
	})
	mustSelect(t, owner, "News")
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
	// The rights change on another node: without s, alice's STORE of
	// \Seen is ignored (RFC 4314 §4, as Dovecot does), and the flags she
	// sees are the account's.
	if err := owner.SetACL("News", imap.RightsIdentifier("anyone"), imap.RightModificationReplace, imap.RightSet("lr")).Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		m, err := c.Nodes[1].Store.SharedMailboxByName(alice, pub, "News")
		return err == nil && !m.Rights.Has(acl.Seen)
	})
	if _, err := watcher.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Collect(); err != nil {
		t.Fatal(err)
	}
	msgs, err := watcher.Fetch(imap.SeqSetNum(2), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 1 || hasFlagList(msgs[0].Flags, imap.FlagSeen) {
		t.Fatalf("after STORE without s: %v, %v", msgs, err)
	}
}
