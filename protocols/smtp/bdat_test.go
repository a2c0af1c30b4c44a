package smtp

import (
	"bufio"
	"fmt"
	"testing"
)

// TestBDATResetRace: RSET (or EHLO) after a BDAT chunk that is not the
// last aborts the message while go-smtp's goroutine for it is still in
// Data; the session's state must not be reset under it (go test -race),
// and the session goes on serving.
func TestBDATResetRace(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)
	before := len(inbox(t, n, bob))
	cl := dial(t, addr)
	cl.hello()
	for i := range 20 {
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", bob)
		chunk := fmt.Sprintf("Subject: chunk %d\r\n\r\n", i)
		// Pipelined: the chunk and RSET in one write (RFC 2920, RFC 3030).
		w := bufio.NewWriter(cl.conn)
		fmt.Fprintf(w, "BDAT %d\r\n%sRSET\r\n", len(chunk), chunk)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if code, msg := cl.read(); code != 250 {
			t.Fatalf("BDAT: %d %s", code, msg)
		}
		if code, msg := cl.read(); code != 250 {
			t.Fatalf("RSET: %d %s", code, msg)
		}
	}
	// Aborted by EHLO too.
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	fmt.Fprintf(cl.conn, "BDAT 3\r\nabcEHLO client.test\r\n")
	cl.expect(250)
	cl.expect(250)
	// A whole message still goes through.
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	msg := message("after the resets")
	fmt.Fprintf(cl.conn, "BDAT %d LAST\r\n%s", len(msg), msg)
	if code, text := cl.read(); code != 250 {
		t.Fatalf("BDAT LAST: %d %s", code, text)
	}
	if got := len(inbox(t, n, bob)); got != before+1 {
		t.Fatalf("inbox grew by %d, want 1", got-before)
	}
}
