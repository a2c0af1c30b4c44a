package imap

import (
	"bufio"
	"compress/flate"
	"io"
	"strings"
	"testing"
	"time"
)

// TestCmdCompress: after COMPRESS DEFLATE both directions are one raw
// DEFLATE stream (RFC 4978), read here by Go's own inflater across many
// pieces, literals and a synchronising literal's continuation included.
func TestCmdCompress(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "compress", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: a COMPRESS DEFLATE
		S: a BAD`)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	if r := last(rc.cmd("a", "COMPRESS LZ4")); !strings.HasPrefix(r, "a BAD") {
		t.Fatalf("COMPRESS LZ4: %q", r)
	}
	if r := last(rc.cmd("b", "COMPRESS DEFLATE")); !strings.HasPrefix(r, "b OK") {
		t.Fatalf("COMPRESS DEFLATE: %q", r)
	}
	zw, _ := flate.NewWriter(rc.conn, flate.DefaultCompression)
	zr := bufio.NewReader(flate.NewReader(rc.r))
	send := func(s string) {
		t.Helper()
		if _, err := zw.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	line := func() string {
		t.Helper()
		_ = rc.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		l, err := zr.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (after %q)", err, l)
		}
		return strings.TrimRight(l, "\r\n")
	}
	until := func(tag string) string {
		t.Helper()
		for {
			if l := line(); strings.HasPrefix(l, tag+" ") {
				return l
			}
		}
	}
	body := "Subject: compressed\r\n\r\n" + strings.Repeat("all work and no play ", 5000) + "\r\n"
	send("c APPEND INBOX {" + itoa(len(body)) + "}\r\n")
	if l := line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("continuation: %q", l)
	}
	send(body + "\r\n")
	if l := until("c"); !strings.HasPrefix(l, "c OK [APPENDUID") {
		t.Fatalf("APPEND: %q", l)
	}
	send("d SELECT INBOX\r\ne FETCH 1 BODY.PEEK[]\r\n")
	if l := until("d"); !strings.HasPrefix(l, "d OK") {
		t.Fatalf("SELECT: %q", l)
	}
	if l := line(); l != "* 1 FETCH (BODY[] {"+itoa(len(body))+"}" {
		t.Fatalf("FETCH: %q", l)
	}
	got := make([]byte, len(body))
	if _, err := io.ReadFull(zr, got); err != nil || string(got) != body {
		t.Fatalf("body: %v, equal %v", err, string(got) == body)
	}
	if l := until("e"); !strings.HasPrefix(l, "e OK") {
		t.Fatalf("FETCH: %q", l)
	}
	send("f COMPRESS DEFLATE\r\n")
	if l := until("f"); !strings.HasPrefix(l, "f NO [COMPRESSIONACTIVE]") {
		t.Fatalf("COMPRESS again: %q", l)
	}
	send("g LOGOUT\r\n")
	if l := line(); !strings.HasPrefix(l, "* BYE") {
		t.Fatalf("LOGOUT: %q", l)
	}
}
