package imap

import "testing"

func TestCmdSearch(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "searchcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	appendRaw(rc, "INBOX", "Subject: alpha\r\n\r\nfox\r\n")
	appendRaw(rc, "INBOX", "Subject: beta\r\n\r\ndog\r\n")
	appendRaw(rc, "INBOX", "Subject: alpha beta\r\n\r\ncat\r\n")
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b SEARCH SUBJECT alpha
		S: * SEARCH 1 3
		S: b OK
		C: c UID SEARCH RETURN (MIN MAX COUNT) BODY dog
		S: * ESEARCH (TAG "c") UID MIN 2 MAX 2 COUNT 1
		S: c OK
		C: d SEARCH RETURN () NOT SUBJECT alpha
		S: * ESEARCH (TAG "d") ALL 2
		S: d OK
		C: e SEARCH CHARSET KOI8-R ALL
		S: e NO [BADCHARSET (UTF-8 US-ASCII)]
		C: f SEARCH RETURN (SAVE) SUBJECT beta
		S: f OK
		C: g FETCH $ (UID)
		S: * 2 FETCH (UID 2)
		S: * 3 FETCH (UID 3)
		S: g OK
		C: h SEARCH FROBNICATE
		S: h BAD
		C: i SEARCH SUBJECT nothing
		S: * SEARCH
		S: i OK
		C: j ENABLE IMAP4rev2
		S: * ENABLED
		S: j OK
		C: k SEARCH SUBJECT alpha
		S: * ESEARCH (TAG "k") ALL 1,3
		S: k OK
		C: l SEARCH OLDER 100000000
		S: * ESEARCH (TAG "l")
		S: l OK`)
}
