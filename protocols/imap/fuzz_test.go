package imap

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzCommands feeds arbitrary bytes to a real server connection after
// LOGIN and SELECT (implicit TLS, the real go-imap command path and this
// package's backend over a real store): whatever comes, the process does
// not crash (a panic in one of our goroutines would), the session either
// answers or is closed, and a new session still works.
func FuzzCommands(f *testing.F) {
	for _, seed := range []string{
		"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODYSTRUCTURE ENVELOPE)",
		"a UID FETCH 1:* (BODY[1.2.MIME]<0.10> BINARY[1] BINARY.SIZE[1])",
		"a FETCH 1:* (BODY.PEEK[HEADER]<1.9223372036854775807> BINARY.PEEK[1]<1.9223372036854775807>)",
		"a STORE 1:* +FLAGS (\\Seen $x)\r\nb EXPUNGE",
		"a SEARCH OR (FROM x) NOT (BODY y) UID 1:* LARGER 1 SINCE 1-Jan-2020",
		"a SEARCH RETURN (SAVE) ALL\r\nb FETCH $ FLAGS\r\nc MOVE $ Trash",
		"a UID COPY 1:* Archive\r\nb CREATE x/y/z\r\nc RENAME x q\r\nd DELETE q",
		"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" * RETURN (STATUS (MESSAGES SIZE) CHILDREN)",
		"a APPEND INBOX (\\Seen) {5+}\r\nhello",
		"a LOGIN {999999999}",
		"a IDLE\r\nDONE",
		"a FETCH 1 " + strings.Repeat("(", 100),
		"a STATUS INBOX (MESSAGES UNSEEN DELETED SIZE APPENDLIMIT RECENT)",
		"\x00\xff\r\n",
		// CONDSTORE and QRESYNC (RFC 7162).
		"a ENABLE QRESYNC\r\nb SELECT INBOX (QRESYNC (1 1 1:9 (1:* 1:*)))\r\nc UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
		"a SELECT INBOX (CONDSTORE)\r\nb STORE 1:* (UNCHANGEDSINCE 0) +FLAGS (\\Seen)\r\nc SEARCH RETURN (MIN) MODSEQ 1\r\nd UID EXPUNGE 1",
		"a SETACL INBOX anyone +lr\r\nb GETACL INBOX\r\nc LISTRIGHTS INBOX -anyone\r\nd MYRIGHTS \"Other Users/x@y/INBOX\"",
		"a SETMETADATA INBOX (/private/x ~{3+}\r\na\x00b /shared/y NIL)\r\nb GETMETADATA (MAXSIZE 1 DEPTH infinity) \"\" (/private /shared)",
		// NOTIFY (RFC 5465): then the session waits for its next command
		// with a reader goroutine (notify.go).
		"a NOTIFY SET STATUS (selected (MessageNew (UID BODY[] BINARY[1]) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange))\r\nb SETMETADATA INBOX (/private/x \"1\")\r\nb2 APPEND INBOX {1+}\r\nx\r\nc IDLE\r\nDONE\r\nd NOTIFY NONE",
		// CONTEXT=SEARCH/SORT (RFC 5267 §4): updates at the next command.
		"a UID SEARCH RETURN (UPDATE) UNSEEN\r\nb SORT RETURN (UPDATE PARTIAL 1:2) (REVERSE ARRIVAL) UTF-8 ALL\r\nc STORE 1 +FLAGS (\\Seen)\r\nd CANCELUPDATE \"a\" \"b\"",
		"a NOTIFY SET (subtree (\"Other Users\" INBOX) (FlagChange)) (selected-delayed (MessageNew MessageExpunge))\r\nb CREATE n\r\nc SUBSCRIBE n\r\nd UNAUTHENTICATE",
	} {
		f.Add([]byte(seed))
	}
	c := sharedCluster(f)
	user := c.NewUser(f, "fuzz", password)
	srv, _, implicit := c.serve(f, c.Nodes[0], nil)
	// Something to work on.
	setup := dialRawTLS(f, implicit, user)
	appendRaw(setup, "INBOX", "Subject: a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n")
	setup.conn.Close()

	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > 8<<10 {
			return
		}
		rc := dialRawTLS(t, implicit, user)
		rc.cmd("s", "SELECT INBOX")
		_ = rc.conn.SetDeadline(time.Now().Add(2 * time.Second))
		rc.conn.Write(input)
		rc.conn.Write([]byte("\r\nzz NOOP\r\n"))
		for {
			l, err := rc.r.ReadString('\n')
			if err != nil || strings.HasPrefix(l, "zz ") {
				break
			}
		}
		rc.conn.Close()
		// A new session is served.
		check := dialRawTLS(t, implicit, user)
		if r := last(check.cmd("n", "NOOP")); !strings.HasPrefix(r, "n OK") {
			t.Fatalf("server not serving after %q: %q", input, r)
		}
		check.conn.Close()
		if n := srv.panics.Load(); n > 0 {
			t.Fatalf("%d panics recovered by go-imap (input %q)", n, input)
		}
	})
}

// dialRawTLS is an implicit-TLS raw session, logged in.
func dialRawTLS(t testing.TB, addr, user string) *rawConn {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{t: t, conn: conn, r: bufio.NewReader(conn)}
	rc.line()
	if r := last(rc.cmd("l", "LOGIN "+user+" \""+password+"\"")); !strings.HasPrefix(r, "l OK") {
		conn.Close()
		t.Fatalf("login: %q", r)
	}
	return rc
}

func appendRaw(rc *rawConn, mailbox, body string) {
	var b bytes.Buffer
	b.WriteString("ap APPEND " + mailbox + " {" + itoa(len(body)) + "+}\r\n" + body + "\r\n")
	rc.conn.Write(b.Bytes())
	for {
		l := rc.line()
		if l == "" || strings.HasPrefix(l, "ap ") {
			return
		}
	}
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}
