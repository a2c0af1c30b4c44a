package smtp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSizeLimit: RFC 1870: SIZE= over the limit gets 552 5.3.4 at MAIL; a
// message that turns out larger gets 552 5.3.4 after DATA, its rest is
// discarded, and the session goes on.
func TestSizeLimit(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	const limit = 64 << 10
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.MaxMessageSize = limit })
	cl := dial(t, addr)
	if kw := cl.hello(); !hasKeyword(kw, "SIZE 65536") {
		t.Fatalf("EHLO lacks SIZE 65536: %q", kw)
	}
	if code, msg := cl.cmd("MAIL FROM:<%s> SIZE=%d", sender, limit+1); code != 552 || !strings.HasPrefix(msg, "5.3.4") {
		t.Fatalf("MAIL SIZE over the limit: %d %s", code, msg)
	}
	before := len(inbox(t, n, bob))
	cl.must(250, "MAIL FROM:<%s> SIZE=1000", sender) // the client lied about the size
	cl.must(250, "RCPT TO:<%s>", bob)
	big := append(message("too big"), bytes.Repeat([]byte(strings.Repeat("y", 98)+"\r\n"), 4*limit/100)...)
	if code, msg := cl.data(big); code != 552 || !strings.HasPrefix(msg, "5.3.4") {
		t.Fatalf("oversize DATA: %d %s", code, msg)
	}
	cl.must(250, "NOOP") // the rest was read and discarded: in sync
	if got := len(inbox(t, n, bob)); got != before {
		t.Fatalf("oversize message stored")
	}
	// Just under the limit (go-smtp's count is exclusive of the limit).
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	fits := message("fits")
	for len(fits) < limit-1 {
		n := min(98, limit-1-len(fits)-2)
		fits = append(fits, bytes.Repeat([]byte("z"), max(n, 0))...)
		fits = append(fits, "\r\n"...)
	}
	if len(fits) != limit-1 {
		t.Fatalf("test message is %d bytes", len(fits))
	}
	if code, msg := cl.data(fits); code != 250 {
		t.Fatalf("message of %d bytes under a %d limit: %d %s", len(fits), limit, code, msg)
	}
}

// TestRecipientLimit: RFC 5321 §4.5.3.1.8: past the limit, 452 4.5.3
// (temporary: the client sends the rest in another transaction).
func TestRecipientLimit(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) { cfg.MaxRecipients = 2 })
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", alice)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.cmd("RCPT TO:<%s>", aliceAlias); code != 452 || !strings.HasPrefix(msg, "4.5.3") {
		t.Fatalf("third recipient over a limit of 2: %d %s", code, msg)
	}
	if code, msg := cl.data(message("two of three")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
}

// TestLongCommandLine mirrors acceptance B6: a 10,000-character command
// gets a 5xx, and the server goes on serving others.
func TestLongCommandLine(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], MX, nil)
	cl := dial(t, addr)
	cl.hello()
	code, msg := cl.cmd("MAIL FROM:<%s@evil.test>", strings.Repeat("a", 9980))
	if code < 500 || code > 599 {
		t.Fatalf("10,000-character line: %d %s", code, msg)
	}
	other := dial(t, addr)
	other.hello()
	other.must(250, "NOOP")
}

// TestLongLineInData: message lines longer than go-smtp's 2,000-octet
// default (real mail has them) are accepted and stored unchanged; only the
// message size bounds them, over STARTTLS too.
func TestLongLineInData(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.MaxMessageSize = 256 << 10 })
	for _, size := range []int{2893, 100_000} {
		before := len(inbox(t, n, bob))
		cl := dial(t, addr)
		cl.hello() // STARTTLS: the limit applies above TLS
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", bob)
		line := strings.Repeat("w", size)
		body := append(message(fmt.Sprintf("long line %d", size)), line+"\r\n"...)
		if code, msg := cl.data(body); code != 250 {
			t.Fatalf("%d-octet message line: %d %s", size, code, msg)
		}
		msgs := inbox(t, n, bob)
		if len(msgs) != before+1 || !bytes.Contains(msgs[len(msgs)-1], []byte("\r\n"+line+"\r\n")) {
			t.Fatalf("%d-octet line not stored unchanged", size)
		}
		cl.must(250, "NOOP") // the session goes on
	}
	// A line longer than the whole size limit: 552, not a closed connection.
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(append(message("too long"), strings.Repeat("x", 300<<10)+"\r\n"...)); code != 552 {
		t.Fatalf("line past the size limit: %d %s", code, msg)
	}
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(append(message("far too long"), strings.Repeat("x", 2<<20)+"\r\n"...)); code != 552 {
		t.Fatalf("2 MiB line: %d %s", code, msg)
	}
}

// TestLongCommandArguments: what commands carry stays within RFC 5321
// §4.5.3.1 though a line may be long.
func TestLongCommandArguments(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], MX, nil)
	cl := dial(t, addr)
	if code, msg := cl.cmd("EHLO %s.example.test", strings.Repeat("h", 300)); code != 501 {
		t.Fatalf("300-octet EHLO name: %d %s", code, msg)
	}
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	if code, msg := cl.cmd("RCPT TO:<%s@example.test>", strings.Repeat("r", 260)); code != 501 {
		t.Fatalf("long RCPT path: %d %s", code, msg)
	}
	cl.must(250, "RCPT TO:<%s>", bob)
}

// TestSessionLimits: RFC 5321 §3.8: a connection over the per-IP or the
// per-listener limit gets 421 4.7.0 and is closed; a slot freed is usable.
func TestSessionLimits(t *testing.T) {
	c := sharedCluster(t)
	for _, tc := range []struct {
		name  string
		tweak func(*Config)
	}{
		{"per IP", func(cfg *Config) { cfg.MaxSessionsPerIP = 2 }},
		{"per node", func(cfg *Config) { cfg.MaxSessions = 2 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, addr := c.serve(t, c.Nodes[0], MX, tc.tweak)
			first := dial(t, addr)
			dial(t, addr)
			third, err := dialRaw(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer third.Close()
			line, _ := readLine(third)
			if !strings.HasPrefix(line, "421 4.7.0") {
				t.Fatalf("third session: %q, want 421 4.7.0", line)
			}
			if _, err := readLine(third); err == nil {
				t.Fatal("refused session not closed")
			}
			first.must(221, "QUIT")
			waitFor(t, func() bool { return srv.limits.Open() == 1 })
			again := dial(t, addr)
			again.must(250, "NOOP")
		})
	}
}

// TestSessionLimitImplicitTLS: a refused implicit-TLS client gets its
// 421 over TLS.
func TestSessionLimitImplicitTLS(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], Submissions, func(cfg *Config) { cfg.MaxSessionsPerIP = 1 })
	dialTLS(t, addr)
	second := dialTLSRaw(t, addr)
	if line, _ := readLine(second); !strings.HasPrefix(line, "421 4.7.0") {
		t.Fatalf("second session: %q", line)
	}
}

// TestIdleTimeout: RFC 5321 §4.5.3.2: an idle client is told 421 and
// dropped, and its slot is freed.
func TestIdleTimeout(t *testing.T) {
	c := sharedCluster(t)
	srv, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) { cfg.ReadTimeout = 300 * time.Millisecond })
	cl := dial(t, addr)
	cl.ehlo()
	time.Sleep(600 * time.Millisecond)
	code, msg := cl.read()
	if code != 421 || !strings.HasPrefix(msg, "4.4.2") {
		t.Fatalf("after idling: %d %s", code, msg)
	}
	waitFor(t, func() bool { return srv.limits.Open() == 0 })
}

// TestSlowDataIsNotCutOff: the read timeout bounds silence, not a whole
// DATA transfer (go-smtp's own deadline is per command line).
func TestSlowDataIsNotCutOff(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.ReadTimeout = 400 * time.Millisecond })
	cl := dial(t, addr)
	cl.ehlo()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	cl.must(354, "DATA")
	msg := message("slow")
	for i := 0; i < len(msg); i += len(msg)/4 + 1 {
		cl.conn.Write(msg[i:min(i+len(msg)/4+1, len(msg))])
		time.Sleep(250 * time.Millisecond) // 1 s in all, each gap under the timeout
	}
	cl.conn.Write([]byte(".\r\n"))
	if code, text := cl.read(); code != 250 {
		t.Fatalf("slow DATA: %d %s", code, text)
	}
}

// TestHopCount: RFC 5321 §6.3: a message that arrives with more than
// maxHops Received fields is in a loop: 554 5.4.6, stored nowhere; at the
// limit it is delivered.
func TestHopCount(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	received := func(k int) []byte {
		return []byte(strings.Repeat("Received: from a.test by b.test; Mon, 1 Jan 2026 00:00:00 +0000\r\n", k))
	}
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(append(received(maxHops+1), message("looping")...)); code != 554 || !strings.HasPrefix(msg, "5.4.6") {
		t.Fatalf("%d Received fields: %d %s", maxHops+1, code, msg)
	}
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	// Received in the body does not count.
	body := append(received(maxHops), message("many hops")...)
	body = append(body, received(50)...)
	if code, msg := cl.data(body); code != 250 {
		t.Fatalf("%d Received fields: %d %s", maxHops, code, msg)
	}
	if got := len(inbox(t, n, bob)); got != before+1 {
		t.Fatalf("inbox grew by %d, want 1", got-before)
	}
}
