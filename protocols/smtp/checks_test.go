package smtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// recordingCheck is a pipeline.Check whose outcome the test chooses; it
// records what its runs were fed.
type recordingCheck struct {
	outcome pipeline.Outcome
	err     error                     // from Finish
	filter  func(io.Reader) io.Reader // nil: none
	mu      sync.Mutex
	envs    []pipeline.Envelope
	fed     [][]byte
	aborted int
}

func (c *recordingCheck) Name() string { return "recording" }

func (c *recordingCheck) Start(_ context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.envs = append(c.envs, env)
	if c.filter != nil {
		return &filteringRun{recordingRun{c: c}}, nil
	}
	return &recordingRun{c: c}, nil
}

type recordingRun struct {
	c   *recordingCheck
	buf bytes.Buffer
}

func (r *recordingRun) Write(p []byte) (int, error) { return r.buf.Write(p) }

func (r *recordingRun) Finish(context.Context) (pipeline.Outcome, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.fed = append(r.c.fed, r.buf.Bytes())
	return r.c.outcome, r.c.err
}

func (r *recordingRun) Abort() {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.aborted++
}

type filteringRun struct{ recordingRun }

func (r *filteringRun) Filter(in io.Reader) io.Reader { return r.c.filter(in) }

// TestChecksPrependFields: a check's fields are stored on top of the
// message, after Return-Path and before our Received, and the check was
// fed the message exactly as the client sent it, with the envelope.
func TestChecksPrependFields(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	check := &recordingCheck{outcome: pipeline.Outcome{Prepend: []byte("Authentication-Results: mx.example.test; spf=pass\r\n")}}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Checks = []pipeline.Check{check} })
	before := len(inbox(t, n, alice))
	msg := message("checked")
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	if code, text := cl.data(msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	got := inbox(t, n, alice)
	if len(got) != before+1 {
		t.Fatalf("%d messages, want %d", len(got), before+1)
	}
	stored := string(got[len(got)-1])
	rp, ar, rcv := strings.Index(stored, "Return-Path:"), strings.Index(stored, "Authentication-Results: mx.example.test; spf=pass\r\n"), strings.Index(stored, "Received:")
	if rp != 0 || ar < 0 || rcv < ar || !strings.HasSuffix(stored, string(msg)) {
		t.Fatalf("stored message does not read Return-Path, the check's field, Received, message:\n%s", stored)
	}
	check.mu.Lock()
	defer check.mu.Unlock()
	if len(check.fed) != 1 || !bytes.Equal(check.fed[0], msg) {
		t.Fatalf("check was fed %q, want the message as sent", check.fed)
	}
	env := check.envs[0]
	if env.From != sender || len(env.Local) != 1 || env.Local[0] != alice || env.Submission || env.Helo == "" || env.RemoteIP == "" {
		t.Fatalf("envelope %+v", env)
	}
}

// TestChecksJunkRefuseAndFail: Junk files the copy in the recipient's
// \Junk mailbox; a refusal is the check's own reply and stores nothing; a
// check that fails gives 451 and stores nothing.
func TestChecksJunkRefuseAndFail(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	send := func(check *recordingCheck, subject string) (int, string) {
		_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Checks = []pipeline.Check{check} })
		cl := dial(t, addr)
		cl.hello()
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", alice)
		return cl.data(message(subject))
	}
	inboxBefore, junkBefore := len(inbox(t, n, alice)), len(n.Mailbox(t, alice, "Junk"))
	if code, text := send(&recordingCheck{outcome: pipeline.Outcome{Action: pipeline.Junk}}, "to junk"); code != 250 {
		t.Fatalf("junk: %d %s", code, text)
	}
	junk := n.Mailbox(t, alice, "Junk")
	if len(junk) != junkBefore+1 || !bytes.Contains(junk[len(junk)-1].Body, []byte("Subject: to junk")) {
		t.Fatalf("Junk holds %d messages, want %d", len(junk), junkBefore+1)
	}
	refusal := &pipeline.Reply{Code: 550, Enhanced: [3]int{5, 7, 1}, Text: "DMARC policy of example.org says reject"}
	// The refusal's own events (a DMARC record, say) are kept; here an
	// alias stands for them because it is easy to look up.
	record := ev(&evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: "refused-record@" + domain, Target: alice}})
	if code, text := send(&recordingCheck{outcome: pipeline.Outcome{Action: pipeline.Refuse, Reply: refusal, Events: []*evlog.Event{record}}}, "refused"); code != 550 || !strings.Contains(text, "5.7.1 DMARC policy") {
		t.Fatalf("refusal: %d %s", code, text)
	}
	if u, err := n.Store.ResolveAddress("refused-record@" + domain); err != nil || u != alice {
		t.Fatalf("a refused message's events were not proposed: %q %v", u, err)
	}
	if code, text := send(&recordingCheck{err: errors.New("resolver timed out")}, "unchecked"); code != 451 || !strings.HasPrefix(text, "4.7.0") {
		t.Fatalf("failing check: %d %s", code, text)
	}
	if got := len(inbox(t, n, alice)); got != inboxBefore {
		t.Fatalf("INBOX went from %d to %d messages: a refused message was stored", inboxBefore, got)
	}
}

// TestChecksFilterWhatIsStored: a check's Filter changes what is stored,
// while every check is still fed the message as sent.
func TestChecksFilterWhatIsStored(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	drop := func(r io.Reader) io.Reader {
		b, _ := io.ReadAll(r)
		return bytes.NewReader(bytes.Replace(b, []byte("X-Forged: yes\r\n"), nil, 1))
	}
	filtering := &recordingCheck{filter: drop}
	watching := &recordingCheck{}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Checks = []pipeline.Check{filtering, watching} })
	msg := append([]byte("X-Forged: yes\r\n"), message("filtered")...)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	if code, text := cl.data(msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	got := inbox(t, n, alice)
	if stored := got[len(got)-1]; bytes.Contains(stored, []byte("X-Forged")) || !bytes.Contains(stored, []byte("Subject: filtered")) {
		t.Fatalf("stored:\n%s", stored)
	}
	watching.mu.Lock()
	defer watching.mu.Unlock()
	if !bytes.Equal(watching.fed[0], msg) {
		t.Fatalf("second check was fed %q, want the message as sent", watching.fed[0])
	}
}

// TestChecksOnAStreamedMessage: a message larger than a chunk streams into
// the log before the checks finish; their fields still end up on top of
// it, and the stored body is the whole message.
func TestChecksOnAStreamedMessage(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	field := "Authentication-Results: mx.example.test; dkim=pass\r\n"
	check := &recordingCheck{outcome: pipeline.Outcome{Prepend: []byte(field)}}
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Checks = []pipeline.Check{check} })
	msg := message("streamed")
	msg = append(msg, bytes.Repeat([]byte(strings.Repeat("z", 78)+"\r\n"), (1<<20)/80)...)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	if code, text := cl.data(msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	got := inbox(t, n, alice)
	stored := got[len(got)-1]
	if !bytes.HasPrefix(stored, []byte("Return-Path: <"+sender+">\r\n"+field)) || !bytes.HasSuffix(stored, msg) {
		t.Fatalf("stored %d bytes (message %d) starting %q", len(stored), len(msg), stored[:min(200, len(stored))])
	}
}
