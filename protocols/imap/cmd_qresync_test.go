package imap

import (
	"strings"
	"testing"
)

// uidValidityOf reads a mailbox's UIDVALIDITY with STATUS.
func uidValidityOf(t *testing.T, rc *rawConn, mailbox string) string {
	t.Helper()
	for _, l := range rc.cmd("uv", "STATUS "+mailbox+" (UIDVALIDITY)") {
		if _, rest, ok := strings.Cut(l, "(UIDVALIDITY "); ok {
			return strings.TrimSuffix(rest, ")")
		}
	}
	t.Fatal("no UIDVALIDITY")
	return ""
}

// TestCmdQresync: QRESYNC (RFC 7162 §3.2) in raw scripted sessions: ENABLE,
// EXPUNGE and UID EXPUNGE answered with VANISHED, SELECT (QRESYNC ...)
// with VANISHED (EARLIER) from the expunge history, known-uids and
// seq-match-data, UID FETCH's VANISHED modifier, and the VANISHED another
// session's expunge causes. INBOX gets messages 1..6 at modseqs 2..7.
func TestCmdQresync(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "qresynccmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	for range 6 {
		appendRaw(rc, "INBOX", "Subject: m\r\n\r\nx\r\n")
	}
	uv := uidValidityOf(t, rc, "INBOX")
	playScript(t, rc, `
		C: a SELECT INBOX (QRESYNC (`+uv+` 1))
		S: a BAD
		C: b ENABLE QRESYNC
		S: * ENABLED QRESYNC
		S: b OK
		C: c SELECT INBOX
		S: ...
		S: * OK [HIGHESTMODSEQ 7]
		S: c OK
		C: d UID STORE 2 +FLAGS (\Flagged)
		S: * 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (8))
		S: d OK
		C: e STORE 3:4 +FLAGS.SILENT (\Deleted)
		S: e OK
		C: f UID EXPUNGE 3
		S: * VANISHED 3
		S: f OK
		C: g EXPUNGE
		S: * VANISHED 4
		S: g OK`)
	// Another session's expunge reaches this one as VANISHED.
	other := dialRawTLS(t, addr, user)
	defer other.conn.Close()
	playScript(t, other, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b STORE 4 +FLAGS.SILENT (\Deleted)
		S: b OK
		C: c EXPUNGE
		S: * 4 EXPUNGE
		S: c OK`)
	playScript(t, rc, `
		C: h NOOP
		S: * VANISHED 6
		S: h OK
		# Modseqs now: 1 at 2, 2 at 8, 5 at 6; expunges at 10 (3), 11 (4),
		# 13 (6); HIGHESTMODSEQ 13.
		C: i UID FETCH 1:* (FLAGS) (CHANGEDSINCE 7 VANISHED)
		S: * VANISHED (EARLIER) 3:4,6
		S: * 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (8))
		S: i OK
		C: j UID FETCH 1:4 (FLAGS) (CHANGEDSINCE 10 VANISHED)
		S: * VANISHED (EARLIER) 4
		S: j OK
		C: k UNSELECT
		S: k OK
		C: l SELECT INBOX (QRESYNC (`+uv+` 7))
		S: * 3 EXISTS
		S: ...
		S: * OK [HIGHESTMODSEQ 13]
		S: * VANISHED (EARLIER) 3:4,6
		S: * 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (8))
		S: l OK [READ-WRITE]
		C: m EXAMINE INBOX (QRESYNC (`+uv+` 10 1:5))
		S: * OK [CLOSED]
		S: ...
		S: * OK [HIGHESTMODSEQ 13]
		S: * VANISHED (EARLIER) 4
		S: m OK [READ-ONLY]
		# The client saw 1, 2, 3 as messages 1..3: they agree up to 2.
		C: n EXAMINE INBOX (QRESYNC (`+uv+` 1 1:6 (1:3 1:3)))
		S: * OK [CLOSED]
		S: ...
		S: * OK [HIGHESTMODSEQ 13]
		S: * VANISHED (EARLIER) 3:4,6
		S: * 1 FETCH (UID 1 FLAGS () MODSEQ (2))
		S: * 2 FETCH (UID 2 FLAGS (\Flagged) MODSEQ (8))
		S: * 3 FETCH (UID 5 FLAGS () MODSEQ (6))
		S: n OK
		# Another UIDVALIDITY: a plain select.
		C: o SELECT INBOX (QRESYNC (1 1))
		S: * OK [CLOSED]
		S: ...
		S: * OK [HIGHESTMODSEQ 13]
		S: o OK [READ-WRITE]
		C: p SELECT INBOX (QRESYNC (`+uv+` 1 (1:2 1)))
		S: ...
		S: p BAD`)
	// UID FETCH's VANISHED modifier needs QRESYNC.
	playScript(t, other, `
		C: d UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
		S: d BAD`)
}
