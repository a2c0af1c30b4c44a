package outbound

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// A message accepted for several local recipients, one of which apply
// could not deliver to (its mailbox filled between RCPT and the commit):
// the sender gets a DSN for that one (Status 5.2.2), in its INBOX when
// local, through the queue when remote; the others have the message.
func TestLocalFailureDSN(t *testing.T) {
	c := startCluster(t, 3, time.Hour)
	const bob, carol = "bob@example.test", "carol@example.test"
	c.Submit(t,
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: bob, PasswordHash: "x", CreatedUnix: 1}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: carol, PasswordHash: "x", CreatedUnix: 1}}},
		&evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: bob, Bytes: 10}}})
	deliver := func(from, subject string) {
		body := message(subject)
		sum := sha256.Sum256(body)
		c.Submit(t, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: evlog.Chunks(body)[0]}},
			&evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
				Blob: sum[:], Size: uint64(len(body)), InternalDateUnix: time.Now().Unix(),
				Recipients: []*evlog.Recipient{{Address: carol}, {Address: bob}}, ReturnPath: from,
			}}})
		for _, n := range c.Live() {
			c.relays[n].Queued()
		}
	}

	deliver(alice, "local sender")
	l := c.Leader(t)
	waitUntil(t, 15*time.Second, "the DSN in alice's INBOX", func() bool { return len(inbox(t, l, alice)) == 1 })
	fields := checkDSN(t, inbox(t, l, alice)[0], bob)
	if fields["Status"] != "5.2.2" || !strings.HasPrefix(fields["Diagnostic-Code"], "smtp; 552 5.2.2") {
		t.Fatalf("delivery-status fields: %v", fields)
	}
	if len(inbox(t, l, carol)) != 1 || len(inbox(t, l, bob)) != 0 {
		t.Fatal("carol must have the message and bob not")
	}

	deliver("sender@remote.test", "remote sender")
	waitUntil(t, 15*time.Second, "the DSN at the smarthost", func() bool {
		return c.sink.countWith("Undelivered Mail Returned to Sender") == 1
	})
	for _, m := range c.sink.all() {
		if !strings.Contains(string(m.Data), "Final-Recipient: rfc822; "+bob) || m.From != "" {
			t.Fatalf("DSN to the remote sender: from %q\n%s", m.From, m.Data)
		}
	}
	waitUntil(t, 15*time.Second, "an empty queue", func() bool {
		n, _ := l.Store.QueueLength()
		return n == 0
	})
}
