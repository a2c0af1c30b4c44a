package imap

import "testing"

func TestCmdStatus(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "statuscmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	appendRaw(rc, "Archive", "Subject: one\r\n\r\nx\r\n")
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a STATUS Archive (MESSAGES UIDNEXT UNSEEN DELETED SIZE RECENT APPENDLIMIT)
		S: * STATUS Archive (MESSAGES 1 RECENT 1 UIDNEXT 2 UNSEEN 1 DELETED 0 SIZE 19 APPENDLIMIT
		S: a OK
		C: b STATUS Archive (BOGUS)
		S: b BAD
		C: c STATUS Nope (MESSAGES)
		S: c NO [NONEXISTENT]
		C: d LIST "" Archive RETURN (STATUS (MESSAGES))
		S: * LIST (\HasNoChildren \Archive) "/" Archive
		S: * STATUS Archive (MESSAGES 1)
		S: d OK
		C: e LIST (SPECIAL-USE) "" *
		S: * LIST (\HasNoChildren \Archive) "/" Archive
		S: ...
		S: e OK
		C: f LIST (RECURSIVEMATCH) "" *
		S: f BAD
		C: g LIST "" ""
		S: * LIST (\Noselect) "/" ""
		S: g OK`)
}
