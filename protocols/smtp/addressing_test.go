package smtp

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// addressingDir is a Directory with the domain settings of Addressing
// (the store gets them with H-state's DomainSettingsChanged apply).
type addressingDir struct {
	Directory
	catchAll    map[string]string // domain → user
	plusFolders map[string]bool
}

func (d *addressingDir) DomainAddressing(domain string) (string, bool, error) {
	return d.catchAll[domain], d.plusFolders[domain], nil
}

// fakeSRS rewrites as SRS0=HASH=TT=domain=local@srsDomain, with a fixed
// hash "good"; Reverse refuses any other.
type fakeSRS struct{ domain string }

func (f fakeSRS) Forward(sender string) (string, error) {
	if sender == "" {
		return "", nil
	}
	at := strings.LastIndexByte(sender, '@')
	return "SRS0=good=TT=" + sender[at+1:] + "=" + sender[:at] + "@" + f.domain, nil
}

func (f fakeSRS) Reverse(addr string) (string, error) {
	local, _, _ := strings.Cut(addr, "@")
	parts := strings.SplitN(local, "=", 5)
	if len(parts) != 5 || !strings.EqualFold(parts[0], "SRS0") {
		return "", errors.New("not an SRS0 address")
	}
	if !strings.EqualFold(parts[1], "good") {
		return "", errors.New("hash does not verify")
	}
	return parts[4] + "@" + parts[3], nil
}

// TestPlusAddressing: user+tag@domain reaches user when user+tag is not
// an address of its own; an address with a + that exists wins; an
// unknown user's +tag is still unknown.
func TestPlusAddressing(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := uniqueAddress("tagged")
	c.createUser(t, user, "pw")
	local, dom, _ := strings.Cut(user, "@")
	exact := local + "+exact@" + dom
	c.createUser(t, exact, "pw")
	check := &recordingCheck{}
	_, addr := c.serve(t, n, MX, withCheck(check, nil))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s+News@%s>", local, dom)
	cl.must(250, "RCPT TO:<%s>", exact)
	cl.must(550, "RCPT TO:<nobody+tag@%s>", dom)
	if code, text := cl.data(message("plus addressed")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got := inbox(t, n, user); len(got) != 1 || !bytes.Contains(got[0], []byte("plus addressed")) {
		t.Fatal("user+News did not reach user")
	}
	if got := inbox(t, n, exact); len(got) != 1 {
		t.Fatal("the address with a + of its own did not get it")
	}
	check.mu.Lock()
	defer check.mu.Unlock()
	env := check.envs[0]
	if !slices.Equal(env.Local, []string{user, exact}) || env.RcptTo[user] != local+"+news@"+dom || env.RcptTo[exact] != "" {
		t.Fatalf("envelope Local %v RcptTo %v", env.Local, env.RcptTo)
	}
}

// TestCatchAll: with the domain's catch-all, an unknown local part reaches
// its user (an alias target resolved); a known one, a +tag of a known one
// and other domains are unaffected.
func TestCatchAll(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	catcher := uniqueAddress("catcher")
	c.createUser(t, catcher, "pw")
	check := &recordingCheck{}
	dir := &addressingDir{Directory: n.Store, catchAll: map[string]string{domain: catcher}}
	_, addr := c.serve(t, n, MX, withCheck(check, func(cfg *Config) { cfg.Directory = dir }))
	bobBefore := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<whoever@%s>", domain)
	cl.must(250, "RCPT TO:<bob+x@%s>", domain)
	cl.must(550, "RCPT TO:<whoever@fresh.test>")
	if code, text := cl.data(message("caught")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if got := inbox(t, n, catcher); len(got) != 1 || !bytes.Contains(got[0], []byte("Subject: caught")) {
		t.Fatal("the catch-all did not get it")
	}
	if got := inbox(t, n, bob); len(got) != bobBefore+1 {
		t.Fatal("bob+x went elsewhere")
	}
	check.mu.Lock()
	defer check.mu.Unlock()
	if env := check.envs[0]; env.RcptTo[catcher] != "whoever@"+domain {
		t.Fatalf("RcptTo %v", env.RcptTo)
	}

	// A catch-all naming nobody: unknown recipients stay unknown.
	dir.catchAll[domain] = "gone@" + domain
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(550, "RCPT TO:<whoever@%s>", domain)
}

// TestSRSBounce: a bounce to one of our SRS addresses is accepted on the
// MX port and queued for the original sender with the bounce's null
// sender; a forged one is 550 5.1.1; without SRS configured it is an
// unknown recipient.
func TestSRSBounce(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	relay := &captureRelay{}
	tweak := func(cfg *Config) { cfg.Relay = relay; cfg.SRS = fakeSRS{domain: domain} }
	_, addr := c.serve(t, n, MX, tweak)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<>")
	cl.must(250, "RCPT TO:<SRS0=good=TT=remote.test=orig@%s>", domain)
	cl.must(550, "RCPT TO:<SRS0=forged=TT=remote.test=orig@%s>", domain)
	if code, text := cl.data([]byte("From: MAILER-DAEMON@remote.test\r\nSubject: Undelivered Mail\r\n\r\nbounce\r\n")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	got := slices.Clone(relay.got)
	relay.mu.Unlock()
	if len(got) != 1 || got[0].From != "" || !slices.Equal(got[0].Recipients, []string{"orig@remote.test"}) {
		t.Fatalf("relayed %+v", got)
	}
	queued, err := n.Store.QueueEntries(0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(queued, func(q *evlog.QueueRecord) bool { return bytes.Equal(q.GetBlob(), got[0].Blob) }) {
		t.Fatal("the bounce is not in the queue")
	}

	// An SRS address to a local original is delivered locally.
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<>")
	bobBefore := len(inbox(t, n, bob))
	cl.must(250, "RCPT TO:<SRS0=good=TT=%s=bob@%s>", domain, domain)
	if code, text := cl.data([]byte("Subject: local bounce\r\n\r\nbounce\r\n")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	if len(inbox(t, n, bob)) != bobBefore+1 {
		t.Fatal("the local original did not get its bounce")
	}

	// Without SRS, such an address is no one's.
	_, plain := c.serve(t, n, MX, func(cfg *Config) { cfg.Relay = relay })
	cl = dial(t, plain)
	cl.hello()
	cl.must(250, "MAIL FROM:<>")
	cl.must(550, "RCPT TO:<SRS0=good=TT=remote.test=orig@%s>", domain)
}

// TestAddressingSettingsReplicated: a domain's catch-all and plus folders,
// set through the log (DomainSettingsChanged), hold on a follower with
// the store's own DomainAddressing.
func TestAddressingSettingsReplicated(t *testing.T) {
	c := startCluster(t, 3)
	const dom = "catchall.test"
	catcher := "catcher@" + dom
	c.mustSubmit(t, ev(&evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: dom}}))
	c.createUser(t, catcher, "pw")
	on := true
	c.mustSubmit(t, &evlog.Event{Kind: &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: &evlog.DomainSettingsChanged{
		Domain: dom, CatchAll: &catcher, PlusFolders: &on, ChangedUnix: 1}}})
	c.WaitConverged(t, 30*time.Second)
	follower := c.Follower(t)
	if _, ok := any(follower.Store).(Addressing); !ok {
		t.Fatal("the store does not implement Addressing")
	}
	_, addr := c.serve(t, follower, MX, nil)
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<anyone@%s>", dom)
	if code, text := cl.data(message("caught on a follower")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<catcher+Archive@%s>", dom)
	if code, text := cl.data(message("plus folder on a follower")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	c.WaitConverged(t, 30*time.Second)
	for _, n := range c.Nodes {
		if got := inbox(t, n, catcher); len(got) != 1 || !bytes.Contains(got[0], []byte("caught on a follower")) {
			t.Fatalf("node %s: the catch-all's INBOX holds %d", n.ID, len(got))
		}
		if got, _ := lastIn(t, n, catcher, "Archive"); !bytes.Contains(got, []byte("plus folder on a follower")) {
			t.Fatalf("node %s: not in Archive", n.ID)
		}
	}
}
