package imap

import (
	"slices"
	"strings"
	"testing"
)

// TestCmdACL: SETACL, DELETEACL, GETACL, LISTRIGHTS and MYRIGHTS (RFC 4314
// §3) by the owner and by a user holding some rights, with the refusals
// of §3 and §4.
func TestCmdACL(t *testing.T) {
	c := sharedCluster(t)
	alice := c.NewUser(t, "aclowner", password)
	bob := c.NewUser(t, "aclbob", password)
	carol := c.NewUser(t, "aclcarol", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, alice, `
		C: a CREATE Team
		S: a OK
		C: b SETACL Team `+bob+` lrs
		S: b OK
		C: c SETACL Team anyone +l
		S: c OK
		C: d SETACL Team -`+carol+` r
		S: d OK
		C: e GETACL Team
		S: * ACL Team `+alice+` lrswipkxteacd `+bob+` lrs anyone l -`+carol+` r
		S: e OK
		C: f SETACL Team `+bob+` +wa
		S: f OK
		C: g SETACL Team `+bob+` -s
		S: g OK
		C: h GETACL Team
		S: * ACL Team `+alice+` lrswipkxteacd `+bob+` lrwa anyone l -`+carol+` r
		S: h OK
		C: i MYRIGHTS Team
		S: * MYRIGHTS Team lrswipkxteacd
		S: i OK
		C: j LISTRIGHTS Team `+bob+`
		S: * LISTRIGHTS Team `+bob+` "" l r s w i p k x t e a c d
		S: j OK
		C: k LISTRIGHTS Team `+alice+`
		S: * LISTRIGHTS Team `+alice+` lrswipkxtea
		S: k OK
		C: l SETACL Team `+bob+` lrsz
		S: l BAD
		C: m SETACL Team not-an-address lr
		S: m BAD
		C: n SETACL Team nobody@example.test lr
		S: n NO [NONEXISTENT]
		C: o SETACL Nope `+bob+` lr
		S: o NO [NONEXISTENT]
		C: p DELETEACL Team -`+carol+`
		S: p OK
		C: q DELETEACL Team anyone
		S: q OK
		C: r GETACL Team
		S: * ACL Team `+alice+` lrswipkxteacd `+bob+` lrwa
		S: r OK
		C: s SETACL Team `+carol+` l
		S: s OK
		C: t SETACL INBOX `+alice+` l
		S: t OK
		C: u GETACL INBOX
		S: * ACL INBOX `+alice+` lrswipkxteacd
		S: u OK
		C: v DELETEACL Team
		S: v BAD
		C: w MYRIGHTS
		S: w BAD`)
	shared := "\"Other Users/" + alice + "/Team\""
	// bob holds a (and lrw): he may read and change the ACL.
	runScript(t, addr, bob, `
		C: a MYRIGHTS `+shared+`
		S: * MYRIGHTS `+shared+` lrwa
		S: a OK
		C: b GETACL `+shared+`
		S: * ACL `+shared+` `+alice+` lrswipkxteacd `+bob+` lrwa `+carol+` l
		S: b OK
		C: c SETACL `+shared+` `+carol+` +r
		S: c OK
		C: d LISTRIGHTS `+shared+` anyone
		S: * LISTRIGHTS `+shared+` anyone ""
		S: d OK
		C: e MYRIGHTS "Other Users/`+alice+`/INBOX"
		S: e NO [NONEXISTENT]`)
	// carol holds lr, not a.
	runScript(t, addr, carol, `
		C: a MYRIGHTS `+shared+`
		S: * MYRIGHTS `+shared+` lr
		S: a OK
		C: b GETACL `+shared+`
		S: b NO [NOPERM]
		C: c SETACL `+shared+` `+carol+` +a
		S: c NO [NOPERM]
		C: d DELETEACL `+shared+` `+bob+`
		S: d NO [NOPERM]
		C: e LISTRIGHTS `+shared+` `+carol+`
		S: e NO [NOPERM]`)
	// Once bob's a is taken away, his SETACL is refused (apply checks the
	// actor again at commit, mailbox/apply_acl_test.go).
	runScript(t, addr, alice, `
		C: a SETACL Team `+bob+` lr
		S: a OK`)
	runScript(t, addr, bob, `
		C: a SETACL `+shared+` `+bob+` +a
		S: a NO [NOPERM]`)
}

// TestCmdACLCapability: ACL and RIGHTS=texk are advertised once logged in
// (RFC 4314 §2.1.1, §3).
func TestCmdACLCapability(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "aclcap", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	caps := strings.Fields(rc.cmd("a", "CAPABILITY")[0])
	for _, want := range []string{"ACL", "RIGHTS=texk", "METADATA", "METADATA-SERVER"} {
		if !slices.Contains(caps, want) {
			t.Errorf("CAPABILITY lacks %s: %q", want, caps)
		}
	}
}
