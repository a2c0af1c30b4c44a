package smtp

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// queueRelay queues like protocols/outbound's Relay (which imports this
// package, so the tests cannot use it): one Queued event per message.
type queueRelay struct{}

func (queueRelay) QueueEvents(m Outbound) ([]*evlog.Event, error) {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	q := &evlog.Queued{Id: id, Blob: m.Blob, Size: m.Size, MailFrom: m.From, Submitter: m.User,
		QueuedUnix: m.Received.Unix(), ExpiresUnix: m.Received.Add(time.Hour).Unix()}
	for _, r := range m.Recipients {
		q.Recipients = append(q.Recipients, &evlog.QueueRecipient{Address: r})
	}
	return []*evlog.Event{{Kind: &evlog.Event_Queued{Queued: q}}}, nil
}

// submitAs opens an authenticated submission session.
func submitAs(t *testing.T, addr, user, pass string) *client {
	t.Helper()
	cl := dial(t, addr)
	cl.hello()
	cl.must(235, "AUTH PLAIN %s", plain(user, pass))
	return cl
}

func expectReply(t *testing.T, what string, code int, enhanced string, gotCode int, msg string) {
	t.Helper()
	if gotCode != code || !strings.HasPrefix(msg, enhanced) {
		t.Fatalf("%s: got %d %s, want %d %s", what, gotCode, msg, code, enhanced)
	}
}

// TestSubmissionHourlySendLimit: the remote recipients a user queued in
// the last hour count against --max-send-per-hour on every node of the
// cluster, since the count is replicated: a recipient past it gets 452
// 4.5.3 while others of the message fit, 450 4.7.1 once none is left;
// local recipients never count.
func TestSubmissionHourlySendLimit(t *testing.T) {
	c := startCluster(t, 3)
	const carol, carolPass = "carol@example.test", "carol's password"
	c.createUser(t, carol, carolPass)
	limit := func(cfg *Config) { cfg.Relay, cfg.MaxSendPerHour = queueRelay{}, 3 }
	_, addr1 := c.serve(t, c.Nodes[0], Submission, limit)
	_, addr2 := c.serve(t, c.Nodes[1], Submission, limit)

	cl := submitAs(t, addr1, carol, carolPass)
	cl.must(250, "MAIL FROM:<%s>", carol)
	for _, r := range []string{"x1@remote.test", "x2@remote.test", "x3@remote.test", "x1@remote.test"} {
		cl.must(250, "RCPT TO:<%s>", r) // the repeated x1 is one recipient
	}
	code, msg := cl.cmd("RCPT TO:<x4@remote.test>")
	expectReply(t, "fourth remote recipient", 452, "4.5.3", code, msg)
	cl.must(250, "RCPT TO:<%s>", bob) // local: not counted
	if code, msg := cl.data(message("to three")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}

	// Through another node: the count is the cluster's, not the node's.
	waitFor(t, func() bool {
		u, err := c.Nodes[1].Store.SenderUsage(carol, time.Now().Unix())
		return err == nil && u.RecipientsLastHour == 3
	})
	cl2 := submitAs(t, addr2, carol, carolPass)
	cl2.must(250, "MAIL FROM:<%s>", carol)
	code, msg = cl2.cmd("RCPT TO:<x4@remote.test>")
	expectReply(t, "remote recipient with the hour used up", 450, "4.7.1", code, msg)
	if !strings.Contains(msg, "limit") {
		t.Errorf("reply does not say why: %q", msg)
	}
	cl2.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl2.data(message("local only")); code != 250 {
		t.Fatalf("local mail with the hour used up: %d %s", code, msg)
	}
	// Another user has an hour of their own.
	cl3 := submitAs(t, addr2, alice, alicePass)
	cl3.must(250, "MAIL FROM:<%s>", alice)
	cl3.must(250, "RCPT TO:<x4@remote.test>")
}

// TestSubmissionQueuedBytesLimit: a message that would take the user past
// --max-queued-bytes-per-user is refused with 452 4.3.1 after DATA (apply
// enforces the limit the node stamped into Queued), and once the user's
// queued bytes reach a listener's limit, RCPT to a remote address gets the
// same reply before any body is sent.
func TestSubmissionQueuedBytesLimit(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	const dave, davePass = "dave@example.test", "dave's password"
	c.createUser(t, dave, davePass)
	body := append(message("sized"), strings.Repeat("padding line of text\r\n", 35)...)
	_, addr := c.serve(t, n, Submission, func(cfg *Config) {
		cfg.Relay, cfg.MaxQueuedBytesPerUser = queueRelay{}, 1500
	})
	cl := submitAs(t, addr, dave, davePass)
	cl.must(250, "MAIL FROM:<%s>", dave)
	cl.must(250, "RCPT TO:<y1@remote.test>")
	if code, msg := cl.data(body); code != 250 {
		t.Fatalf("first message: %d %s", code, msg)
	}
	u, err := n.Store.SenderUsage(dave, time.Now().Unix())
	if err != nil || u.QueuedBytes <= 750 || u.QueuedBytes > 1500 {
		t.Fatalf("queued bytes after one message: %d (%v); the test needs 750 < size <= 1500", u.QueuedBytes, err)
	}
	cl.must(250, "MAIL FROM:<%s>", dave)
	cl.must(250, "RCPT TO:<y2@remote.test>") // under the limit until the size is known
	code, msg := cl.data(body)
	expectReply(t, "second message past the limit", 452, "4.3.1", code, msg)
	if u2, _ := n.Store.SenderUsage(dave, time.Now().Unix()); u2.QueuedBytes != u.QueuedBytes {
		t.Fatalf("refused message counted: %d, want %d", u2.QueuedBytes, u.QueuedBytes)
	}

	_, small := c.serve(t, n, Submission, func(cfg *Config) {
		cfg.Relay, cfg.MaxQueuedBytesPerUser = queueRelay{}, 500
	})
	cl2 := submitAs(t, small, dave, davePass)
	cl2.must(250, "MAIL FROM:<%s>", dave)
	code, msg = cl2.cmd("RCPT TO:<y3@remote.test>")
	expectReply(t, "remote recipient with the queue share full", 452, "4.3.1", code, msg)
	cl2.must(250, "RCPT TO:<%s>", bob) // local mail does not queue
}
