package imap

import "testing"

func TestCmdStoreExpungeCopyMove(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "storecmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	for range 4 {
		appendRaw(rc, "INBOX", "Subject: m\r\n\r\nx\r\n")
	}
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		# A keyword new to the mailbox is announced with FLAGS before
		# the FETCH that uses it (RFC 3501 §7.2.6, RFC 9051 §7.3.5); the
		# poll at the end of the STORE writes the flags after it, as
		# unsolicited FETCHes with the UID (keywords.go).
		C: b STORE 1:2 +FLAGS (\Flagged $Work)
		S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft $Work)
		S: * 1 FETCH (UID 1 FLAGS ($Work \Flagged \Recent))
		S: * 2 FETCH (UID 2 FLAGS ($Work \Flagged \Recent))
		S: b OK
		C: c UID STORE 2 -FLAGS.SILENT \Flagged
		S: c OK
		C: d STORE 1 FLAGS.SILENT (\Deleted)
		S: d OK
		C: e STORE 1 XFLAGS (\Deleted)
		S: e BAD
		C: f STORE 0 +FLAGS (\Deleted)
		S: f BAD
		C: g COPY 2:3 Archive
		S: g OK [COPYUID
		C: h COPY 2 Nope
		S: h NO [TRYCREATE]
		C: i UID MOVE 4 Trash
		S: * OK [COPYUID
		S: * 4 EXPUNGE
		S: i OK
		C: j UID EXPUNGE 2:3
		S: j OK
		C: k EXPUNGE
		S: * 1 EXPUNGE
		S: k OK
		# MOVE into the selected mailbox is allowed (as in Dovecot): the
		# message gets a new UID (move_self_test.go).
		C: l MOVE 1 INBOX
		S: * OK [COPYUID
		S: ...
		S: l OK`)
}
