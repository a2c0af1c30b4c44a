package smtp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSmuggling mirrors the published SMTP smuggling attack
// (CVE-2023-51764 family) and acceptance check B5: a carrier message for
// alice whose body holds "<end-of-data variant>MAIL FROM...RCPT TO bob...
// DATA...", terminated by a real <CRLF>.<CRLF>. The server must answer
// exactly once (refusing the whole message: 550 5.6.0), store nothing, and
// never deliver a second message to bob.
func TestSmuggling(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	variants := []struct {
		name     string
		dot, eol string
		whole    bool // stored whole as one message instead of refused
	}{
		{"LF.LF", "\n.\n", "\n", false},
		{"LF.CRLF", "\n.\r\n", "\r\n", false},
		{"CRLF.LF", "\r\n.\n", "\r\n", false},
		{"CR.CR", "\r.\r", "\r", false},
		{"bare LF line ending only", "\n", "\n", false},
		// go-smtp's reader drops ".<CR>" at the start of a line (its
		// dot-unstuffing state machine), so the server sees only CRLF
		// lines: one message for alice, nothing for bob.
		{"CRLF.CR", "\r\n.\r", "\r\n", true},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			beforeA, beforeB := len(inbox(t, n, alice)), len(inbox(t, n, bob))
			cl := dial(t, addr)
			cl.hello()
			cl.must(250, "MAIL FROM:<attacker@evil.test>")
			cl.must(250, "RCPT TO:<%s>", alice)
			cl.must(354, "DATA")
			carrier := "From: <attacker@evil.test>\r\nTo: <" + alice + ">\r\nSubject: carrier\r\n\r\ncarrier body\r\n"
			smuggled := strings.Join([]string{"MAIL FROM:<x@evil.test>", "RCPT TO:<" + bob + ">", "DATA",
				"Subject: smuggled", "", "smuggled body"}, v.eol)
			cl.conn.Write([]byte(carrier + v.dot + smuggled + "\r\n.\r\n"))
			code, msg := cl.read()
			wantA := beforeA
			switch {
			case v.whole && code == 250:
				wantA++
			case code != 550 || !strings.HasPrefix(msg, "5.6.0"):
				t.Fatalf("end of data: %d %s; want 550 5.6.0", code, msg)
			}
			// Exactly one reply: nothing was parsed as commands.
			_ = cl.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if extra, err := readLine(cl.conn); err == nil {
				t.Fatalf("extra reply after the message: %q", extra)
			}
			_ = cl.conn.SetReadDeadline(time.Time{})
			cl.must(250, "NOOP")
			got := inbox(t, n, alice)
			if a, b := len(got), len(inbox(t, n, bob)); a != wantA || b != beforeB {
				t.Fatalf("stored: alice +%d, bob +%d; want alice +%d, bob nothing", a-beforeA, b-beforeB, wantA-beforeA)
			}
			if wantA > beforeA {
				var l lineEndings
				if body := got[len(got)-1]; !l.ok(body) || !bytes.Contains(body, []byte("smuggled body")) {
					t.Fatalf("stored message is not whole with CRLF lines: %q", body)
				}
			}
		})
	}
}

// TestSmugglingViaBDAT: CHUNKING (always advertised by go-smtp) carries
// the same bytes without dot-stuffing; the same refusal applies, so every
// stored message has CRLF line endings only.
func TestSmugglingViaBDAT(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	bad := []byte("Subject: x\r\n\r\nline\nMAIL FROM:<x@evil.test>\r\n")
	cl.conn.Write([]byte("BDAT " + strconv.Itoa(len(bad)) + " LAST\r\n"))
	cl.conn.Write(bad)
	if code, msg := cl.read(); code != 550 || !strings.HasPrefix(msg, "5.6.0") {
		t.Fatalf("BDAT with a bare LF: %d %s", code, msg)
	}
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	good := message("bdat")
	cl.conn.Write([]byte("BDAT " + strconv.Itoa(len(good)) + " LAST\r\n"))
	cl.conn.Write(good)
	if code, msg := cl.read(); code != 250 {
		t.Fatalf("BDAT: %d %s", code, msg)
	}
	got := inbox(t, n, bob)
	if len(got) != before+1 || !bytes.HasSuffix(got[len(got)-1], good) {
		t.Fatalf("BDAT message not stored once, whole")
	}
}
