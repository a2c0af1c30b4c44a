package smtp

import (
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// TestRcptMailboxFull: RFC 5321 §4.2.2, §4.5.3.1.10, RFC 3463 X.2.2: a
// recipient whose mailbox is already at its quota, or that the size MAIL
// announced would not fit, gets 452 4.2.2 at RCPT, so the sender keeps the
// message (and the other recipients still get it); with room it is taken.
func TestRcptMailboxFull(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)

	full := uniqueAddress("full")
	c.createUser(t, full, "pw")
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", full)
	if code, msg := cl.data(message("fills the mailbox")); code != 250 {
		t.Fatalf("first message: %d %s", code, msg)
	}
	u, err := n.Store.User(full)
	if err != nil {
		t.Fatal(err)
	}
	used := u.GetUsedBytes()
	c.mustSubmit(t, ev(&evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: full, Bytes: used}}))

	roomy := uniqueAddress("roomy")
	c.createUser(t, roomy, "pw")
	c.mustSubmit(t, ev(&evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: roomy, Bytes: 10_000}}))

	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	if code, msg := cl.cmd("RCPT TO:<%s>", full); code != 452 || !strings.HasPrefix(msg, "4.2.2") {
		t.Fatalf("RCPT to a full mailbox: %d %s", code, msg)
	}
	cl.must(250, "RCPT TO:<%s>", roomy)
	if code, msg := cl.data(message("for the one with room")); code != 250 {
		t.Fatalf("DATA: %d %s", code, msg)
	}

	// SIZE= (RFC 1870) larger than the room left.
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s> SIZE=20000", sender)
	if code, msg := cl.cmd("RCPT TO:<%s>", roomy); code != 452 || !strings.HasPrefix(msg, "4.2.2") {
		t.Fatalf("RCPT with SIZE over the room left: %d %s", code, msg)
	}
	cl.must(250, "RSET")
	cl.must(250, "MAIL FROM:<%s> SIZE=1000", sender)
	cl.must(250, "RCPT TO:<%s>", roomy)

	// A message limit (RFC 9208 §5.2) reached: roomy holds one message.
	one := uint64(1)
	c.mustSubmit(t, ev(&evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: roomy, Bytes: 10_000, Messages: &one}}))
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s> SIZE=100", sender)
	if code, msg := cl.cmd("RCPT TO:<%s>", roomy); code != 452 || !strings.HasPrefix(msg, "4.2.2") {
		t.Fatalf("RCPT past the message limit: %d %s", code, msg)
	}
}

func TestMailboxFull(t *testing.T) {
	for _, tc := range []struct {
		quota, used uint64
		messages    uint64 // the message limit; 2 are used
		size        int64
		full        bool
	}{
		{0, 1 << 40, 0, 1 << 30, false}, // no quota
		{100, 99, 0, 0, false},
		{100, 100, 0, 0, true},
		{100, 150, 0, 0, true},
		{100, 50, 0, 50, false},
		{100, 50, 0, 51, true},
		{0, 0, 3, 0, false},
		{0, 0, 2, 0, true},
		{0, 0, 1, 0, true},
		{100, 50, 3, 50, false},
	} {
		u := &evlog.UserRecord{QuotaBytes: tc.quota, UsedBytes: tc.used,
			QuotaMessages: tc.messages, UsedMessages: 2, UsedMessagesKnown: true}
		if got := mailboxFull(u, tc.size); got != tc.full {
			t.Errorf("quota %d used %d limit %d messages, size %d: full %v, want %v", tc.quota, tc.used, tc.messages, tc.size, got, tc.full)
		}
	}
}
