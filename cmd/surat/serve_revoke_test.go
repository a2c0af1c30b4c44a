package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"
)

// mailLogin is a logged-in IMAP or POP3 connection over implicit TLS.
type mailLogin struct {
	conn *tls.Conn
	r    *bufio.Reader
}

func loginOver(t *testing.T, addr string, imap bool, user, pw string) (*mailLogin, string) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	m := &mailLogin{conn: conn, r: bufio.NewReader(conn)}
	m.line(t) // greeting
	if imap {
		fmt.Fprintf(conn, "a LOGIN %q %q\r\n", user, pw)
		for {
			if l := m.line(t); strings.HasPrefix(l, "a ") {
				return m, l
			}
		}
	}
	fmt.Fprintf(conn, "USER %s\r\n", user)
	m.line(t)
	fmt.Fprintf(conn, "PASS %s\r\n", pw)
	return m, m.line(t)
}

func (m *mailLogin) line(t *testing.T) string {
	t.Helper()
	_ = m.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := m.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// closedWithin reports whether the server ends the connection within d,
// and the lines it sent first.
func (m *mailLogin) closedWithin(d time.Duration) (bool, []string) {
	_ = m.conn.SetReadDeadline(time.Now().Add(d))
	var lines []string
	for {
		l, err := m.r.ReadString('\n')
		if err != nil {
			return !strings.Contains(err.Error(), "timeout"), lines
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
	}
}

// TestPasswordChangeRevokesEverywhere: with the real serve wiring (the
// node's shared login cache included), `surat user passwd` through one
// node ends the user's IMAP and POP3 sessions on another, whose cache
// then refuses the old password; `user del` ends the new sessions too.
func TestPasswordChangeRevokesEverywhere(t *testing.T) {
	nodes := startServeCluster(t, 3)
	const user = "carol@example.test"
	if r := runCLI(t, nil, "old password\n", "user", "add", user, "--password-stdin", "--server", nodes[0].url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	b := nodes[1]
	var imapS, pop3S *mailLogin
	waitUntil(t, "login on n2", func() bool {
		var l string
		imapS, l = loginOver(t, b.imaps, true, user, "old password")
		return strings.HasPrefix(l, "a OK")
	})
	pop3S, l := loginOver(t, b.pop3s, false, user, "old password")
	if !strings.HasPrefix(l, "+OK") {
		t.Fatalf("POP3 login on n2: %q", l)
	}

	start := time.Now()
	if r := runCLI(t, nil, "new password\n", "user", "passwd", user, "--password-stdin", "--server", nodes[2].url()); r.code != 0 {
		t.Fatalf("user passwd through n3: %+v", r)
	}
	if closed, lines := imapS.closedWithin(5 * time.Second); !closed || len(lines) != 1 || !strings.HasPrefix(lines[0], "* BYE ") {
		t.Fatalf("IMAP session on n2 after the change: closed=%v %q", closed, lines)
	}
	if closed, lines := pop3S.closedWithin(5 * time.Second); !closed || len(lines) != 0 {
		t.Fatalf("POP3 session on n2 after the change: closed=%v %q", closed, lines)
	}
	t.Logf("sessions on n2 closed %v after user passwd through n3 returned", time.Since(start).Round(time.Millisecond))

	// The cache verified the old password on n2 a moment ago; it must not
	// answer for the new hash.
	if _, l := loginOver(t, b.imaps, true, user, "old password"); !strings.HasPrefix(l, "a NO") {
		t.Fatalf("old password on n2 after the change: %q", l)
	}
	if _, l := loginOver(t, b.pop3s, false, user, "old password"); !strings.HasPrefix(l, "-ERR") {
		t.Fatalf("old POP3 password on n2 after the change: %q", l)
	}
	imapS, l = loginOver(t, b.imaps, true, user, "new password")
	if !strings.HasPrefix(l, "a OK") {
		t.Fatalf("new password on n2: %q", l)
	}
	if r := runCLI(t, nil, "", "user", "del", user, "--server", nodes[0].url()); r.code != 0 {
		t.Fatalf("user del through n1: %+v", r)
	}
	if closed, _ := imapS.closedWithin(5 * time.Second); !closed {
		t.Fatal("IMAP session on n2 survived user del")
	}
}
