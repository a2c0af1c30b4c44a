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
		C: b STORE 1:2 +FLAGS (\Flagged $Work)
		S: * 1 FETCH (FLAGS (
		S: * 2 FETCH (FLAGS (
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
		C: l MOVE 1 INBOX
		S: l NO`)
}
