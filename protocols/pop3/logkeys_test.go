package pop3

import (
	"strings"
	"testing"

	"github.com/surat-mail/surat/log/logtest"
)

// A session's lines name the mailbox (INBOX) by name, its id under
// mailbox_id, and the UIDs an UPDATE deleted (docs/DESIGN.md, "Log keys").
func TestLogKeys(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "logkeys", password)
	c.Deliver(t, user, message("one"), message("two"))
	uids, _ := inbox(t, n, user)
	mb, err := n.Store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Sink{}
	_, addr := c.serve(t, n, func(cfg *Config) { cfg.Logger = logs.Logger() })
	cl := login(t, addr, user)
	cl.must("DELE 2")
	cl.must("QUIT")

	waitFor(t, "the update line", func() bool { return strings.Contains(logs.String(), `"pop3 update"`) })
	for msg, want := range map[string]map[string]any{
		"pop3 login":  {"user": user, "mailbox": "INBOX", "mailbox_id": float64(mb.GetId())},
		"pop3 update": {"user": user, "mailbox": "INBOX", "uid": float64(uids[1])},
	} {
		lines, err := logs.Lines(msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 {
			t.Fatalf("%d %q lines in\n%s", len(lines), msg, logs.String())
		}
		got := lines[0]
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: %s = %v (%T), want %v (%T)", msg, k, got[k], got[k], v, v)
			}
		}
	}
}
