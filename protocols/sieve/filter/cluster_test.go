package filter

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// checkOn is the Sieve check over node n's store, as serve wires it.
func checkOn(t *testing.T, n *protocoltest.Node, now time.Time) *Check {
	t.Helper()
	state := StoreState{Store: n.Store}
	c, err := New(Config{Scripts: state, Forwarding: state, Records: state, Mailboxes: state,
		Replies: MessageReplies{Hostname: "mx.example.test"}, Now: func() time.Time { return now },
		Logger: protocoltest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runOn runs the check on a message to rcpt as the SMTP server on n would.
func runOn(t *testing.T, c *Check, from, rcpt, msg string) pipeline.Result {
	t.Helper()
	runs, err := pipeline.Start(context.Background(), []pipeline.Check{c}, pipeline.Envelope{From: from, Local: []string{rcpt}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, runs.Reader(strings.NewReader(msg))); err != nil {
		t.Fatal(err)
	}
	res, err := runs.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A script put through node A runs for a delivery through node C, and
// the vacation record C's delivery proposes stops a second reply from
// node B; two nodes judging the same sender at once each propose a reply,
// and apply queues one.
func TestScriptsAcrossNodes(t *testing.T) {
	c := protocoltest.Start(t, protocoltest.Options{Size: 3})
	a, b, nc := c.Nodes[0], c.Nodes[1], c.Nodes[2]
	bob := c.NewUser(t, "bob", "password")
	script := `require ["fileinto", "mailbox", "vacation"];
fileinto :create "Projects";
vacation :days 2 "Away until Monday.";`
	a.Submit(t, &evlog.Event{Kind: &evlog.Event_SieveScriptPut{SieveScriptPut: &evlog.SieveScriptPut{
		Owner: bob, Name: "main", Script: []byte(script), PutUnix: time.Now().Unix(), Activate: true}}})
	c.WaitConverged(t, 30*time.Second)

	now := time.Now()
	msg := "From: <carol@remote.test>\r\nTo: <" + bob + ">\r\nSubject: plans\r\nMessage-ID: <plans@remote.test>\r\n\r\nHi.\r\n"
	res := runOn(t, checkOn(t, nc, now), "carol@remote.test", bob, msg)
	if f := res.Recipients[bob].Filings; len(f) != 1 || f[0].Mailbox != "Projects" || !f[0].Create {
		t.Fatalf("node C: filings %+v", f)
	}
	vs := vacations(res)
	if len(vs) != 1 {
		t.Fatalf("node C: %d vacation records", len(vs))
	}
	before, err := nc.Store.QueueLength()
	if err != nil {
		t.Fatal(err)
	}
	nc.Submit(t, res.Events...)
	c.WaitConverged(t, 30*time.Second)
	if n, _ := b.Store.QueueLength(); n != before+1 {
		t.Fatalf("queue %d → %d after the reply", before, n)
	}

	// Node B now knows carol was answered.
	res = runOn(t, checkOn(t, b, now.Add(time.Minute)), "carol@remote.test", bob, msg)
	if len(res.Events) != 0 {
		t.Fatalf("node B replied again: %v", res.Events)
	}
	// Past the period, a new reply.
	res = runOn(t, checkOn(t, b, now.Add(49*time.Hour)), "carol@remote.test", bob, msg)
	if len(vacations(res)) != 1 {
		t.Fatalf("no reply after the period: %v", res.Events)
	}

	// Two nodes judge dave at once: both reply, apply queues one.
	daveMsg := bytes.ReplaceAll([]byte(msg), []byte("carol"), []byte("dave"))
	ra := runOn(t, checkOn(t, a, now), "dave@remote.test", bob, string(daveMsg))
	rb := runOn(t, checkOn(t, b, now), "dave@remote.test", bob, string(daveMsg))
	if len(vacations(ra)) != 1 || len(vacations(rb)) != 1 {
		t.Fatal("a node did not reply to dave")
	}
	before, _ = a.Store.QueueLength()
	a.Submit(t, ra.Events...)
	out := b.Submit(t, rb.Events...) // the delivery it travels with must not fail
	c.WaitConverged(t, 30*time.Second)
	if n, _ := nc.Store.QueueLength(); n != before+1 {
		t.Fatalf("queue %d → %d after two racing replies, want one more", before, n)
	}
	t.Logf("the second reply's result: %v", out.GetResults())
}
