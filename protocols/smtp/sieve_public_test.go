package smtp

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/protocoltest"
	"github.com/surat-mail/surat/protocols/sieve/filter"
)

// TestSieveFileintoPublicFolder: with public folders on the recipient's
// domain (DomainSettingsChanged.public_folders), a script's fileinto
// "Shared/NAME" files into the public account's mailbox NAME when the
// recipient holds p on it, through the same shared_owner path as "Other
// Users/..." (the real Sieve filter and apply); without the right, into
// the recipient's INBOX.
func TestSieveFileintoPublicFolder(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	dom := fmt.Sprintf("pub%d.%s", addressSeq.Add(1), domain)
	c.mustSubmit(t, ev(&evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: dom}}))
	pub, poster := "shared@"+dom, "poster@"+dom
	c.createUser(t, pub, "pw")
	c.createUser(t, poster, "pw")
	out := n.Submit(t, &evlog.Event{Kind: &evlog.Event_MailboxCreated{MailboxCreated: &evlog.MailboxCreated{
		Address: pub, Name: "Announcements", UidValidityHint: 1}}})
	news := out.GetResults()[0].GetMailboxId()
	c.mustSubmit(t, &evlog.Event{Kind: &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: &evlog.DomainSettingsChanged{
		Domain: dom, PublicFolders: &pub, ChangedUnix: 1}}})
	n.Submit(t, &evlog.Event{Kind: &evlog.Event_SieveScriptPut{SieveScriptPut: &evlog.SieveScriptPut{
		Owner: poster, Name: "main", Script: []byte(`require "fileinto"; fileinto "Shared/Announcements";`),
		PutUnix: time.Now().Unix(), Activate: true}}})
	state := filter.StoreState{Store: n.Store}
	check, err := filter.New(filter.Config{Scripts: state, Mailboxes: state, Logger: protocoltest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	send := func(subject string) {
		t.Helper()
		if code, text := sendVia(t, c, withCheck(check, nil), []string{poster}, message(subject)); code != 250 {
			t.Fatalf("DATA: %d %s", code, text)
		}
	}
	exists := func() bool {
		t.Helper()
		ok, err := state.MailboxExists(poster, "Shared/Announcements")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if exists() {
		t.Fatal("mailboxexists says yes without the p right")
	}
	send("before the grant")
	if b, _ := lastIn(t, n, poster, "INBOX"); !bytes.Contains(b, []byte("before the grant")) {
		t.Fatal("without p the copy is not in the poster's INBOX")
	}
	n.Submit(t, &evlog.Event{Kind: &evlog.Event_AclSet{AclSet: &evlog.AclSet{
		Owner: pub, MailboxId: news, Identifier: "authenticated", Rights: "lrp"}}})
	if !exists() {
		t.Fatal("mailboxexists says no with the p right")
	}
	send("after the grant")
	if b, _ := lastIn(t, n, pub, "Announcements"); !bytes.Contains(b, []byte("after the grant")) {
		t.Fatal("the filing did not reach the public Announcements")
	}
	if got := len(n.Mailbox(t, poster, "INBOX")); got != 1 {
		t.Fatalf("the poster's INBOX holds %d messages, want 1", got)
	}
	// Public folders off: "Shared/Announcements" is the poster's own
	// name again (none: INBOX).
	none := ""
	c.mustSubmit(t, &evlog.Event{Kind: &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: &evlog.DomainSettingsChanged{
		Domain: dom, PublicFolders: &none, ChangedUnix: 2}}})
	if exists() {
		t.Fatal("mailboxexists says yes without public folders")
	}
	send("after the end")
	if got := len(n.Mailbox(t, poster, "INBOX")); got != 2 {
		t.Fatalf("the poster's INBOX holds %d messages, want 2", got)
	}
}
