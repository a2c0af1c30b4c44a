package imap

import (
	"strings"
	"testing"
)

// TestCmdMetadata: SETMETADATA and GETMETADATA (RFC 5464 §4.2, §4.3) on a
// mailbox and on the server, with MAXSIZE, DEPTH, NIL for what is not
// set, deletion, and the refusals (bad entry names, a value too large).
func TestCmdMetadata(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "metadata", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, user, `
		C: a SETMETADATA INBOX (/private/comment "My comment" /shared/comment "Its sunny outside!")
		S: a OK
		C: b GETMETADATA INBOX (/private/comment /shared/comment)
		S: * METADATA INBOX (/private/comment "My comment" /shared/comment "Its sunny outside!")
		S: b OK
		C: c GETMETADATA inbox /Private/Comment
		S: * METADATA INBOX (/private/comment "My comment")
		S: c OK
		C: d SETMETADATA INBOX (/private/vendor/x/a "1" /private/vendor/x/a/b "2" /private/vendor/y {5+}
		C: hello)
		S: d OK
		C: e GETMETADATA (DEPTH 1) INBOX /private/vendor
		S: * METADATA INBOX (/private/vendor NIL /private/vendor/y "hello")
		S: e OK
		C: f GETMETADATA (DEPTH infinity) INBOX /private/vendor/x
		S: * METADATA INBOX (/private/vendor/x NIL /private/vendor/x/a "1" /private/vendor/x/a/b "2")
		S: f OK
		C: g GETMETADATA (MAXSIZE 3 DEPTH infinity) INBOX /private
		S: * METADATA INBOX (/private/vendor/x/a "1" /private/vendor/x/a/b "2")
		S: g OK [METADATA LONGENTRIES 10]
		C: h SETMETADATA INBOX (/private/comment NIL)
		S: h OK
		C: i GETMETADATA INBOX /private/comment
		S: * METADATA INBOX (/private/comment NIL)
		S: i OK
		C: j GETMETADATA INBOX /other/comment
		S: j BAD
		C: k SETMETADATA INBOX (/shared "x")
		S: k BAD
		C: l SETMETADATA INBOX (/private/a* "x")
		S: l BAD
		C: m SETMETADATA INBOX (/private/big {70000}
		S: m NO [METADATA MAXSIZE 65536]
		C: n SETMETADATA "" (/private/motd "hi")
		S: n OK
		C: o GETMETADATA "" /private/motd
		S: * METADATA "" (/private/motd "hi")
		S: o OK
		C: p SETMETADATA "" (/shared/motd "hi")
		S: p NO [NOPERM]
		C: q SETMETADATA Nope (/private/comment "x")
		S: q NO [NONEXISTENT]
		C: r GETMETADATA Nope /private/comment
		S: r NO [NONEXISTENT]
		C: s SETMETADATA INBOX (/private/comment "")
		S: s OK
		C: t GETMETADATA INBOX /private/comment
		S: * METADATA INBOX (/private/comment "")
		S: t OK`)
}

// TestCmdMetadataTooMany: past the entries of a scope, SETMETADATA is
// refused whole with [METADATA TOOMANY] (RFC 5464 §4.3).
func TestCmdMetadataTooMany(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "metatoomany", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	var b strings.Builder
	for i := range 129 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("/private/e" + itoa(i) + " \"v\"")
	}
	if r := last(rc.cmd("a", "SETMETADATA INBOX ("+b.String()+")")); !strings.HasPrefix(r, "a NO [METADATA TOOMANY]") {
		t.Fatalf("129 entries: %q", r)
	}
	if r := rc.cmd("b", "GETMETADATA INBOX /private/e0"); !strings.HasPrefix(r[0], "* METADATA INBOX (/private/e0 NIL)") {
		t.Fatalf("after a refused SETMETADATA: %q", r)
	}
}
