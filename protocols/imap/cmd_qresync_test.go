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
		S: * 2 FETCH (UID 2 FLAGS (\Flagged \Recent) MODSEQ (8))
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
		S: * 2 FETCH (UID 2 FLAGS (\Flagged \Recent) MODSEQ (8))
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
		# seq-match-data whose sets differ in size: BAD, before anything.
		C: p SELECT INBOX (QRESYNC (`+uv+` 1 (1:2 1)))
		S: p BAD`)
	// UID FETCH's VANISHED modifier needs QRESYNC.
	playScript(t, other, `
		C: d UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
		S: d BAD`)
}

// TestQresyncAcrossNodes: the expunge history is replicated state, so a
// client that expunged through one node resyncs through another and hears
// of it as VANISHED (EARLIER); an expunge made through the first node
// while it sits in the second reaches it as VANISHED.
func TestQresyncAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("two-node cluster")
	}
	c := startCluster(t, 2)
	user := c.NewUser(t, "qresynccross", password)
	addrs := make([]string, 2)
	for i, n := range c.Nodes {
		_, _, addrs[i] = c.serve(t, n, nil)
		waitFor(t, func() bool { _, err := n.Store.User(user); return err == nil })
	}
	first := dialRawTLS(t, addrs[0], user)
	defer first.conn.Close()
	for range 4 {
		appendRaw(first, "INBOX", "Subject: m\r\n\r\nx\r\n")
	}
	uv := uidValidityOf(t, first, "INBOX")
	playScript(t, first, `
		C: a SELECT INBOX
		S: ...
		S: a OK
		C: b UID STORE 2 +FLAGS.SILENT (\Deleted)
		S: b OK
		C: c UID EXPUNGE 2
		S: * 2 EXPUNGE
		S: c OK`)
	inbox, err := c.Nodes[0].Store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		mb, err := c.Nodes[1].Store.Mailbox(inbox.GetId())
		return err == nil && mb.GetHighestModseq() == inbox.GetHighestModseq()
	})
	second := dialRawTLS(t, addrs[1], user)
	defer second.conn.Close()
	playScript(t, second, `
		C: a ENABLE QRESYNC
		S: * ENABLED QRESYNC
		S: a OK
		C: b SELECT INBOX (QRESYNC (`+uv+` 5))
		S: * 3 EXISTS
		S: ...
		S: * OK [HIGHESTMODSEQ 7]
		S: * VANISHED (EARLIER) 2
		S: b OK`)
	playScript(t, first, `
		C: d UID STORE 4 +FLAGS.SILENT (\Deleted)
		S: d OK
		C: e UID EXPUNGE 4
		S: * 3 EXPUNGE
		S: e OK`)
	second.conn.Write([]byte("c IDLE\r\n"))
	playScript(t, second, `
		S: + idling
		# The \Deleted flag may come first, as a FETCH.
		S: ...
		S: * VANISHED 4
		C: DONE
		S: c OK`)
}
