package imap

import "testing"

func TestCmdFetch(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "fetchcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	appendRaw(rc, "INBOX", "Subject: hi\r\nFrom: <a@b.test>\r\n\r\nhello\r\n")
	appendRaw(rc, "INBOX", "Subject: two\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-unknown\r\n\r\nzz\r\n")
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b FETCH 1 (UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject)])
		S: * 1 FETCH (UID 1 RFC822.SIZE 40 BODY[HEADER.FIELDS (Subject)] {15}
		S: Subject: hi
		S:
		S: )
		S: b OK
		C: c FETCH 1 (BODY.PEEK[TEXT]<1.3> ENVELOPE)
		S: * 1 FETCH (ENVELOPE (NIL "hi" ((NIL NIL "a" "b.test")) ((NIL NIL "a" "b.test")) ((NIL NIL "a" "b.test")) NIL NIL NIL NIL NIL) BODY[TEXT]<1> {3}
		S: ell)
		S: c OK
		C: d FETCH 1 RFC822.HEADER
		S: * 1 FETCH (RFC822.HEADER {33}
		S: Subject: hi
		S: From: <a@b.test>
		S:
		S: )
		S: d OK
		C: e FETCH 1 BODY[]
		S: * 1 FETCH (FLAGS (\Seen \Recent) BODY[] {40}
		S: ...
		S: e OK
		C: f FETCH 2 BINARY.PEEK[1]
		S: f NO [UNKNOWN-CTE]
		C: g FETCH 1 (BODY.PEEK[]<1.9223372036854775807>)
		S: * 1 FETCH (BODY[]<1> {39}
		S: ...
		S: g OK
		C: h UID FETCH 2 (FLAGS)
		S: * 2 FETCH (UID 2 FLAGS (\Recent))
		S: h OK
		C: i FETCH 1:* FAST
		S: * 1 FETCH (FLAGS (\Seen \Recent) INTERNALDATE
		S: * 2 FETCH (FLAGS (\Recent) INTERNALDATE
		S: i OK
		C: j FETCH 3 FLAGS
		S: j OK
		C: k FETCH 1 (FLAGS
		S: k BAD
		C: l FETCH 1 BODYSTRUCTURE
		S: * 1 FETCH (BODYSTRUCTURE ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 7 1 NIL NIL NIL NIL))
		S: l OK`)
}

// TestCmdFetchNotServed: items and modifiers the server does not serve
// are refused rather than left out of the answer: an item of no extension
// served (X-GM-MSGID), and the VANISHED modifier before ENABLE QRESYNC
// (RFC 7162 §3.2.6).
func TestCmdFetchNotServed(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "fetchns", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, user, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b FETCH 1:* (FLAGS X-GM-MSGID)
		S: b BAD
		C: c UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
		S: c BAD`)
}
