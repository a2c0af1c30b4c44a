package imap

import (
	"strings"
	"testing"

	"github.com/surat-mail/surat/mailbox"
)

// must sends one command on rc and fails the test unless it is answered
// OK.
func (c *rawConn) must(tag, line string) []string {
	c.t.Helper()
	r := c.cmd(tag, line)
	if !strings.HasPrefix(last(r), tag+" OK") {
		c.t.Fatalf("%s: %q", line, r)
	}
	return r
}

// TestCmdNotify: NOTIFY SET (RFC 5465 §3) with the PERSONAL filter and
// every event served: the initial STATUS of SET STATUS, then, between
// commands while the client waits, STATUS for new, expunged and
// re-flagged messages of another mailbox (§5.2, §5.3), LIST for mailboxes
// created, renamed and deleted (§5.4) and for subscriptions (§5.5), and
// the selected mailbox's EXISTS, FETCH with MessageNew's attributes,
// FETCH FLAGS and EXPUNGE (§5.1). NOTIFY NONE stops it all.
func TestCmdNotify(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notify", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	other.must("a", "CREATE Lists")
	appendRaw(other, "Lists", "Subject: one\r\n\r\nx\r\n")

	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a CAPABILITY
		S: * CAPABILITY
		S: a OK
		C: b SELECT INBOX
		S: ...
		S: b OK
		C: c NOTIFY SET STATUS (selected (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))
		S: ...
		S: * STATUS Lists (MESSAGES 1 UIDNEXT 2 UIDVALIDITY
		S: ...
		S: c OK`)
	if !strings.Contains(w.cmd("d", "CAPABILITY")[0], " NOTIFY") {
		t.Fatal("NOTIFY not advertised")
	}

	// Another mailbox: STATUS for each message event.
	appendRaw(other, "Lists", "Subject: two\r\n\r\nx\r\n")
	playScript(t, w, `S: * STATUS Lists (MESSAGES 2 UIDNEXT 3 UIDVALIDITY`)
	other.must("b", "SELECT Lists")
	other.must("c", `STORE 1:2 +FLAGS (\Seen)`)
	playScript(t, w, `S: * STATUS Lists (MESSAGES 2 UIDNEXT 3 UIDVALIDITY`)
	other.must("d", `STORE 1 +FLAGS (\Deleted)`)
	playScript(t, w, `S: * STATUS Lists (MESSAGES 2 UIDNEXT 3 UIDVALIDITY`)
	other.must("e", "EXPUNGE")
	line := w.line()
	if !strings.HasPrefix(line, "* STATUS Lists (MESSAGES 1 UIDNEXT 3 UIDVALIDITY ") || !strings.Contains(line, "UNSEEN 0 HIGHESTMODSEQ ") {
		t.Fatalf("after EXPUNGE: %q", line)
	}

	// Mailbox names and subscriptions.
	other.must("f", "CREATE Foo")
	playScript(t, w, `S: * LIST () "/" Foo`)
	other.must("g", "RENAME Foo Bar")
	playScript(t, w, `S: * LIST () "/" Bar ("OLDNAME" (Foo))`)
	other.must("h", "DELETE Bar")
	playScript(t, w, `S: * LIST (\NonExistent) "/" Bar`)
	other.must("i", "SUBSCRIBE Lists")
	playScript(t, w, `S: * LIST (\Subscribed) "/" Lists`)
	other.must("j", "UNSUBSCRIBE Lists")
	playScript(t, w, `S: * LIST () "/" Lists`)

	// The selected mailbox: EXISTS and the FETCH asked for, flags,
	// expunges, all without a command from the client.
	appendRaw(other, "INBOX", "Subject: hello\r\n\r\nx\r\n")
	playScript(t, w, `
		S: * 1 EXISTS
		S: ...
		S: * 1 FETCH (UID 1 FLAGS (
		S: Subject: hello
		S:
		S: )`)
	other.must("k", "SELECT INBOX")
	other.must("l", `STORE 1 +FLAGS (\Deleted)`)
	playScript(t, w, `S: * 1 FETCH (UID 1 FLAGS (\Deleted`)
	other.must("m", "EXPUNGE")
	playScript(t, w, `S: * 1 EXPUNGE`)

	// NOTIFY NONE: nothing more, neither now nor at the next command's
	// end beyond the selected mailbox's own updates.
	playScript(t, w, `
		C: n NOTIFY NONE
		S: n OK`)
	appendRaw(other, "Lists", "Subject: three\r\n\r\nx\r\n")
	other.must("o", "CREATE Quiet")
	playScript(t, w, `
		C: p NOOP
		S: p OK`)
}

// TestCmdNotifyFilters: SUBTREE, MAILBOXES, SUBSCRIBED, INBOXES and
// SELECTED-DELAYED (RFC 5465 §6), and a mailbox no filter names, which
// is never reported.
func TestCmdNotifyFilters(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notifyfilters", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	for i, name := range []string{"Lists", "Lists/Go", "Work", "Sub", "Quiet"} {
		other.must("c"+itoa(i), "CREATE "+name)
	}
	other.must("s", "SUBSCRIBE Sub")

	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b NOTIFY SET STATUS (selected-delayed (MessageNew MessageExpunge)) (subtree Lists (MessageNew MessageExpunge)) (mailboxes (Work) (MessageNew)) (subscribed (MessageNew))
		S: ...
		S: * STATUS Lists (MESSAGES 0
		S: * STATUS Lists/Go (MESSAGES 0
		S: ...
		S: * STATUS Sub (MESSAGES 0
		S: ...
		S: * STATUS Work (MESSAGES 0
		S: b OK`)
	for _, mb := range []string{"Quiet", "Lists/Go", "Quiet", "Work", "Quiet", "Sub"} {
		appendRaw(other, mb, "Subject: x\r\n\r\nx\r\n")
		if mb != "Quiet" {
			playScript(t, w, `S: * STATUS `+mb+` (MESSAGES 1 UIDNEXT 2 UIDVALIDITY`)
		}
	}
	// SELECTED-DELAYED: EXISTS at once, EXPUNGE only with a command that
	// may carry it (§6).
	appendRaw(other, "INBOX", "Subject: x\r\n\r\nx\r\n")
	playScript(t, w, `S: * 1 EXISTS`)
	other.must("d", "SELECT INBOX")
	other.must("e", `STORE 1 +FLAGS (\Deleted)`)
	playScript(t, w, `
		S: ...
		S: * 1 FETCH (UID 1 FLAGS (\Deleted`)
	other.must("f", "EXPUNGE")
	playScript(t, w, `
		C: g NOOP
		S: * 1 EXPUNGE
		S: g OK`)
}

// TestCmdNotifyMetadata: MailboxMetadataChange and ServerMetadataChange
// (RFC 5465 §5.7, §5.8) as unsolicited METADATA naming the annotations
// that changed (RFC 5464 §4.4.2), only those the user may see: another
// user's /private/ entries on a shared mailbox are not.
func TestCmdNotifyMetadata(t *testing.T) {
	c := sharedCluster(t)
	alice := c.NewUser(t, "notifymetaalice", password)
	bob := c.NewUser(t, "notifymetabob", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	a := dialRawTLS(t, addr, alice)
	defer a.conn.Close()
	a.must("a", "CREATE Team")
	a.must("b", `SETMETADATA Team (/shared/comment "old")`)
	a.must("c", "SETACL Team "+bob+" lrw")
	team := `"Other Users/` + alice + `/Team"`

	w := dialRawTLS(t, addr, alice)
	defer w.conn.Close()
	playScript(t, w, `
		C: a NOTIFY SET (personal (MailboxMetadataChange ServerMetadataChange))
		S: a OK`)
	b := dialRawTLS(t, addr, bob)
	defer b.conn.Close()
	playScript(t, b, `
		C: a NOTIFY SET (subtree "Other Users" (MailboxMetadataChange))
		S: a OK`)

	a.must("d", `SETMETADATA Team (/shared/comment "new" /private/mine "x")`)
	playScript(t, w, `S: * METADATA Team /private/mine /shared/comment`)
	playScript(t, b, `S: * METADATA `+team+` /shared/comment`)
	playScript(t, b, `
		C: b SETMETADATA `+team+` (/private/bobs "y")
		S: * METADATA `+team+` /private/bobs
		S: b OK`)
	a.must("e", `SETMETADATA Team (/shared/comment NIL)`)
	playScript(t, w, `S: * METADATA Team /shared/comment`)
	playScript(t, b, `S: * METADATA `+team+` /shared/comment`)
	a.must("f", `SETMETADATA "" (/private/vendor/x "1")`)
	playScript(t, w, `
		S: * METADATA "" /private/vendor/x
		C: g NOOP
		S: g OK`)
	playScript(t, b, `
		C: c NOOP
		S: c OK`)
}

// TestCmdNotifyRefusals: events not served get NO [BADEVENT] with the
// list of those served (RFC 5465 §5); the selected mailbox's events obey
// §5's pairing (BAD); other filters take any events, as Dovecot does;
// imaptest's notify script's initial STATUS; NOTIFY before login.
func TestCmdNotifyRefusals(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notifyrefuse", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: a NOTIFY NONE
		S: a BAD`)
	runScript(t, addr, user, `
		C: a NOTIFY SET (personal (AnnotationChange))
		S: a NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)]
		C: b NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (AnnotationChange MailboxMetadataChange))
		S: b NO [BADEVENT (
		C: c NOTIFY SET (selected (MessageNew MessageExpunge AnnotationChange))
		S: c NO [BADEVENT (
		C: d NOTIFY SET (personal (NoSuchEvent))
		S: d NO [BADEVENT (
		C: e NOTIFY SET (selected (MessageNew))
		S: e BAD
		C: f NOTIFY SET (selected (FlagChange))
		S: f BAD
		C: g NOTIFY SET (selected (MessageExpunge FlagChange))
		S: g BAD
		C: h NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))
		S: h BAD
		C: i NOTIFY SET (personal (MessageNew (UID) MessageExpunge))
		S: i BAD
		C: j NOTIFY SET (inboxes (FlagChange)) (selected NONE)
		S: j OK
		C: k CREATE Box
		S: k OK
		C: l APPEND Box {12+}
		C: Subject: x
		C:
		S: l OK
		C: m NOTIFY SET STATUS (mailboxes Box (MessageExpunge))
		S: * STATUS Box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY
		S: m OK
		C: n NOTIFY SET STATUS (mailboxes Box (FlagChange))
		S: * STATUS Box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY
		S: n OK
		C: o NOTIFY SET (mailboxes Box (MessageNew MessageExpunge FlagChange))
		S: o OK
		C: p NOTIFY SET STATUS (mailboxes Nope (MessageNew MessageExpunge))
		S: p OK`)
}

// TestCmdNotifyOverflow: past its bound of waiting changes a session gets
// NOTIFICATIONOVERFLOW and hears nothing more (RFC 5465 §5.8) until a new
// NOTIFY SET. The changes pile up while the session waits inside a
// command (an APPEND's literal), when nothing is sent.
func TestCmdNotifyOverflow(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notifyflood", password)
	_, _, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.notifyQueue = 2 })
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))
		S: a OK
		C: b APPEND INBOX {12}
		S: +`)
	for i := range 3 {
		other.must("c"+itoa(i), "CREATE Flood"+itoa(i))
	}
	playScript(t, w, `
		C: Subject: x
		C:
		S: * OK [NOTIFICATIONOVERFLOW]
		S: b OK`)
	other.must("d", "CREATE Later")
	playScript(t, w, `
		C: e NOOP
		S: e OK
		C: f NOTIFY SET (personal (MailboxName))
		S: f OK`)
	other.must("g", "CREATE Again")
	playScript(t, w, `S: * LIST () "/" Again`)
}

// TestCmdNotifyShared: another user's mailbox is reported only with the
// r right for STATUS (RFC 4314 §4), under its Other Users name, and
// becomes visible to MailboxName once shared.
func TestCmdNotifyShared(t *testing.T) {
	c := sharedCluster(t)
	alice := c.NewUser(t, "notifyalice", password)
	bob := c.NewUser(t, "notifybob", password)
	carol := c.NewUser(t, "notifycarol", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	a := dialRawTLS(t, addr, alice)
	defer a.conn.Close()
	a.must("a", "CREATE Team")
	a.must("b", "CREATE Hidden")
	a.must("c", "SETACL Team "+bob+" lr")
	a.must("d", "SETACL Hidden "+bob+" l")
	team, hidden := `"Other Users/`+alice+`/Team"`, `"Other Users/`+alice+`/Hidden"`

	b := dialRawTLS(t, addr, bob)
	defer b.conn.Close()
	playScript(t, b, `
		C: a NOTIFY SET STATUS (subtree "Other Users" (MessageNew MessageExpunge MailboxName))
		S: * STATUS `+team+` (MESSAGES 0
		S: a OK`)
	cl := dialRawTLS(t, addr, carol)
	defer cl.conn.Close()
	playScript(t, cl, `
		C: a NOTIFY SET STATUS (subtree "Other Users" (MessageNew MessageExpunge)) (personal (MessageNew))
		S: ...
		S: * STATUS INBOX (MESSAGES 0
		S: ...
		S: a OK`)

	appendRaw(a, "Hidden", "Subject: x\r\n\r\nx\r\n")
	appendRaw(a, "Team", "Subject: x\r\n\r\nx\r\n")
	playScript(t, b, `S: * STATUS `+team+` (MESSAGES 1 UIDNEXT 2`)
	a.must("e", "CREATE Later")
	a.must("f", "SETACL Later "+bob+" lr")
	playScript(t, b, `S: * LIST () "/" "Other Users/`+alice+`/Later"`)
	a.must("g", "DELETEACL Team "+bob)
	playScript(t, b, `S: * LIST (\NonExistent) "/" `+team)
	_ = hidden
	// carol holds nothing: she heard none of it.
	playScript(t, cl, `
		C: b NOOP
		S: b OK`)
}

// TestCmdNotifyIdle: during IDLE, NOTIFY's notifications for mailboxes
// other than the selected one go out as they come, as between commands.
func TestCmdNotifyIdle(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notifyidle", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a NOTIFY SET (inboxes (MessageNew MessageExpunge))
		S: a OK
		C: b IDLE
		S: +`)
	appendRaw(other, "INBOX", "Subject: x\r\n\r\nx\r\n")
	playScript(t, w, `
		S: * STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY
		C: DONE
		S: b OK`)
}

// TestNotifyCrossNode: a delivery through one node reaches a NOTIFY
// session on another, watching INBOXES, as an untagged STATUS at once
// (the hub's feed carries every node's commits).
func TestNotifyCrossNode(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster")
	}
	c := startCluster(t, 3)
	user := c.NewUser(t, "notifycross", password)
	_, _, addr := c.serve(t, c.Nodes[1], nil)
	waitFor(t, func() bool { _, err := c.Nodes[1].Store.User(user); return err == nil })
	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a NOTIFY SET STATUS (inboxes (MessageNew MessageExpunge))
		S: ...
		S: * STATUS INBOX (MESSAGES 0 UIDNEXT 1
		S: ...
		S: a OK`)
	c.Nodes[0].Deliver(t, user, msg("cross", "x"))
	playScript(t, w, `S: * STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY`)
	c.Nodes[2].Deliver(t, user, msg("cross 2", "x"))
	playScript(t, w, `S: * STATUS INBOX (MESSAGES 2 UIDNEXT 3 UIDVALIDITY`)
}

// TestCmdNotifyCompressed: under COMPRESS=DEFLATE (RFC 4978) the
// notifications written between commands, while another goroutine reads
// the inflated stream for the next command, arrive whole, and commands
// still work after them.
func TestCmdNotifyCompressed(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notifydeflate", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	rc.must("a", "COMPRESS DEFLATE")
	w := compressed(rc)
	playScript(t, w, `
		C: b NOTIFY SET (mailboxes INBOX (MessageNew MessageExpunge))
		S: b OK`)
	for i := range 3 {
		appendRaw(other, "INBOX", "Subject: x\r\n\r\nx\r\n")
		playScript(t, w, `S: * STATUS INBOX (MESSAGES `+itoa(i+1)+` UIDNEXT `+itoa(i+2))
	}
	playScript(t, w, `
		C: c SELECT INBOX
		S: ...
		S: c OK
		C: d LOGOUT
		S: * BYE
		S: d OK`)
}

// TestNotifyWatchOffer: the hub's side of NOTIFY keeps only the changes
// that may concern the session (its user's, the other users' mailboxes it
// watches, ACL changes and Resets), never blocks, and past its bound
// drops them all for an overflow (RFC 5465 §5.8).
func TestNotifyWatchOffer(t *testing.T) {
	w := &notifyWatch{user: "u@x", limit: 3, wake: make(chan struct{}, 1)}
	w.ids.Store(&map[uint64]bool{7: true})
	for _, c := range []mailbox.Change{
		{Kind: mailbox.MessagesAdded, MailboxID: 1, Address: "u@x"}, // kept
		{Kind: mailbox.MessagesAdded, MailboxID: 2, Address: "v@x"}, // another user's
		{Kind: mailbox.FlagsChanged, MailboxID: 7, Address: "v@x"},  // kept: watched
		{Kind: mailbox.MetadataChanged, Address: "u@x"},             // the server's: not asked
		{Kind: mailbox.UserChanged, Address: "u@x"},                 // not a mailbox's
		{Kind: mailbox.ACLChanged, MailboxID: 9, Address: "v@x"},    // kept: may share
		{Kind: mailbox.SubscriptionsChanged, Address: "v@x"},        // another user's
	} {
		w.offer(c)
	}
	got, overflow := w.take()
	if overflow || len(got) != 3 || got[0].MailboxID != 1 || got[1].MailboxID != 7 || got[2].Kind != mailbox.ACLChanged {
		t.Fatalf("kept %+v, overflow %v", got, overflow)
	}
	select {
	case <-w.wake:
	default:
		t.Fatal("not woken")
	}
	for range 4 {
		w.offer(mailbox.Change{Kind: mailbox.Reset})
	}
	if got, overflow := w.take(); !overflow || len(got) != 0 {
		t.Fatalf("past the bound: %+v, overflow %v", got, overflow)
	}
}

// TestNotifyEventsFor: which events each filter (RFC 5465 §6) gives a
// mailbox name.
func TestNotifyEventsFor(t *testing.T) {
	n := &notifyState{groups: []notifyGroup{
		{filter: "PERSONAL", events: evMailboxName},
		{filter: "SUBSCRIBED", events: evSubscriptionChange},
		{filter: "SUBTREE", names: []string{"Lists"}, events: evMessageNew},
		{filter: "MAILBOXES", names: []string{"Other Users/v@x/Team"}, events: evFlagChange},
	}}
	for _, tc := range []struct {
		name        string
		own, subbed bool
		want        notifyEvents
	}{
		{"INBOX", true, false, evMailboxName},
		{"Lists", true, true, evMailboxName | evSubscriptionChange | evMessageNew},
		{"Lists/Go", true, false, evMailboxName | evMessageNew},
		{"ListsX", true, false, evMailboxName},
		{"Other Users/v@x/Team", false, false, evFlagChange},
		{"Other Users/v@x/Team/Sub", false, true, evSubscriptionChange},
	} {
		if got := n.eventsFor(tc.name, tc.own, tc.subbed); got != tc.want {
			t.Errorf("%s: %b, want %b", tc.name, got, tc.want)
		}
	}
}

// TestCmdNotifyFetchPeeks: MessageNew's fetch attributes are sent for a
// new message of the selected mailbox with its UID, and a BODY[] among
// them does not set \Seen: a notification changes nothing.
func TestCmdNotifyFetchPeeks(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "notifypeek", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a ENABLE IMAP4rev2
		S: * ENABLED IMAP4rev2
		S: a OK
		C: b SELECT INBOX
		S: ...
		S: b OK
		C: c NOTIFY SET (selected (MessageNew (BODY[]) MessageExpunge))
		S: c OK`)
	appendRaw(other, "INBOX", "Subject: x\r\n\r\nx\r\n")
	playScript(t, w, `
		S: * 1 EXISTS
		S: * 1 FETCH (UID 1 BODY[] {17}
		S: Subject: x
		S:
		S: x
		S: )
		C: d FETCH 1 FLAGS
		S: * 1 FETCH (FLAGS ())
		S: d OK`)
}

// TestCmdNotifyPublicFolders: the domain's public folders are watched
// under their "Shared/" names (SUBTREE Shared), with the rights the
// public account granted.
func TestCmdNotifyPublicFolders(t *testing.T) {
	c := sharedCluster(t)
	dom, pub := publicDomain(t, c) // public_test.go
	user := "notify@" + dom
	c.CreateUser(t, user, password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	p := dialRawTLS(t, addr, pub)
	defer p.conn.Close()
	p.must("a", "CREATE News")
	p.must("b", "SETACL News anyone lr")
	w := dialRawTLS(t, addr, user)
	defer w.conn.Close()
	playScript(t, w, `
		C: a NOTIFY SET STATUS (subtree Shared (MessageNew MessageExpunge MailboxName))
		S: * STATUS Shared/News (MESSAGES 0 UIDNEXT 1
		S: a OK`)
	appendRaw(p, "News", "Subject: x\r\n\r\nx\r\n")
	playScript(t, w, `S: * STATUS Shared/News (MESSAGES 1 UIDNEXT 2`)
	p.must("c", "CREATE Events")
	p.must("d", "SETACL Events anyone lr")
	playScript(t, w, `S: * LIST () "/" Shared/Events`)
}
