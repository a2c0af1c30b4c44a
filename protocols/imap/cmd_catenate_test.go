package imap

import (
	"regexp"
	"strings"
	"testing"
)

// TestCmdCatenate: CATENATE (RFC 4469): a message assembled from TEXT
// literals and URL parts naming the user's own messages and sections;
// a URL naming nothing is NO [BADURL].
func TestCmdCatenate(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "catenate", password)
	other := c.NewUser(t, "catenate2", password)
	_, _, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.AppendLimit = 200 })
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	appendRaw(rc, "INBOX", "Subject: src\r\nFrom: <a@b.test>\r\n\r\nquoted body\r\n")
	uv := regexp.MustCompile(`UIDVALIDITY (\d+)`).FindStringSubmatch(strings.Join(rc.cmd("a", "STATUS INBOX (UIDVALIDITY)"), "\n"))[1]
	if caps := rc.cmd("z", "CAPABILITY")[0] + " "; !strings.Contains(caps, " CATENATE ") || !strings.Contains(caps, " URL-PARTIAL ") {
		t.Errorf("CATENATE or URL-PARTIAL (RFC 5550 §5) not announced: %s", caps)
	}
	playScript(t, rc, `
		C: b CREATE Work
		S: b OK
		C: c APPEND Work (\Draft) CATENATE (URL "/INBOX;UIDVALIDITY=`+uv+`/;UID=1/;SECTION=HEADER.FIELDS%20(SUBJECT)" TEXT {7+}
		C: > reply URL "imap://`+user+`@imap.example/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=0.6")
		S: c OK [APPENDUID
		C: d EXAMINE Work
		S: ...
		S: d OK
		C: e FETCH 1 (FLAGS BODY.PEEK[])
		S: * 1 FETCH (FLAGS (\Draft \Recent) BODY[] {29}
		S: Subject: src
		S:
		S: > replyquoted)
		S: e OK
		C: f APPEND Work CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=1")
		S: f NO [BADURL /INBOX;UIDVALIDITY=1/;UID=1]
		C: g APPEND Work CATENATE (URL "/INBOX/;UID=9")
		S: g NO [BADURL
		C: h APPEND Work CATENATE (URL "imap://`+other+`@x/INBOX/;UID=1")
		S: h NO [BADURL
		C: i APPEND Work CATENATE (TEXT {300}
		S: i NO [TOOBIG]
		C: j APPEND Nowhere CATENATE (URL "/INBOX/;UID=1")
		S: j NO [TRYCREATE]
		C: k APPEND Work CATENATE ()
		S: k BAD
		C: l STATUS Work (MESSAGES)
		S: * STATUS Work (MESSAGES 1)
		S: l OK`)
}

func FuzzCatenateURL(f *testing.F) {
	for _, s := range []string{"/INBOX;UIDVALIDITY=3/;UID=1/;SECTION=1.2.MIME/;PARTIAL=1.5", "imap://u;AUTH=*@h:143/a%20b/;UID=7", "/x/;UID=1/;URLAUTH=anonymous", "imap://@/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if u, ok := parseCatenateURL(raw, "u"); ok && (u.uid == 0 || u.mailbox == "") {
			t.Fatalf("%q parsed without a UID or mailbox: %+v", raw, u)
		}
	})
}
