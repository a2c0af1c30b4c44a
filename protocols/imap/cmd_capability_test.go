package imap

import "testing"

func TestCmdCapabilityNoopLogout(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "capcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: a CAPABILITY
		S: * CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN
		S: a OK
		C: b NOOP
		S: b OK NOOP completed
		# Only after login.
		C: c SELECT INBOX
		S: c BAD
		C: d LOGOUT
		S: * BYE
		S: d OK`)
	runScript(t, addr, user, `
		C: a CAPABILITY
		S: * CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE UNSELECT
		S: a OK
		C: b CHECK
		S: b BAD
		C: c LOGIN x y
		S: c BAD`)
}

// An unknown command before login ends the session (cross-protocol
// requests); after login it is BAD and the session goes on.
func TestCmdUnknown(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "unknowncmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: GET / HTTP/1.1
		S: GET BAD Unknown command
		S: * BYE`)
	runScript(t, addr, user, `
		C: a XYZZY
		S: a BAD Unknown command
		C: b NOOP
		S: b OK`)
}
