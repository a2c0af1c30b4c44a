package imap

import (
	"encoding/json"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/log/logtest"
)

// APPEND, COPY, MOVE and EXPUNGE log the mailbox by name with the UIDs,
// under the keys every node's apply uses (docs/DESIGN.md, "Log keys").
func TestWriteLogsNameMailboxAndUID(t *testing.T) {
	c := sharedCluster(t)
	logs := &logtest.Sink{}
	_, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.Logger = logs.Logger() })
	user := c.NewUser(t, "logkeys", password)
	cl, _ := dial(t, addr, user)
	if err := cl.Create("Kept", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Create("Moved", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	ad := appendMsg(t, cl, "inbox", msg("followed", "by grep"))
	mustSelect(t, cl, "INBOX")
	cd, err := cl.Copy(imap.UIDSetNum(ad.UID), "Kept").Wait()
	if err != nil {
		t.Fatal(err)
	}
	md, err := cl.Move(imap.UIDSetNum(ad.UID), "Moved").Wait()
	if err != nil {
		t.Fatal(err)
	}
	num := func(v uint32) any { return float64(v) }
	check := func(msg string, want map[string]any) {
		t.Helper()
		lines, err := logs.Lines(msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != 1 {
			t.Fatalf("%d %q lines, want 1", len(lines), msg)
		}
		for k, v := range want {
			got := lines[0][k]
			if g, ok := got.(map[string]any); ok {
				w, _ := json.Marshal(v)
				b, _ := json.Marshal(g)
				if string(w) != string(b) {
					t.Errorf("%q: %s = %s, want %s", msg, k, b, w)
				}
				continue
			}
			if got != v {
				t.Errorf("%q: %s = %v (%T), want %v (%T)", msg, k, got, got, v, v)
			}
		}
	}
	check("imap append", map[string]any{"user": user, "mailbox": "INBOX", "uid": num(uint32(ad.UID))})
	dst, _ := cd.DestUIDs.Nums()
	check("imap copy", map[string]any{"user": user, "mailbox": "INBOX", "uid": num(uint32(ad.UID)),
		"to": map[string]any{"mailbox": "Kept", "uid": num(uint32(dst[0]))}})
	moved, _ := md.DestUIDs.(imap.UIDSet).Nums()
	check("imap move", map[string]any{"user": user, "mailbox": "INBOX", "uid": num(uint32(ad.UID)),
		"to": map[string]any{"mailbox": "Moved", "uid": num(uint32(moved[0]))}})
}
