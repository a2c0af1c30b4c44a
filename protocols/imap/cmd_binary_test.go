package imap

import (
	"bytes"
	"strings"
	"testing"
)

// binaryMessage has a text part and a part of raw binary octets (NUL
// included) with Content-Transfer-Encoding: binary, which only a literal8
// may carry (RFC 3516 §4.4).
const binaryMessage = "Subject: bin\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
	"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n" +
	"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\nA\x00B\x01C\r\n" +
	"--b--\r\n"

// appendLiteral8 APPENDs data to mailbox as a synchronising literal8 and
// returns the tagged answer.
func appendLiteral8(t *testing.T, rc *rawConn, tag, mailbox, data string) string {
	t.Helper()
	if r := last(rc.cmd(tag, "APPEND "+mailbox+" ~{"+itoa(len(data))+"}")); !strings.HasPrefix(r, "+") {
		t.Fatalf("APPEND literal8: %q", r)
	}
	if _, err := rc.conn.Write([]byte(data + "\r\n")); err != nil {
		t.Fatal(err)
	}
	for {
		l := rc.line()
		if l == "" || strings.HasPrefix(l, tag+" ") {
			return l
		}
	}
}

// untilTag sends "tag line" and returns what the server answers through
// the tagged response, lines joined by "\n" (empty lines of literals
// included).
func untilTag(t *testing.T, rc *rawConn, tag, line string) string {
	t.Helper()
	if _, err := rc.conn.Write([]byte(tag + " " + line + "\r\n")); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for n := 0; n < 10000; n++ {
		l, err := rc.r.ReadString('\n')
		got.WriteString(strings.TrimRight(l, "\r\n") + "\n")
		if err != nil || strings.HasPrefix(l, tag+" ") {
			break
		}
	}
	return strings.TrimSuffix(got.String(), "\n")
}

// TestCmdBinary: BINARY (RFC 3516) FETCH items and APPEND of a literal8.
func TestCmdBinary(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "binarycmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	if r := appendLiteral8(t, rc, "a", "INBOX", binaryMessage); !strings.HasPrefix(r, "a OK [APPENDUID ") {
		t.Fatalf("APPEND: %q", r)
	}
	if r := last(rc.cmd("b", "SELECT INBOX")); !strings.HasPrefix(r, "b OK") {
		t.Fatalf("SELECT: %q", r)
	}
	// BODY[] holds no NUL: the binary part was stored in base64 (as
	// Dovecot does), its Content-Transfer-Encoding changed.
	body := untilTag(t, rc, "c", "FETCH 1 BODY.PEEK[2]")
	if strings.ContainsRune(body, 0) || !strings.Contains(body, "QQBCAUM=") {
		t.Fatalf("BODY[2] of a literal8 part: %q", body)
	}
	if mime := untilTag(t, rc, "d", "FETCH 1 BODY.PEEK[2.MIME]"); !strings.Contains(strings.ToLower(mime), "content-transfer-encoding: base64") {
		t.Fatalf("BODY[2.MIME]: %q", mime)
	}
	// BINARY[2] gives the original octets back, as a literal8 (they hold
	// a NUL); BINARY[1] as a plain literal (RFC 3516 §4.2).
	got := untilTag(t, rc, "e", "FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1] BINARY.SIZE[1])")
	want := "* 1 FETCH (BINARY[2] ~{5}\nA\x00B\x01C BINARY[1] {5}\nhello BINARY.SIZE[2] 5 BINARY.SIZE[1] 5)\ne OK"
	if !strings.HasPrefix(got, want) {
		t.Fatalf("BINARY items:\n got %q\nwant %q", got, want)
	}
	playScript(t, rc, `
		# A partial of BINARY, and \Seen set by BINARY without PEEK.
		C: f FETCH 1 BINARY[1]<1.3>
		S: * 1 FETCH (FLAGS (\Seen \Recent) BINARY[1]<1> {3}
		S: ell)
		S: f OK
		C: g FETCH 1 BINARY[3]
		S: * 1 FETCH (BINARY[3] {0}
		S: )
		S: g OK`)
	caps := " " + strings.Join(rc.cmd("h", "CAPABILITY"), " ") + " "
	for _, c := range []string{"BINARY", "MULTIAPPEND", "CATENATE", "PREVIEW", "OBJECTID", "SAVEDATE", "WITHIN"} {
		if !strings.Contains(caps, " "+c+" ") {
			t.Errorf("capability %s not advertised: %q", c, caps)
		}
	}
}
