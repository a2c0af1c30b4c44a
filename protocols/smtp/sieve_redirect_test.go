package smtp

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/surat-mail/surat/log/logtest"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// queuedBody is the stored body a captured Outbound names.
func queuedBody(t *testing.T, n *testNode, o Outbound) []byte {
	t.Helper()
	b, err := n.Store.Blob(o.Blob)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSieveRedirect: a redirect on the MX port is queued with the sender
// rewritten by SRS and Delivered-To on top; without a keep the user gets
// no copy; a local sender is not rewritten; the null sender stays null.
func TestSieveRedirect(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("forwarding")
	c.createUser(t, user, "pw")
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		user: {Discard: true, Redirects: []string{"Elsewhere@Remote.test", "elsewhere@remote.test", "not an address"}},
	}}}
	relay := &captureRelay{}
	var logs logtest.Sink
	tweak := withCheck(check, func(cfg *Config) {
		cfg.Relay, cfg.SRS, cfg.Logger = relay, fakeSRS{domain: domain}, logs.Logger()
	})
	msg := message("forward me")
	if code, text := sendVia(t, c, tweak, []string{user}, msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	got := slices.Clone(relay.got)
	relay.mu.Unlock()
	if len(got) != 1 || got[0].From != "SRS0=good=TT=remote.test=sender@"+domain ||
		!slices.Equal(got[0].Recipients, []string{"elsewhere@remote.test"}) {
		t.Fatalf("queued %+v", got)
	}
	body := queuedBody(t, n, got[0])
	if !bytes.HasPrefix(body, []byte("Delivered-To: "+user+"\r\n")) || !bytes.Contains(body, []byte("\r\nReceived: ")) || !bytes.HasSuffix(body, msg) {
		t.Fatalf("queued body:\n%s", body)
	}
	if len(inbox(t, n, user)) != 0 {
		t.Fatal("redirect without keep left a copy")
	}
	if lines, _ := logs.Lines("smtp redirected"); len(lines) != 1 || lines[0]["user"] != user {
		t.Fatalf("redirect lines %v", lines)
	}

	// A local sender keeps its address; a keep beside the redirect files a
	// copy too.
	check.outcome.Recipients[user] = pipeline.RecipientOutcome{Filings: []pipeline.Filing{{}}, Redirects: []string{"elsewhere@remote.test"}}
	_, addr := c.serve(t, n, MX, tweak)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", bob)
	cl.must(250, "RCPT TO:<%s>", user)
	if code, text := cl.data(message("from bob")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	last := relay.got[len(relay.got)-1]
	relay.mu.Unlock()
	if last.From != bob || len(inbox(t, n, user)) != 1 {
		t.Fatalf("local sender rewritten to %q, or no kept copy", last.From)
	}
	// The null sender stays null.
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<>")
	cl.must(250, "RCPT TO:<%s>", user)
	if code, text := cl.data(message("a bounce")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	last = relay.got[len(relay.got)-1]
	relay.mu.Unlock()
	if last.From != "" {
		t.Fatalf("null sender forwarded as %q", last.From)
	}
	// A sender SRS cannot rewrite is forwarded as it is.
	_, failing := c.serve(t, n, MX, withCheck(check, func(cfg *Config) { cfg.Relay, cfg.SRS = relay, failingSRS{} }))
	cl = dial(t, failing)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", user)
	if code, text := cl.data(message("not rewritten")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	last = relay.got[len(relay.got)-1]
	relay.mu.Unlock()
	if last.From != sender {
		t.Fatalf("unrewritable sender forwarded as %q", last.From)
	}
}

// failingSRS cannot rewrite anything.
type failingSRS struct{}

func (failingSRS) Forward(string) (string, error) { return "", errors.New("srs: sender too long") }
func (failingSRS) Reverse(string) (string, error) { return "", errors.New("srs: not SRS") }

// TestSieveRedirectLoop: a message that already carries Delivered-To for
// the user, or has come through too many hops, is not redirected again:
// it is kept in INBOX and the line says why; so is one with no relay.
func TestSieveRedirectLoop(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("looping")
	c.createUser(t, user, "pw")
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		user: {Discard: true, Redirects: []string{"elsewhere@remote.test"}},
	}}}
	relay := &captureRelay{}
	var logs logtest.Sink
	tweak := withCheck(check, func(cfg *Config) {
		cfg.Relay, cfg.SRS, cfg.Logger = relay, fakeSRS{domain: domain}, logs.Logger()
	})
	looped := append([]byte("Delivered-To: <"+user+">\r\n"), message("came back")...)
	if code, text := sendVia(t, c, tweak, []string{user}, looped); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	hops := append(bytes.Repeat([]byte("Received: from a by b; Tue, 1 Dec 2026 10:00:00 +0000\r\n"), maxRedirectHops), message("many hops")...)
	if code, text := sendVia(t, c, tweak, []string{user}, hops); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if code, text := sendVia(t, c, withCheck(check, nil), []string{user}, message("no relay")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	queued := len(relay.got)
	relay.mu.Unlock()
	if queued != 0 {
		t.Fatalf("%d redirects queued", queued)
	}
	got := inbox(t, n, user)
	if len(got) != 3 || !bytes.Contains(got[0], []byte("came back")) || !bytes.Contains(got[1], []byte("many hops")) {
		t.Fatalf("INBOX holds %d messages, want the three kept", len(got))
	}
	if lines, _ := logs.Lines("smtp redirect not made; the message is kept in INBOX"); len(lines) != 2 {
		t.Fatalf("%d loop lines", len(lines))
	}
}

// TestSieveRedirectEditedHeader: a redirect carries the recipient's
// replaced header block too.
func TestSieveRedirectEditedHeader(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("editforward")
	c.createUser(t, user, "pw")
	edited := []byte("Subject: [fwd] edited\r\n\r\n")
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		user: {Header: edited, Redirects: []string{"elsewhere@remote.test"}},
	}}}
	relay := &captureRelay{}
	tweak := withCheck(check, func(cfg *Config) { cfg.Relay, cfg.SRS = relay, fakeSRS{domain: domain} })
	if code, text := sendVia(t, c, tweak, []string{user}, message("to edit")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	o := relay.got[0]
	relay.mu.Unlock()
	body := queuedBody(t, n, o)
	if !bytes.HasPrefix(body, []byte("Delivered-To: "+user+"\r\n")) || !bytes.HasSuffix(body, append(edited, "Hello.\r\n"...)) || bytes.Contains(body, []byte("to edit")) {
		t.Fatalf("queued body:\n%s", body)
	}
	if got := inbox(t, n, user); len(got) != 1 || !bytes.HasSuffix(got[0], append(edited, "Hello.\r\n"...)) {
		t.Fatal("the kept copy does not carry the edited block")
	}
}
