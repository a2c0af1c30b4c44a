package greylist

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/protocoltest"
	surasmtp "github.com/surat-mail/surat/protocols/smtp"
)

// serveMX runs an MX listener on n whose greylisting reads n's store and
// the shared clock.
func serveMX(t *testing.T, c *protocoltest.Cluster, n *protocoltest.Node, clk *fakeClock) string {
	t.Helper()
	check, err := New(Config{Store: n.Store, Delay: 5 * time.Minute, Now: clk.Now, Logger: protocoltest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := surasmtp.New(surasmtp.Config{
		Kind: surasmtp.MX, Hostname: "mx." + c.Domain, TLS: c.TLS,
		Directory: n.Store, Proposer: n.Node, IsNotFound: protocoltest.IsNotFound,
		LocalDomains: []string{c.Domain}, Logger: protocoltest.Logger(),
		ProposeTimeout: 10 * time.Second,
		Checks:         []pipeline.Check{check},
	})
	if err != nil {
		t.Fatal(err)
	}
	return protocoltest.Serve(t, srv)
}

// send delivers one message over SMTP and returns the reply code after
// DATA (250, or the refusal's).
func send(t *testing.T, addr, from, rcpt, body string) (int, string) {
	t.Helper()
	cl, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Hello("mx.sender.test"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Mail(from); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rcpt(rcpt); err != nil {
		t.Fatal(err)
	}
	w, err := cl.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	err = w.Close()
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code, te.Msg
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = cl.Quit()
	return 250, ""
}

// TestRetryThroughAnotherNodePasses: the triple node A greylisted is
// known on node C, so the sender's retry after the delay passes there.
func TestRetryThroughAnotherNodePasses(t *testing.T) {
	c := protocoltest.Start(t, protocoltest.Options{Size: 3, Domain: "example.test"})
	bob := c.NewUser(t, "bob", "bob's password")
	clk := &fakeClock{now: time.Now()}
	a, nodeC := c.Nodes[0], c.Nodes[2]
	mxA, mxC := serveMX(t, c, a, clk), serveMX(t, c, nodeC, clk)
	const from = "alice@sender.test"
	body := "From: alice@sender.test\r\nTo: " + bob + "\r\nSubject: greylisting\r\nMessage-ID: <g1@sender.test>\r\n\r\nHello Bob.\r\n"

	code, msg := send(t, mxA, from, bob, body)
	if code != 451 || !strings.Contains(msg, "Greylisted, try again in 300 seconds") {
		t.Fatalf("first attempt via A: %d %q", code, msg)
	}
	triple := Triple(Network("127.0.0.1"), from, bob)
	protocoltest.WaitFor(t, 10*time.Second, "the triple on C", func() bool {
		_, ok, err := nodeC.Store.Greylisted(triple, clk.Now())
		return ok && err == nil
	})
	clk.Advance(time.Minute)
	if code, msg := send(t, mxC, from, bob, body); code != 451 || !strings.Contains(msg, "240 seconds") {
		t.Fatalf("early retry via C: %d %q (the triple's first sighting on A counts)", code, msg)
	}
	clk.Advance(4 * time.Minute)
	if code, msg := send(t, mxC, from, bob, body); code != 250 {
		t.Fatalf("retry via C after the delay: %d %q", code, msg)
	}
	if got := nodeC.Inbox(t, bob); len(got) != 1 || !strings.Contains(string(got[0].Body), "Hello Bob.") {
		t.Fatalf("bob's INBOX on C: %d messages", len(got))
	}
	// Passed, on every node: the next message through A goes straight in.
	protocoltest.WaitFor(t, 10*time.Second, "the pass on A", func() bool {
		e, ok, err := a.Store.Greylisted(triple, clk.Now())
		return ok && err == nil && e.Passed
	})
	if code, msg := send(t, mxA, from, bob, body); code != 250 {
		t.Fatalf("next message via A: %d %q", code, msg)
	}
	c.WaitConverged(t, 10*time.Second)
}
