package imap

import (
	"strings"
	"testing"
)

// runScript plays an imaptest-style script against a logged-in
// implicit-TLS session (user "" stays logged out): "C: line" is sent as
// is (CRLF added), "S: text" is the next line the server must send,
// compared as a prefix ("C:" alone sends an empty line, "S:" alone
// expects one); "S: ..." skips lines up to the one matching the
// next "S:" line. Blank lines and "#" comments are ignored. A line
// that does not come within 15 s fails the test.
func runScript(t *testing.T, addr, user, script string) {
	t.Helper()
	var rc *rawConn
	if user == "" {
		rc = dialRaw(t, addr, true)
	} else {
		rc = dialRawTLS(t, addr, user)
	}
	defer rc.conn.Close()
	playScript(t, rc, script)
}

// playScript plays a script (runScript) on rc.
func playScript(t *testing.T, rc *rawConn, script string) {
	t.Helper()
	skip := false
	for n, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case l == "C:":
			if _, err := rc.conn.Write([]byte("\r\n")); err != nil {
				t.Fatalf("script line %d: write: %v", n+1, err)
			}
		case strings.HasPrefix(l, "C: "):
			if _, err := rc.conn.Write([]byte(l[3:] + "\r\n")); err != nil {
				t.Fatalf("script line %d: write: %v", n+1, err)
			}
		case l == "S: ...":
			skip = true
		case l == "S:" || strings.HasPrefix(l, "S: "):
			want := strings.TrimPrefix(l[2:], " ")
			for skipped := 0; ; skipped++ {
				got, err := rc.readLine()
				if err != nil {
					// A read that timed out or failed ends the script,
					// skipping or not: the line will not come.
					t.Fatalf("script line %d: want %q: %v", n+1, want, err)
				}
				if strings.HasPrefix(got, want) && (want != "" || got == "") {
					break
				}
				if !skip || skipped > 1000 {
					t.Fatalf("script line %d: got %q, want %q", n+1, got, want)
				}
			}
			skip = false
		default:
			t.Fatalf("script line %d: cannot read %q", n+1, l)
		}
	}
}
