package imap

import "testing"

func TestCmdMailboxes(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "mboxcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, user, `
		C: a CREATE Projects/2026/
		S: a OK
		C: b CREATE "Later" (USE (\Flagged))
		S: b OK
		C: c CREATE x (USE (\Flagged \Junk))
		S: c NO [USEATTR]
		C: d CREATE y (FOO)
		S: d BAD
		C: e RENAME Projects Work
		S: e OK
		C: f LIST "" Work*
		S: * LIST (\HasChildren) "/" Work
		S: * LIST (\HasNoChildren) "/" Work/2026
		S: f OK
		C: g SUBSCRIBE Work
		S: g OK
		C: h LSUB "" W*
		S: * LSUB () "/" Work
		S: h OK
		C: i UNSUBSCRIBE Work
		S: i OK
		C: i2 SUBSCRIBE Work/2026
		S: i2 OK
		C: i3 LSUB "" W%
		S: * LSUB (\Noselect) "/" Work
		S: i3 OK
		C: i4 LSUB "" W*
		S: * LSUB () "/" Work/2026
		S: i4 OK
		C: j DELETE Work/2026
		S: j OK
		C: k DELETE Nope
		S: k NO [NONEXISTENT]
		C: l NAMESPACE
		S: * NAMESPACE (("" "/")) (("Other Users/" "/")) NIL
		S: l OK
		C: m CREATE "Caf&AOk-"
		S: m OK
		C: n LIST "" Caf*
		S: * LIST (\HasNoChildren) "/" Caf&AOk-
		S: n OK
		C: o ENABLE UTF8=ACCEPT
		S: * ENABLED
		S: o OK
		C: p LIST "" Caf*
		S: * LIST (\HasNoChildren) "/" "Café"
		S: p OK`)
}
