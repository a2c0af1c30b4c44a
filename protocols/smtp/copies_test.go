package smtp

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/log/logtest"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// deliveryRecorder is a Proposer that keeps the last proposal holding a
// Delivered event (the delivery's).
type deliveryRecorder struct {
	real Proposer
	mu   sync.Mutex
	last *evlog.Batch
}

func (r *deliveryRecorder) Propose(ctx context.Context, p []byte) ([]byte, error) {
	if b, err := evlog.DecodeBatch(p); err == nil {
		for _, e := range b.GetEvents() {
			if e.GetDelivered() != nil {
				r.mu.Lock()
				r.last = b
				r.mu.Unlock()
				break
			}
		}
	}
	return r.real.Propose(ctx, p)
}

// kinds counts the delivery's BlobStored events, its copies among them,
// and its Delivered events.
func (r *deliveryRecorder) kinds() (blobs, copies, delivered int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.last.GetEvents() {
		if b := e.GetBlobStored(); b != nil {
			blobs++
			if len(b.GetCopyOf()) > 0 {
				copies++
			}
		}
		if e.GetDelivered() != nil {
			delivered++
		}
	}
	return blobs, copies, delivered
}

// TestGroupCopies: recipients are grouped by (head, junk) in RCPT order;
// those without fields of their own get the whole message's head; a Junk
// alone makes a group, not a copy; past the copy budget a recipient keeps
// its action but gets the whole message's head.
func TestGroupCopies(t *testing.T) {
	headFor := func(p []byte) []byte { return append([]byte("Return-Path: <>\r\n"), p...) }
	res := pipeline.Result{Prepend: []byte("W: 1\r\n"), Recipients: map[string]pipeline.RecipientOutcome{
		"a": {Prepend: []byte("S: no\r\n")},
		"b": {Prepend: []byte("S: yes\r\n"), Action: pipeline.Junk},
		"d": {Prepend: []byte("S: no\r\n")},
		"e": {Action: pipeline.Junk},
	}}
	groups, squeezed := groupCopies(res, []string{"a", "b", "c", "d", "e"}, headFor, 1000)
	var got []string
	for _, g := range groups {
		got = append(got, fmt.Sprintf("%q %v %v", g.head, g.junk, g.local))
	}
	want := []string{
		`"Return-Path: <>\r\nW: 1\r\nS: no\r\n" false [a d]`,
		`"Return-Path: <>\r\nW: 1\r\nS: yes\r\n" true [b]`,
		`"Return-Path: <>\r\nW: 1\r\n" false [c]`,
		`"Return-Path: <>\r\nW: 1\r\n" true [e]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(squeezed) != 0 {
		t.Fatalf("groups:\n%s\nwant:\n%s\nsqueezed %v", strings.Join(got, "\n"), strings.Join(want, "\n"), squeezed)
	}

	// A 20 MiB body: one copy fits the budget, the next does not; the
	// third recipient keeps its Junk but gets the whole message's head
	// (one copy more).
	groups, squeezed = groupCopies(res, []string{"a", "b", "d"}, headFor, 20<<20)
	if len(groups) != 2 || len(squeezed) != 0 {
		t.Fatalf("two heads of a 20 MiB body: %d groups, squeezed %v", len(groups), squeezed)
	}
	res.Recipients["c"] = pipeline.RecipientOutcome{Prepend: []byte("S: maybe\r\n"), Action: pipeline.Junk}
	groups, squeezed = groupCopies(res, []string{"a", "c", "b"}, headFor, 20<<20)
	if len(squeezed) != 1 || squeezed[0] != "b" || len(groups) != 3 ||
		string(groups[2].head) != "Return-Path: <>\r\nW: 1\r\n" || !groups[2].junk {
		t.Fatalf("past the budget: squeezed %v, groups %+v", squeezed, groups)
	}
	// A recipient's head past evlog.MaxHead is squeezed, even the first.
	res.Recipients["a"] = pipeline.RecipientOutcome{Prepend: bytes.Repeat([]byte("x"), evlog.MaxHead)}
	groups, squeezed = groupCopies(res, []string{"a"}, headFor, 10)
	if len(squeezed) != 1 || string(groups[0].head) != "Return-Path: <>\r\nW: 1\r\n" {
		t.Fatalf("oversized head: squeezed %v, groups %+v", squeezed, groups)
	}
}

// TestPerRecipientCopies: a check gives recipients fields of their own
// and sends one to Junk. Through a follower of a three-node cluster, with
// a message staged in several chunks, one proposal holds the streamed
// body, one copy per other head and one Delivered per group; each stored
// copy has its own fields on top of the same message, in the right
// mailbox, with a log line naming that mailbox; every node holds the same.
func TestPerRecipientCopies(t *testing.T) {
	c := startCluster(t, 3)
	carol, dave := uniqueAddress("carol"), uniqueAddress("dave")
	c.createUser(t, carol, "carol's password")
	c.createUser(t, dave, "dave's password")
	c.WaitConverged(t, 30*time.Second) // the follower knows them before RCPT
	check := &recordingCheck{outcome: pipeline.Outcome{
		Prepend: []byte("X-All: 1\r\n"),
		Recipients: map[string]pipeline.RecipientOutcome{
			alice: {Prepend: []byte("X-Spam-Status: No, score=1.0\r\n")},
			bob:   {Prepend: []byte("X-Spam-Status: Yes, score=9.0\r\n"), Action: pipeline.Junk},
			dave:  {Prepend: []byte("X-Spam-Status: No, score=1.0\r\n")},
		},
	}}
	follower := c.Follower(t)
	rec := &deliveryRecorder{real: follower.Node}
	var logs logtest.Sink
	_, addr := c.serve(t, follower, MX, func(cfg *Config) {
		cfg.Checks = []pipeline.Check{check}
		cfg.Proposer = rec
		cfg.Logger = logs.Logger()
		cfg.ProposeTimeout = time.Minute
	})
	msg := largeMessage("per recipient", evlog.ChunkSize+100<<10)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	for _, r := range []string{alice, bob, carol, dave} {
		cl.must(250, "RCPT TO:<%s>", r)
	}
	if code, text := cl.data(msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if blobs, copies, delivered := rec.kinds(); blobs != 3 || copies != 2 || delivered != 3 {
		t.Fatalf("delivery proposal: %d bodies (%d copies), %d Delivered; want 3 (2), 3", blobs, copies, delivered)
	}
	c.WaitConverged(t, 30*time.Second)

	last := func(ms [][]byte) []byte {
		if len(ms) == 0 {
			return nil
		}
		return ms[len(ms)-1]
	}
	var aliceBody []byte
	for _, n := range c.Nodes {
		var junk [][]byte
		for _, m := range n.Mailbox(t, bob, "Junk") {
			junk = append(junk, m.Body)
		}
		for _, want := range []struct {
			user, mailbox string
			body          []byte
			has, hasNot   string
		}{
			{alice, "INBOX", last(inbox(t, n, alice)), "X-All: 1\r\nX-Spam-Status: No, score=1.0\r\nReceived:", "Yes"},
			{bob, "Junk", last(junk), "X-All: 1\r\nX-Spam-Status: Yes, score=9.0\r\nReceived:", "No,"},
			{carol, "INBOX", last(inbox(t, n, carol)), "X-All: 1\r\nReceived:", "X-Spam-Status"},
			{dave, "INBOX", last(inbox(t, n, dave)), "X-All: 1\r\nX-Spam-Status: No, score=1.0\r\nReceived:", "Yes"},
		} {
			b := want.body
			if !bytes.HasPrefix(b, []byte("Return-Path: <"+sender+">\r\n")) || !bytes.HasSuffix(b, msg) ||
				!bytes.Contains(b[:len(b)-len(msg)], []byte(want.has)) || bytes.Contains(b[:len(b)-len(msg)], []byte(want.hasNot)) {
				t.Fatalf("node %s: %s's copy in %s reads %q...", n.ID, want.user, want.mailbox, b[:min(len(b), 400)])
			}
		}
		if a, d := last(inbox(t, n, alice)), last(inbox(t, n, dave)); !bytes.Equal(a, d) {
			t.Fatalf("node %s: alice's and dave's copies differ", n.ID)
		}
		if aliceBody == nil {
			aliceBody = last(inbox(t, n, alice))
		} else if !bytes.Equal(aliceBody, last(inbox(t, n, alice))) {
			t.Fatalf("node %s: alice's copy differs from another node's", n.ID)
		}
	}

	lines, err := logs.Lines("smtp delivered")
	if err != nil {
		t.Fatal(err)
	}
	filedIn := map[string]string{}
	for _, l := range lines {
		filedIn[fmt.Sprint(l["user"])] = fmt.Sprint(l["mailbox"])
	}
	if filedIn[alice] != "INBOX" || filedIn[bob] != "Junk" || filedIn[carol] != "INBOX" || filedIn[dave] != "INBOX" || len(lines) != 4 {
		t.Fatalf("delivery lines say %v (%d lines)", filedIn, len(lines))
	}
}

// TestJunkAloneSharesTheBody: a check that sends one recipient to Junk
// without fields of its own makes no copy: one body, two Delivered, the
// same bytes in one's INBOX and the other's Junk.
func TestJunkAloneSharesTheBody(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{bob: {Action: pipeline.Junk}}}}
	rec := &deliveryRecorder{real: n.Node}
	_, addr := c.serve(t, n, MX, func(cfg *Config) {
		cfg.Checks = []pipeline.Check{check}
		cfg.Proposer = rec
	})
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, text := cl.data(message("junk for bob alone")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if blobs, copies, delivered := rec.kinds(); blobs != 1 || copies != 0 || delivered != 2 {
		t.Fatalf("delivery proposal: %d bodies (%d copies), %d Delivered; want 1 (0), 2", blobs, copies, delivered)
	}
	junk := n.Mailbox(t, bob, "Junk")
	a := inbox(t, n, alice)
	if len(junk) == 0 || len(a) == 0 || !bytes.Equal(junk[len(junk)-1].Body, a[len(a)-1]) ||
		!bytes.Contains(a[len(a)-1], []byte("Subject: junk for bob alone")) {
		t.Fatal("bob's Junk and alice's INBOX do not hold the same message")
	}
}

// TestCopySkippedGetsDSN: a recipient alone in its copy's group, deleted
// after RCPT, is not silently lost while the others get the message: the
// message is accepted (250) and its DSN is queued in the same commit.
func TestCopySkippedGetsDSN(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("leaving")
	c.createUser(t, user, "pw")
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		user: {Prepend: []byte("X-Spam-Status: Yes, score=7.0\r\n"), Action: pipeline.Junk},
	}}}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Checks = []pipeline.Check{check} })
	before := len(inbox(t, n, alice))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	cl.must(250, "RCPT TO:<%s>", user)
	c.mustSubmit(t, ev(&evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: user}}))
	if code, text := cl.data(message("one copy skipped")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got := len(inbox(t, n, alice)); got != before+1 {
		t.Fatal("alice did not get it")
	}
	entries, err := n.Store.QueueEntries(1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range entries {
		if q.GetLocalFailure() && len(q.GetRecipients()) == 1 && q.GetRecipients()[0].GetAddress() == user &&
			q.GetRecipients()[0].GetEnhancedStatus() == "5.1.1" {
			return
		}
	}
	t.Fatalf("no DSN queued for %s among %d queue entries", user, len(entries))
}
