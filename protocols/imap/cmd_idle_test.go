package imap

import "testing"

func TestCmdIdle(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "idlecmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, user, `
		C: a IDLE
		S: + idling
		C: done
		S: a OK
		C: b SELECT INBOX
		S: ...
		S: b OK
		C: c IDLE
		S: + idling
		C: NOTDONE
		S: c BAD
		C: d NOOP
		S: d OK`)
	// A change made by another session shows during IDLE.
	rc := dialRawTLS(t, addr, user)
	rc.cmd("s", "SELECT INBOX")
	if r := rc.cmd("i", "IDLE"); last(r) != "+ idling" {
		t.Fatalf("IDLE: %q", r)
	}
	other := dialRawTLS(t, addr, user)
	appendRaw(other, "INBOX", "Subject: new\r\n\r\nx\r\n")
	if l := rc.line(); l != "* 1 EXISTS" {
		t.Fatalf("in IDLE: %q", l)
	}
	// IMAP4rev1: RECENT after EXISTS (RFC 3501 §7.3.2); this session is
	// the first told of the message.
	if l := rc.line(); l != "* 1 RECENT" {
		t.Fatalf("in IDLE: %q", l)
	}
	rc.conn.Write([]byte("DONE\r\n"))
	if l := rc.line(); l != "i OK IDLE completed" {
		t.Fatalf("after DONE: %q", l)
	}
}
