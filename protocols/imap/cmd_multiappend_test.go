package imap

import (
	"strings"
	"testing"
)

// TestCmdMultiAppend: MULTIAPPEND (RFC 3502): several messages in one
// APPEND, filed all together with one APPENDUID set, or none of them when
// one is refused.
func TestCmdMultiAppend(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "multiappend", password)
	_, _, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.AppendLimit = 100 })
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	big := strings.Repeat("x", 120)
	playScript(t, rc, `
		C: a APPEND INBOX (\Seen) {12+}
		C: Subject: 1
		C:  {12+}
		C: Subject: 2
		C:  () "01-Jan-2020 10:00:00 +0000" ~{12+}
		C: Subject: 3
		C:
		S: a OK [APPENDUID
		C: b STATUS INBOX (MESSAGES)
		S: * STATUS INBOX (MESSAGES 3)
		S: b OK
		# The third message is over APPENDLIMIT: refused before its
		# continuation; the first two are not filed either.
		C: c APPEND INBOX {12+}
		C: Subject: 4
		C:  {12+}
		C: Subject: 5
		C:  {`+itoa(len(big))+`}
		S: c NO [TOOBIG]
		C: d STATUS INBOX (MESSAGES)
		S: * STATUS INBOX (MESSAGES 3)
		S: d OK
		# Into a mailbox that does not exist: TRYCREATE, before any data.
		C: e APPEND Nowhere {12}
		S: e NO [TRYCREATE]
		C: f SELECT INBOX
		S: ...
		S: f OK
		C: g FETCH 1:3 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])
		S: * 1 FETCH (FLAGS (\Seen \Recent) INTERNALDATE
		S: Subject: 1
		S:
		S: )
		S: * 2 FETCH (FLAGS (\Recent) INTERNALDATE
		S: Subject: 2
		S:
		S: )
		S: * 3 FETCH (FLAGS (\Recent) INTERNALDATE " 1-Jan-2020 10:00:00 +0000"
		S: Subject: 3
		S:
		S: )
		S: g OK
		C: h APPEND INBOX {12+}
		C: Subject: 1
		C:  BAD
		S: h BAD`)
	if r := last(rc.cmd("i", "UID SEARCH ALL")); !strings.HasPrefix(r, "i OK") {
		t.Fatal(r)
	}
}
