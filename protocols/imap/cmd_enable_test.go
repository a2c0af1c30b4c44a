package imap

import "testing"

func TestCmdEnableUnauthenticate(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "enable", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, user, `
		C: a ENABLE IMAP4rev2 XUNKNOWN utf8=accept
		S: * ENABLED IMAP4rev2 UTF8=ACCEPT
		S: a OK
		C: b ENABLE
		S: b BAD
		C: c SELECT INBOX
		S: ...
		S: c OK [READ-WRITE]
		C: d UNAUTHENTICATE
		S: d OK
		C: e SELECT INBOX
		S: e BAD
		C: f LOGIN `+user+` "`+password+`"
		S: f OK [CAPABILITY
		C: g ENABLE IMAP4rev2
		S: * ENABLED IMAP4rev2
		S: g OK`)
}
