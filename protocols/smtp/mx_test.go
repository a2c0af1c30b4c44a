package smtp

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMXDeliversAfterCommit pins docs/DESIGN.md invariant 1: when the client has
// its 250, the message is already in the store of the node that answered,
// with Return-Path and Received prepended to the body as received.
func TestMXDeliversAfterCommit(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	before := len(inbox(t, n, alice))

	cl := dial(t, addr)
	keywords := cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", strings.ToUpper(alice)) // addresses are case-insensitive here
	body := message("after commit")
	if code, msg := cl.data(body); code != 250 || !strings.HasPrefix(msg, "2.0.0") {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	// No waiting: the 250 came after commit and local apply.
	got := inbox(t, n, alice)
	if len(got) != before+1 {
		t.Fatalf("INBOX has %d messages right after the 250, want %d", len(got), before+1)
	}
	stored := got[len(got)-1]
	if !bytes.HasPrefix(stored, []byte("Return-Path: <"+sender+">\r\nReceived: from client.test ([127.0.0.1])\r\n")) {
		t.Fatalf("stored message does not start with Return-Path and Received:\n%s", stored)
	}
	if !bytes.HasSuffix(stored, body) {
		t.Fatalf("stored message does not end with the message as sent:\n%s", stored)
	}
	rcv := string(stored[:bytes.Index(stored, []byte("\r\nFrom:"))])
	for _, want := range []string{"by mx.example.test (Surat) with ESMTPS (TLS 1.3", "for <" + alice + ">", " id "} {
		if !strings.Contains(rcv, want) {
			t.Errorf("Received field lacks %q:\n%s", want, rcv)
		}
	}
	if !regexp.MustCompile(`; \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\r\n`).MatchString(rcv + "\r\n") {
		t.Errorf("Received field lacks an RFC 5322 date:\n%s", rcv)
	}
	for _, kw := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "SIZE 26214400"} {
		if !hasKeyword(keywords, kw) {
			t.Errorf("EHLO lacks %s: %q", kw, keywords)
		}
	}
	if hasKeyword(keywords, "AUTH") {
		t.Errorf("MX offers AUTH: %q", keywords)
	}
}

// TestMXOneDeliveryForAllRecipients: an alias and its target, and a second
// user, get one message each from one transaction; the Received field names
// no recipient when there are several (RFC 5321 §4.4).
func TestMXOneDeliveryForAllRecipients(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	beforeA, beforeB := len(inbox(t, n, alice)), len(inbox(t, n, bob))

	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	cl.must(250, "RCPT TO:<%s>", aliceAlias)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(message("two users")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	a, b := inbox(t, n, alice), inbox(t, n, bob)
	if len(a) != beforeA+1 || len(b) != beforeB+1 {
		t.Fatalf("alice got %d, bob got %d new messages; want 1 each", len(a)-beforeA, len(b)-beforeB)
	}
	if !bytes.Equal(a[len(a)-1], b[len(b)-1]) {
		t.Fatal("alice and bob got different bodies")
	}
	if bytes.Contains(a[len(a)-1], []byte("\tfor <")) {
		t.Fatal("Received names a recipient of a multi-recipient message")
	}
}

// TestMXRecipientReplies is every RCPT rule of the MX listener.
func TestMXRecipientReplies(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], MX, nil)
	tests := []struct {
		name, rcpt string
		code       int
		enhanced   string
	}{
		{"user", alice, 250, "2.0.0"},
		{"alias", aliceAlias, 250, "2.0.0"},
		{"mixed case", "Bob@Example.TEST", 250, "2.0.0"},
		{"unknown local user", "nobody@" + domain, 550, "5.1.1"},
		{"configured domain without users", "someone@fresh.test", 550, "5.1.1"},
		{"non-local domain: no open relay", "victim@remote.test", 550, "5.7.1"},
		{"non-local subdomain", "alice@sub." + domain, 550, "5.7.1"},
		{"not an address", "alice", 501, "5."},
	}
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := cl.cmd("RCPT TO:<%s>", tc.rcpt)
			if code != tc.code || !strings.HasPrefix(msg, tc.enhanced) {
				t.Fatalf("RCPT TO:<%s>: %d %s; want %d %s", tc.rcpt, code, msg, tc.code, tc.enhanced)
			}
		})
	}
}

// TestMXUnknownRecipientNeedsReadBarrier: before an unknown recipient
// gets 550 the node catches up with the leader (ReadBarrier); while it
// cannot (just restarted, leader unreachable) the recipient gets 451, as a
// 550 would bounce mail for a user it has not applied yet; known
// recipients and relay refusals never wait for it.
func TestMXUnknownRecipientNeedsReadBarrier(t *testing.T) {
	c := sharedCluster(t)
	var barrierFails atomic.Bool
	var barriers atomic.Int32
	_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) {
		cfg.ReadBarrier = func(ctx context.Context) error {
			barriers.Add(1)
			if barrierFails.Load() {
				return errors.New("no leader")
			}
			return c.Nodes[0].Node.ReadBarrier(ctx)
		}
	})
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	for _, tc := range []struct {
		fails    bool
		rcpt     string
		code     int
		enhanced string
		barriers int32
	}{
		{true, "nobody@" + domain, 451, "4.3.0", 1},
		{true, alice, 250, "2.0.0", 0},
		{true, "victim@remote.test", 550, "5.7.1", 0},
		{false, "nobody@" + domain, 550, "5.1.1", 1},
	} {
		barrierFails.Store(tc.fails)
		before := barriers.Load()
		if code, msg := cl.cmd("RCPT TO:<%s>", tc.rcpt); code != tc.code || !strings.HasPrefix(msg, tc.enhanced) {
			t.Errorf("barrier fails %v, RCPT TO:<%s>: %d %s; want %d %s", tc.fails, tc.rcpt, code, msg, tc.code, tc.enhanced)
		}
		if got := barriers.Load() - before; got != tc.barriers {
			t.Errorf("RCPT TO:<%s>: %d read barriers, want %d", tc.rcpt, got, tc.barriers)
		}
	}
}

// TestMXRefusesAuth: the MX listener has no AUTH, before or after TLS.
func TestMXRefusesAuth(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], MX, nil)
	cl := dial(t, addr)
	kw := cl.ehlo()
	if !hasKeyword(kw, "STARTTLS") || hasKeyword(kw, "AUTH") {
		t.Fatalf("EHLO before TLS: %q: want STARTTLS, no AUTH", kw)
	}
	cl.starttls()
	if kw := cl.ehlo(); hasKeyword(kw, "AUTH") || hasKeyword(kw, "STARTTLS") {
		t.Fatalf("EHLO after TLS: %q", kw)
	}
	if code, msg := cl.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABjb3JyZWN0"); code < 500 {
		t.Fatalf("AUTH on MX: %d %s", code, msg)
	}
}

// TestMXWithoutTLS: STARTTLS is offered, not required, on MX (RFC 3207
// §4: publicly referenced servers must not require it).
func TestMXWithoutTLS(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.ehlo()
	cl.must(250, "MAIL FROM:<>") // null reverse-path (RFC 5321 §4.5.5)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(message("cleartext")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !bytes.Contains(got[len(got)-1], []byte("with ESMTP id")) ||
		!bytes.HasPrefix(got[len(got)-1], []byte("Return-Path: <>\r\n")) {
		t.Fatalf("stored: %q", got[len(got)-1][:200])
	}
}

// TestLargeMessageIsChunked: a body over one chunk is stored in several
// proposals and read back whole.
func TestLargeMessageIsChunked(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	var body bytes.Buffer
	body.Write(message("large"))
	line := strings.Repeat("0123456789", 7) + "\r\n"
	for body.Len() < 700<<10 {
		body.WriteString(line)
	}
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s> SIZE=%d", sender, body.Len())
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(body.Bytes()); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if !bytes.HasSuffix(got[len(got)-1], body.Bytes()) {
		t.Fatal("large message not stored whole")
	}
}

// TestDotStuffing: RFC 5321 §4.5.2: a leading dot is removed by the server.
func TestDotStuffing(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	sent := append(message("dots"), "..leading dot\r\n...two\r\n"...)
	if code, msg := cl.data(sent); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if !bytes.HasSuffix(got[len(got)-1], []byte("\r\n.leading dot\r\n..two\r\n")) {
		t.Fatalf("dot-stuffing not undone: %q", got[len(got)-1])
	}
}

// TestPipeliningAndUTF8: RFC 2920: commands sent in one batch get their
// replies in order; RFC 6531: an SMTPUTF8 transaction with a UTF-8 sender
// is accepted and traced as UTF8SMTPS.
func TestPipeliningAndUTF8(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	cl.conn.Write([]byte("MAIL FROM:<jürgen@bücher.test> SMTPUTF8\r\nRCPT TO:<" + bob + ">\r\nRCPT TO:<nobody@" + domain + ">\r\nDATA\r\n"))
	for _, want := range []int{250, 250, 550, 354} {
		if code, msg := cl.read(); code != want {
			t.Fatalf("pipelined reply: %d %s, want %d", code, msg, want)
		}
	}
	cl.conn.Write(append([]byte("Subject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\r\n\r\nGrüße\r\n"), ".\r\n"...))
	if code, msg := cl.read(); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !bytes.HasPrefix(got[len(got)-1], []byte("Return-Path: <jürgen@bücher.test>\r\n")) ||
		!bytes.Contains(got[len(got)-1], []byte(" with UTF8SMTPS ")) {
		t.Fatalf("stored: %q", got[len(got)-1])
	}
}
