package smtp

import (
	"bytes"
	"slices"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/protocoltest"
	"github.com/surat-mail/surat/protocols/sieve/filter"
)

// TestSieveFileintoSharedMailbox: a script's fileinto "Other Users/OWNER/
// NAME" files into the owner's mailbox when the recipient holds the p
// right on it (RFC 4314), with only the flags its rights allow, through
// the real Sieve filter and apply; without the right, into the
// recipient's INBOX. The short form (owner without its domain) names a
// user of the recipient's domain.
func TestSieveFileintoSharedMailbox(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	owner, sharer := uniqueAddress("team-owner"), uniqueAddress("team-poster")
	c.createUser(t, owner, "pw")
	c.createUser(t, sharer, "pw")
	out := n.Submit(t, &evlog.Event{Kind: &evlog.Event_MailboxCreated{MailboxCreated: &evlog.MailboxCreated{
		Address: owner, Name: "Team", UidValidityHint: 1}}})
	team := out.GetResults()[0].GetMailboxId()
	local := owner[:bytes.IndexByte([]byte(owner), '@')]
	script := `require ["fileinto", "imap4flags"];
if header :contains "subject" "short" { fileinto :flags ["\\Seen", "\\Flagged"] "Other Users/` + local + `/Team"; stop; }
fileinto :flags ["\\Seen", "\\Flagged"] "Other Users/` + owner + `/Team";`
	n.Submit(t, &evlog.Event{Kind: &evlog.Event_SieveScriptPut{SieveScriptPut: &evlog.SieveScriptPut{
		Owner: sharer, Name: "main", Script: []byte(script), PutUnix: time.Now().Unix(), Activate: true}}})
	state := filter.StoreState{Store: n.Store}
	check, err := filter.New(filter.Config{Scripts: state, Mailboxes: state, Logger: protocoltest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	send := func(subject string) {
		t.Helper()
		if code, text := sendVia(t, c, withCheck(check, nil), []string{sharer}, message(subject)); code != 250 {
			t.Fatalf("DATA: %d %s", code, text)
		}
	}

	// RFC 5490 mailboxexists of the shared name: only with p.
	exists := func() bool {
		t.Helper()
		ok, err := state.MailboxExists(sharer, "Other Users/"+owner+"/Team")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if exists() {
		t.Fatal("mailboxexists says yes without the p right")
	}
	// No right yet: the sharer's INBOX.
	send("before the share")
	if b, _ := lastIn(t, n, sharer, "INBOX"); !bytes.Contains(b, []byte("before the share")) {
		t.Fatal("without p the copy is not in the sharer's INBOX")
	}
	n.Submit(t, &evlog.Event{Kind: &evlog.Event_AclSet{AclSet: &evlog.AclSet{
		Owner: owner, MailboxId: team, Identifier: sharer, Rights: "lps"}}})
	if !exists() {
		t.Fatal("mailboxexists says no with the p right")
	}
	send("after the share")
	b, flags := lastIn(t, n, owner, "Team")
	if !bytes.Contains(b, []byte("after the share")) || !slices.Equal(flags, []string{`\Seen`}) {
		t.Fatalf("owner's Team: last message flags %v (want \\Seen only: no w right)", flags)
	}
	send("short form")
	if b, _ := lastIn(t, n, owner, "Team"); !bytes.Contains(b, []byte("short form")) {
		t.Fatal("the short form did not reach the owner's Team")
	}
	if got := len(n.Mailbox(t, sharer, "INBOX")); got != 1 {
		t.Fatalf("the sharer's INBOX holds %d messages, want 1", got)
	}
}
