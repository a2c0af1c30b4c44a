package imap

import "testing"

func TestCmdSelect(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "selectcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	appendRaw(rc, "INBOX", "Subject: one\r\n\r\nx\r\n")
	appendRaw(rc, "INBOX", "Subject: two\r\n\r\ny\r\n")
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a SELECT INBOX
		S: * 2 EXISTS
		S: * 2 RECENT
		S: * OK [UNSEEN 1]
		S: * OK [UIDVALIDITY
		S: * OK [UIDNEXT 3]
		S: * FLAGS (\Seen \Answered \Flagged \Deleted \Draft)
		S: * OK [PERMANENTFLAGS (\Seen \Answered \Flagged \Deleted \Draft \*)]
		S: * OK [MAILBOXID (F
		S: * OK [HIGHESTMODSEQ 3]
		S: a OK [READ-WRITE] SELECT completed
		C: b EXAMINE inbox
		S: * OK [CLOSED]
		S: * 2 EXISTS
		S: ...
		S: * OK [PERMANENTFLAGS ()]
		S: * OK [MAILBOXID (F
		S: * OK [HIGHESTMODSEQ 3]
		S: b OK [READ-ONLY]
		C: c EXPUNGE
		S: c NO
		C: d UNSELECT
		S: d OK
		C: e UNSELECT
		S: e BAD
		C: f ENABLE IMAP4rev2
		S: * ENABLED
		S: f OK
		C: g SELECT INBOX
		S: * 2 EXISTS
		S: * OK [UIDVALIDITY
		S: * OK [UIDNEXT 3]
		S: * FLAGS
		S: * OK [PERMANENTFLAGS
		S: * OK [MAILBOXID (F
		S: * LIST () "/" INBOX
		S: * OK [HIGHESTMODSEQ 3]
		S: g OK [READ-WRITE]
		C: h CLOSE
		S: h OK
		C: i SELECT Nope
		S: i NO [NONEXISTENT]
		C: j SELECT INBOX (XYZ)
		S: j BAD`)
}
