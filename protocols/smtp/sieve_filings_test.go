package smtp

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/log/logtest"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// sendVia sends msg from sender to rcpts through an MX listener on the
// shared cluster's node with check as its one check; it returns the reply
// to the end of DATA.
func sendVia(t *testing.T, c *testCluster, tweak func(*Config), rcpts []string, msg []byte) (int, string) {
	t.Helper()
	_, addr := c.serve(t, c.Nodes[0], MX, tweak)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	for _, r := range rcpts {
		cl.must(250, "RCPT TO:<%s>", r)
	}
	return cl.data(msg)
}

func withCheck(check pipeline.Check, more func(*Config)) func(*Config) {
	return func(cfg *Config) {
		cfg.Checks = []pipeline.Check{check}
		if more != nil {
			more(cfg)
		}
	}
}

// lastIn is the last message of user's mailbox name.
func lastIn(t *testing.T, n *testNode, user, name string) (body []byte, flags []string) {
	t.Helper()
	ms := n.Mailbox(t, user, name)
	if len(ms) == 0 {
		t.Fatalf("%s of %s is empty", name, user)
	}
	return ms[len(ms)-1].Body, ms[len(ms)-1].Flags
}

// TestSieveFilings: a script's fileinto a mailbox that does not exist,
// keep with a flag, fileinto an existing mailbox and fileinto :create of a
// new one are four copies for one user in one Delivered; another
// recipient is untouched; the log has a line per copy with the mailbox it
// went to (INBOX for the missing one, as apply reports).
func TestSieveFilings(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("sorted")
	c.createUser(t, user, "pw")
	folder := fmt.Sprintf("Lists/Go%d", time.Now().UnixNano())
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		user: {Filings: []pipeline.Filing{
			{Mailbox: "Nowhere"},
			{Flags: []string{`\Flagged`}},
			{Mailbox: "Archive", Flags: []string{"$Sorted"}},
			{Mailbox: folder, Create: true},
		}},
	}}}
	rec := &deliveryRecorder{real: n.Node}
	var logs logtest.Sink
	aliceBefore := len(inbox(t, n, alice))
	code, text := sendVia(t, c, withCheck(check, func(cfg *Config) { cfg.Proposer = rec; cfg.Logger = logs.Logger() }),
		[]string{user, alice}, message("filed four times"))
	if code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if blobs, copies, delivered := rec.kinds(); blobs != 1 || copies != 0 || delivered != 1 {
		t.Fatalf("proposal: %d bodies (%d copies), %d Delivered; want 1 (0), 1", blobs, copies, delivered)
	}
	if b, flags := lastIn(t, n, user, "INBOX"); !bytes.Contains(b, []byte("Subject: filed four times")) || !slices.Equal(flags, []string{`\Flagged`}) {
		t.Fatalf("INBOX copy flags %v", flags)
	}
	if _, flags := lastIn(t, n, user, "Archive"); !slices.Equal(flags, []string{"$Sorted"}) {
		t.Fatalf("Archive copy flags %v", flags)
	}
	lastIn(t, n, user, folder)
	if got := len(inbox(t, n, alice)); got != aliceBefore+1 {
		t.Fatalf("alice has %d new messages", got-aliceBefore)
	}
	lines, err := logs.Lines("smtp delivered")
	if err != nil {
		t.Fatal(err)
	}
	var mailboxes []string
	for _, l := range lines {
		if l["user"] == user {
			mailboxes = append(mailboxes, fmt.Sprint(l["mailbox"]))
		}
	}
	if !slices.Equal(mailboxes, []string{"INBOX", "INBOX", "Archive", folder}) {
		t.Fatalf("delivery lines name %v", mailboxes)
	}
}

// TestSieveDiscard: one recipient discards, the other keeps: one copy.
// When every recipient discards, the message is still 250, nothing is
// stored and the checks' events are committed.
func TestSieveDiscard(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("discarding")
	c.createUser(t, user, "pw")
	aliceBefore := len(inbox(t, n, alice))
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{user: {Discard: true}}}}
	if code, text := sendVia(t, c, withCheck(check, nil), []string{user, alice}, message("half discarded")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if len(inbox(t, n, user)) != 0 || len(inbox(t, n, alice)) != aliceBefore+1 {
		t.Fatal("discard: the discarding user got a copy, or alice none")
	}

	record := uniqueAddress("discard-record")
	check = &recordingCheck{outcome: pipeline.Outcome{
		Events:     []*evlog.Event{ev(&evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: record, Target: alice}})},
		Recipients: map[string]pipeline.RecipientOutcome{user: {Discard: true}, alice: {Filings: []pipeline.Filing{}}},
	}}
	var logs logtest.Sink
	if code, text := sendVia(t, c, withCheck(check, func(cfg *Config) { cfg.Logger = logs.Logger() }), []string{user, alice}, message("all discarded")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if len(inbox(t, n, user)) != 0 || len(inbox(t, n, alice)) != aliceBefore+1 {
		t.Fatal("a message every recipient discarded was stored")
	}
	if u, err := n.Store.ResolveAddress(record); err != nil || u != alice {
		t.Fatalf("the discarded message's events were not committed: %q %v", u, err)
	}
	if lines, _ := logs.Lines("smtp discarded by every recipient's filter; nothing stored"); len(lines) != 1 {
		t.Fatalf("%d discard lines", len(lines))
	}
}

// TestSieveHeaderBlock: a recipient whose header block a check replaced
// (editheader) gets a copy with that block in place of the message's,
// under our Return-Path and Received; the other keeps the original; the
// body is the same.
func TestSieveHeaderBlock(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("edited")
	c.createUser(t, user, "pw")
	edited := []byte("X-Edited: yes\r\nSubject: [tagged] new subject\r\n\r\n")
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{user: {Header: edited}}}}
	rec := &deliveryRecorder{real: n.Node}
	msg := message("original subject")
	if code, text := sendVia(t, c, withCheck(check, func(cfg *Config) { cfg.Proposer = rec }), []string{alice, user}, msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if blobs, copies, delivered := rec.kinds(); blobs != 2 || copies != 1 || delivered != 2 {
		t.Fatalf("proposal: %d bodies (%d copies), %d Delivered; want 2 (1), 2", blobs, copies, delivered)
	}
	got, _ := lastIn(t, n, user, "INBOX")
	head, body, _ := bytes.Cut(got, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(got, []byte("Return-Path: <"+sender+">\r\n")) || !bytes.Contains(head, []byte("\r\nReceived: ")) ||
		!bytes.HasSuffix(got, append(edited, "Hello.\r\n"...)) || bytes.Contains(got, []byte("original subject")) || string(body) != "Hello.\r\n" {
		t.Fatalf("edited copy:\n%s", got)
	}
	if a := inbox(t, n, alice); !bytes.HasSuffix(a[len(a)-1], msg) {
		t.Fatalf("alice's copy:\n%s", a[len(a)-1])
	}
	// A block that is not one (no empty line) is ignored, not stored.
	check.outcome.Recipients[user] = pipeline.RecipientOutcome{Header: []byte("X-Broken: yes\r\n")}
	if code, text := sendVia(t, c, withCheck(check, nil), []string{user}, message("broken block")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got, _ := lastIn(t, n, user, "INBOX"); bytes.Contains(got, []byte("X-Broken")) || !bytes.Contains(got, []byte("Subject: broken block")) {
		t.Fatalf("broken block stored:\n%s", got)
	}
}

// TestSieveOnAStreamedMessage: filings and a replaced header block on a
// message streamed in several chunks, through a follower of three nodes:
// every node holds the same copies.
func TestSieveOnAStreamedMessage(t *testing.T) {
	c := startCluster(t, 3)
	carol := uniqueAddress("carol")
	c.createUser(t, carol, "carol's password")
	c.WaitConverged(t, 30*time.Second)
	edited := []byte("Subject: edited\r\n\r\n")
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		carol: {Header: edited, Filings: []pipeline.Filing{{}, {Mailbox: "Big", Create: true, Flags: []string{`\Seen`}}}},
		bob:   {Discard: true},
	}}}
	follower := c.Follower(t)
	_, addr := c.serve(t, follower, MX, func(cfg *Config) {
		cfg.Checks = []pipeline.Check{check}
		cfg.ProposeTimeout = time.Minute
	})
	msg := largeMessage("streamed sieve", evlog.ChunkSize+100<<10)
	_, restOfMsg, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	for _, r := range []string{alice, bob, carol} {
		cl.must(250, "RCPT TO:<%s>", r)
	}
	if code, text := cl.data(msg); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	c.WaitConverged(t, 30*time.Second)
	for _, n := range c.Nodes {
		a := inbox(t, n, alice)
		if len(a) == 0 || !bytes.HasSuffix(a[len(a)-1], msg) {
			t.Fatalf("node %s: alice's copy", n.ID)
		}
		if len(inbox(t, n, bob)) != 0 && bytes.Contains(inbox(t, n, bob)[len(inbox(t, n, bob))-1], []byte("streamed sieve")) {
			t.Fatalf("node %s: bob discarded it but has it", n.ID)
		}
		want := append(append([]byte(nil), edited...), restOfMsg...)
		for _, mb := range []string{"INBOX", "Big"} {
			got, flags := lastIn(t, n, carol, mb)
			if !bytes.HasSuffix(got, want) || bytes.Contains(got, []byte("Subject: streamed sieve")) {
				t.Fatalf("node %s: carol's %s copy starts %q", n.ID, mb, got[:min(300, len(got))])
			}
			if mb == "Big" && !slices.Equal(flags, []string{`\Seen`}) {
				t.Fatalf("node %s: Big copy flags %v", n.ID, flags)
			}
		}
	}
}

// TestPlusFolders: user+tag reaches user; with the domain's plus folders
// the copy goes to the mailbox tag when nothing else files it (INBOX when
// there is no such mailbox); the check sees the address as given.
func TestPlusFolders(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("plus")
	c.createUser(t, user, "pw")
	local, dom, _ := strings.Cut(user, "@")
	check := &recordingCheck{}
	dir := &addressingDir{Directory: n.Store, plusFolders: map[string]bool{domain: true}}
	tweak := withCheck(check, func(cfg *Config) { cfg.Directory = dir })
	if code, text := sendVia(t, c, tweak, []string{local + "+Archive@" + dom}, message("to archive")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got, _ := lastIn(t, n, user, "Archive"); !bytes.Contains(got, []byte("Subject: to archive")) {
		t.Fatal("plus folder: not in Archive")
	}
	check.mu.Lock()
	env := check.envs[len(check.envs)-1]
	check.mu.Unlock()
	if !slices.Equal(env.Local, []string{user}) || env.RcptTo[user] != local+"+archive@"+dom && env.RcptTo[user] != local+"+Archive@"+dom {
		t.Fatalf("envelope Local %v RcptTo %v", env.Local, env.RcptTo)
	}
	if code, text := sendVia(t, c, tweak, []string{local + "+nosuchfolder@" + dom}, message("to nowhere")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got, _ := lastIn(t, n, user, "INBOX"); !bytes.Contains(got, []byte("Subject: to nowhere")) {
		t.Fatal("plus folder without a mailbox: not in INBOX")
	}
	// A script's keep goes there too; its fileinto where it says.
	check.outcome.Recipients = map[string]pipeline.RecipientOutcome{user: {Filings: []pipeline.Filing{{Flags: []string{`\Seen`}}, {Mailbox: "INBOX"}}}}
	archived := len(n.Mailbox(t, user, "Archive"))
	if code, text := sendVia(t, c, tweak, []string{local + "+Archive@" + dom}, message("kept in archive")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got, flags := lastIn(t, n, user, "Archive"); !bytes.Contains(got, []byte("Subject: kept in archive")) || !slices.Equal(flags, []string{`\Seen`}) || len(n.Mailbox(t, user, "Archive")) != archived+1 {
		t.Fatal("plus folder with a keep: not in Archive")
	}
	if got, _ := lastIn(t, n, user, "INBOX"); !bytes.Contains(got, []byte("Subject: kept in archive")) {
		t.Fatal("plus folder with fileinto INBOX: not in INBOX")
	}
	check.outcome.Recipients = nil
	// Without the setting, the tag files nothing.
	dir.plusFolders = nil
	if code, text := sendVia(t, c, tweak, []string{local + "+Archive@" + dom}, message("plain plus")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got, _ := lastIn(t, n, user, "INBOX"); !bytes.Contains(got, []byte("Subject: plain plus")) {
		t.Fatal("plus without folders: not in INBOX")
	}
}
