package imap

import (
	"strings"
	"testing"
)

// TestCmdCondstore: CONDSTORE (RFC 7162 §3.1) in raw scripted sessions:
// SELECT (CONDSTORE) and HIGHESTMODSEQ, FETCH MODSEQ and CHANGEDSINCE,
// STORE UNCHANGEDSINCE with MODIFIED, SEARCH MODSEQ, STATUS HIGHESTMODSEQ,
// and MODSEQ in the FETCH another session's change causes. INBOX starts at
// HIGHESTMODSEQ 1; each APPEND gives its message the next modseq.
func TestCmdCondstore(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "condstorecmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	for range 3 {
		appendRaw(rc, "INBOX", "Subject: m\r\n\r\nx\r\n")
	}
	if caps := strings.Join(rc.cmd("c", "CAPABILITY"), " "); !strings.Contains(caps, " CONDSTORE") || !strings.Contains(caps, " QRESYNC") {
		t.Errorf("capabilities %q", caps)
	}
	rc.conn.Close()
	runScript(t, addr, user, `
		C: a SELECT INBOX (CONDSTORE)
		S: * 3 EXISTS
		S: ...
		S: * OK [HIGHESTMODSEQ 4]
		S: a OK [READ-WRITE]
		C: b FETCH 1:* (FLAGS) (CHANGEDSINCE 2)
		S: * 2 FETCH (FLAGS (\Recent) MODSEQ (3))
		S: * 3 FETCH (FLAGS (\Recent) MODSEQ (4))
		S: b OK
		C: c STORE 1 +FLAGS.SILENT (\Flagged)
		S: c OK
		# 1 is at modseq 5 now: it fails UNCHANGEDSINCE 4 (§3.1.3).
		C: d UID STORE 1:3 (UNCHANGEDSINCE 4) +FLAGS (\Seen)
		S: * 2 FETCH (UID 2 FLAGS (\Seen \Recent) MODSEQ (6))
		S: * 3 FETCH (UID 3 FLAGS (\Seen \Recent) MODSEQ (6))
		S: d OK [MODIFIED 1]
		C: e STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\Draft)
		S: e OK [MODIFIED 1:3]
		C: f UID SEARCH MODSEQ 6
		S: * SEARCH 2 3 (MODSEQ 6)
		S: f OK
		C: g SEARCH RETURN (ALL) MODSEQ "/flags/\\draft" all 5
		S: * ESEARCH (TAG "g") ALL 1:3 MODSEQ 6
		S: g OK
		# MIN alone returns message 1 alone: its modseq (§3.1.11).
		C: g2 SEARCH RETURN (MIN) MODSEQ 5
		S: * ESEARCH (TAG "g2") MIN 1 MODSEQ 5
		S: g2 OK
		C: g3 UID SEARCH RETURN (MIN MAX) MODSEQ 5
		S: * ESEARCH (TAG "g3") UID MIN 1 MAX 3 MODSEQ 6
		S: g3 OK
		C: h SEARCH MODSEQ 7
		S: * SEARCH
		S: h OK
		C: i STATUS INBOX (MESSAGES HIGHESTMODSEQ)
		S: * STATUS INBOX (MESSAGES 3 HIGHESTMODSEQ 6)
		S: i OK
		C: j FETCH 1 (MODSEQ)
		S: * 1 FETCH (MODSEQ (5))
		S: j OK
		# UNCHANGEDSINCE answers FETCH MODSEQ even with .SILENT.
		C: k STORE 1 (UNCHANGEDSINCE 5) FLAGS.SILENT (\Answered)
		S: * 1 FETCH (UID 1 MODSEQ (7))
		S: k OK
		C: l UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 6)
		S: * 1 FETCH (UID 1 FLAGS (\Answered \Recent) MODSEQ (7))
		S: l OK
		C: m FETCH 1 (FLAGS) (CHANGEDSINCE 7)
		S: m OK
		C: n STORE 1 (UNCHANGEDSINCE x) +FLAGS (\Seen)
		S: n BAD`)
}

// TestCmdCondstoreEnabling: a CONDSTORE-enabling command with a mailbox
// selected announces its HIGHESTMODSEQ; from then on the FETCH another
// session's change causes carries UID and MODSEQ (RFC 7162 §3.1).
func TestCmdCondstoreEnabling(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "condstoreon", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	appendRaw(other, "INBOX", "Subject: m\r\n\r\nx\r\n")
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	playScript(t, rc, `
		C: a SELECT INBOX
		S: ...
		S: * OK [HIGHESTMODSEQ 2]
		S: a OK
		C: b FETCH 1 (FLAGS)
		S: * 1 FETCH (FLAGS (\Recent))
		S: b OK
		C: c FETCH 1 (FLAGS MODSEQ)
		S: * 1 FETCH (FLAGS (\Recent) MODSEQ (2))
		S: * OK [HIGHESTMODSEQ 2]
		S: c OK
		C: d FETCH 1 (MODSEQ)
		S: * 1 FETCH (MODSEQ (2))
		S: d OK`)
	if r := last(other.cmd("s", "SELECT INBOX")); !strings.HasPrefix(r, "s OK") {
		t.Fatal(r)
	}
	if r := last(other.cmd("t", "STORE 1 +FLAGS (\\Flagged)")); !strings.HasPrefix(r, "t OK") {
		t.Fatal(r)
	}
	playScript(t, rc, `
		C: e NOOP
		S: * 1 FETCH (UID 1 FLAGS (\Flagged \Recent) MODSEQ (3))
		S: e OK
		C: f ENABLE CONDSTORE
		S: * ENABLED CONDSTORE
		S: f OK`)
	// An expunge this session cannot hear of during FETCH (RFC 9051
	// §7.4.1): HIGHESTMODSEQ drops back below it (RFC 7162 §3.2).
	playScript(t, other, `
		C: u STORE 1 +FLAGS.SILENT (\Deleted)
		S: u OK
		C: v EXPUNGE
		S: * 1 EXPUNGE
		S: v OK`)
	playScript(t, rc, `
		C: g FETCH 1 (FLAGS)
		S: * OK [HIGHESTMODSEQ 3]
		S: g OK
		C: h NOOP
		S: * 1 EXPUNGE
		S: h OK`)
}
