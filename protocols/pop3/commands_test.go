package pop3

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestCommands runs every RFC 1939 command in one session, in order, and
// checks each reply (status line and, for multi-line replies, the body).
func TestCommands(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "cmds", password)
	m1 := message("one", "first line", ".starts with a dot", "..two dots", ".", "last")
	m2 := message("two")
	m3 := message("three", "b1", "b2", "b3")
	c.Deliver(t, user, m1, m2, m3)
	uids, _ := inbox(t, n, user)
	mb, _ := n.Store.MailboxByName(user, "INBOX")
	uidl := func(i int) string { return fmt.Sprintf("%d.%d", mb.GetUidValidity(), uids[i]) }
	total := len(m1) + len(m2) + len(m3)

	_, addr := c.serve(t, n, nil)
	cl := login(t, addr, user)
	lines := func(m []byte) []string {
		return strings.Split(strings.TrimSuffix(string(m), "\r\n"), "\r\n")
	}
	tests := []struct {
		cmd    string
		status string   // exact status line, or prefix when it ends in "*"
		body   []string // multi-line body (nil: single-line reply)
	}{
		{"STAT", fmt.Sprintf("+OK 3 %d", total), nil},
		{"LIST", fmt.Sprintf("+OK 3 messages (%d octets)", total),
			[]string{fmt.Sprintf("1 %d", len(m1)), fmt.Sprintf("2 %d", len(m2)), fmt.Sprintf("3 %d", len(m3))}},
		{"LIST 2", fmt.Sprintf("+OK 2 %d", len(m2)), nil},
		{"LIST 4", "-ERR No such message", nil},
		{"LIST 0", "-ERR No such message", nil},
		{"LIST x", "-ERR Syntax error", nil},
		{"UIDL", "+OK*", []string{"1 " + uidl(0), "2 " + uidl(1), "3 " + uidl(2)}},
		{"UIDL 3", "+OK 3 " + uidl(2), nil},
		{"uidl 9", "-ERR No such message", nil},
		{"RETR 1", fmt.Sprintf("+OK %d octets", len(m1)), lines(m1)},
		{"TOP 3 0", "+OK*", lines(message("three"))[:4]},
		{"TOP 3 2", "+OK*", append(lines(message("three"))[:4], "b1", "b2")},
		{"TOP 3 99", "+OK*", lines(m3)},
		{"TOP 3", "-ERR Syntax error", nil},
		{"TOP 3 -1", "-ERR Syntax error", nil},
		{"RETR", "-ERR Syntax error", nil},
		{"RETR 0", "-ERR No such message", nil},
		{"RETR 1004", "-ERR No such message", nil},
		{"NOOP", "+OK", nil},
		{"DELE 2", "+OK Message 2 deleted", nil},
		{"DELE 2", "-ERR Message is marked deleted", nil},
		{"RETR 2", "-ERR Message is marked deleted", nil},
		{"STAT", fmt.Sprintf("+OK 2 %d", len(m1)+len(m3)), nil},
		{"LIST", "+OK 2 messages*", []string{fmt.Sprintf("1 %d", len(m1)), fmt.Sprintf("3 %d", len(m3))}},
		{"UIDL", "+OK*", []string{"1 " + uidl(0), "3 " + uidl(2)}},
		{"RSET", fmt.Sprintf("+OK Maildrop has 3 messages (%d octets)", total), nil},
		{"STAT", fmt.Sprintf("+OK 3 %d", total), nil},
		{"USER x", "-ERR Command not valid in this state", nil},
		{"STLS", "-ERR Command not valid in this state", nil},
		{"XYZZY", "-ERR Unknown command", nil},
		{"CAPA", "+OK*", []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Surat"}},
		{"DELE 1", "+OK*", nil},
		{"QUIT", "+OK Bye (1 messages deleted, 2 left)", nil},
	}
	for _, tc := range tests {
		got := cl.cmd(tc.cmd)
		if p, ok := strings.CutSuffix(tc.status, "*"); ok && !strings.HasPrefix(got, p) || !ok && got != tc.status {
			t.Fatalf("%s: status %q, want %q", tc.cmd, got, tc.status)
		}
		if tc.body != nil {
			if body := cl.multi(); !slices.Equal(body, tc.body) {
				t.Fatalf("%s: body\n%q\nwant\n%q", tc.cmd, body, tc.body)
			}
		}
	}
	if l := cl.line(); !strings.HasPrefix(l, "EOF") {
		t.Fatalf("after QUIT: %q, want the connection closed", l)
	}
	got, flags := inbox(t, n, user)
	if !slices.Equal(got, []uint32{uids[1], uids[2]}) {
		t.Fatalf("after QUIT: UIDs %v, want %v", got, []uint32{uids[1], uids[2]})
	}
	// RETR 1 set \Seen on message 1 (now deleted); TOP never sets it.
	for i, f := range flags {
		if slices.Contains(f, `\Seen`) {
			t.Errorf("UID %d has \\Seen after TOP only: %v", got[i], f)
		}
	}
}

// TestRetrDotStuffing checks byte-exact RETR output: dot-stuffed lines,
// CRLF everywhere (a bare LF too) and a body without a final line ending.
func TestRetrDotStuffing(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "dots", password)
	body := "Subject: dots\r\n\r\n.\r\n..\r\n.x\r\nbare\nend without CRLF"
	c.Deliver(t, user, []byte(body))
	_, addr := c.serve(t, c.Nodes[0], nil)
	cl := login(t, addr, user)
	cl.must("RETR 1")
	want := "Subject: dots\r\n\r\n..\r\n...\r\n..x\r\nbare\r\nend without CRLF\r\n.\r\n"
	buf := make([]byte, len(want))
	for i := range buf {
		b, err := cl.r.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		buf[i] = b
	}
	if string(buf) != want {
		t.Fatalf("RETR wire bytes\n%q\nwant\n%q", buf, want)
	}
	cl.must("NOOP")
}

// TestRetrMarksSeen: RETR sets \Seen at QUIT in one proposal; KeepUnseen
// turns it off; messages already \Seen are left alone.
func TestRetrMarksSeen(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeepUnseen=%v", keep), func(t *testing.T) {
			user := c.NewUser(t, "seen", password)
			c.Deliver(t, user, message("a"), message("b"))
			_, addr := c.serve(t, n, func(cfg *Config) { cfg.KeepUnseen = keep })
			cl := login(t, addr, user)
			cl.mustMulti("RETR 2")
			if _, flags := inbox(t, n, user); len(flags[1]) != 0 {
				t.Fatalf("\\Seen proposed before QUIT: %v", flags[1])
			}
			cl.must("QUIT")
			_, flags := inbox(t, n, user)
			if len(flags[0]) != 0 {
				t.Fatalf("message 1 flags %v, want none", flags[0])
			}
			if seen := slices.Contains(flags[1], `\Seen`); seen == keep {
				t.Fatalf("message 2 flags %v with KeepUnseen=%v", flags[1], keep)
			}
		})
	}
}

// TestAuthorizationCommands: the AUTHORIZATION state refuses TRANSACTION
// commands, USER/PASS order is enforced and a wrong password fails.
func TestAuthorizationCommands(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "authz", password)
	_, addr := c.serve(t, c.Nodes[0], nil)
	cl := dial(t, addr)
	cl.stls()
	for _, tc := range []struct{ cmd, want string }{
		{"STAT", "-ERR Command not valid in this state"},
		{"RETR 1", "-ERR Command not valid in this state"},
		{"NOOP", "-ERR Command not valid in this state"},
		{"PASS " + password, "-ERR Send USER first"},
		{"USER", "-ERR Syntax error"},
		{"USER " + user, "+OK Send PASS"},
		{"PASS wrong", "-ERR [AUTH] Authentication failed"},
		{"PASS " + password, "-ERR Send USER first"},
		{"USER nobody@" + domain, "+OK Send PASS"},
		{"PASS " + password, "-ERR [AUTH] Authentication failed"},
		{"STLS", "-ERR Already under TLS"},
		{"USER " + strings.ToUpper(user), "+OK Send PASS"},
		{"PASS " + password, "+OK Logged in, 0 messages (0 octets)"},
		{"STAT", "+OK 0 0"},
		{"QUIT", "+OK Bye (0 messages deleted, 0 left)"},
	} {
		if got := cl.cmd(tc.cmd); got != tc.want {
			t.Fatalf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

// TestPasswordWithSpaces: PASS takes the rest of the line (RFC 1939 §7).
func TestPasswordWithSpaces(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "spaces", password) // password has spaces
	_, addr := c.serve(t, c.Nodes[0], nil)
	cl := dial(t, addr)
	cl.stls()
	cl.must("USER " + user)
	if got := cl.cmd("PASS " + password); !strings.HasPrefix(got, "+OK") {
		t.Fatalf("PASS with spaces: %q", got)
	}
}

// TestBadInput: line-length limit, unknown commands, garbage; the session
// keeps serving, then closes after too many bad commands.
func TestBadInput(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.MaxBadCommands = 8 })
	cl := dial(t, addr)
	for _, tc := range []struct{ line, want string }{
		{strings.Repeat("A", 600), "-ERR Line too long"},
		{"NOOP " + strings.Repeat("x", 250), "-ERR Line too long"},         // 255 + CRLF = 257
		{"CAPA" + strings.Repeat(" ", 249), "+OK Capability list follows"}, // 253 + CRLF = 255
		{"XYZZY", "-ERR Unknown command"},
		{"\x00\x01\xfe\xff garbage", "-ERR Unknown command"},
		{"", "-ERR Unknown command"},
		{"LIST a b c d", "-ERR Command not valid in this state"},
		{"RETR", "-ERR Command not valid in this state"},
		{"USER", "-ERR [AUTH] Plaintext authentication disallowed before STLS"},
		{strings.Repeat("B", 50_000), "-ERR Line too long"},
	} {
		got := cl.cmd(tc.line)
		if got != tc.want {
			t.Fatalf("%.20q: %q, want %q", tc.line, got, tc.want)
		}
		if strings.HasPrefix(got, "+OK Capability") {
			cl.multi()
		}
	}
	// Bad commands so far: 8 (the -ERRs but USER before TLS); one more
	// goes past MaxBadCommands.
	if got := cl.cmd("JUNK"); got != "-ERR Too many bad commands, closing connection" {
		t.Fatalf("past the limit: %q", got)
	}
	if l := cl.line(); !strings.HasPrefix(l, "EOF") {
		t.Fatalf("still open after too many bad commands: %q", l)
	}
	// The server still serves.
	dial(t, addr).must("CAPA")
}

// TestPipelining: several commands in one write get their replies in order
// (RFC 2449 §6.6).
func TestPipelining(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "pipe", password)
	c.Deliver(t, user, message("p1"), message("p2"))
	_, addr := c.serve(t, c.Nodes[0], nil)
	cl := login(t, addr, user)
	cl.send("STAT\r\nUIDL 1\r\nNOOP\r\nLIST")
	for _, want := range []string{"+OK 2 ", "+OK 1 ", "+OK"} {
		if got := cl.line(); !strings.HasPrefix(got, want) {
			t.Fatalf("pipelined reply %q, want %q", got, want)
		}
	}
	if got := cl.line(); !strings.HasPrefix(got, "+OK 2 messages") {
		t.Fatalf("LIST: %q", got)
	}
	if got := cl.multi(); len(got) != 2 {
		t.Fatalf("LIST body %q", got)
	}
}
