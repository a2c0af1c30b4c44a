package imap

import (
	"encoding/base64"
	"testing"
)

func TestCmdLoginAuthenticate(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "logincmd", password)
	_, plain, addr := c.serve(t, c.Nodes[0], nil)
	plainResp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	runScript(t, addr, "", `
		C: a LOGIN
		S: a BAD
		C: b AUTHENTICATE XOAUTH2
		S: b NO
		C: c AUTHENTICATE PLAIN
		S: +
		C: *
		S: c BAD
		C: d AUTHENTICATE PLAIN
		S: +
		C: `+plainResp+`
		S: d OK [CAPABILITY IMAP4rev1
		C: e AUTHENTICATE PLAIN
		S: e BAD`)
	runScript(t, addr, "", `
		C: a AUTHENTICATE PLAIN `+plainResp+`
		S: a OK [CAPABILITY
		C: b NOOP
		S: b OK`)
	// A literal as the password (RFC 9051 §4.3).
	runScript(t, addr, "", `
		C: a LOGIN `+user+` {`+itoa(len(password))+`}
		S: + Ready
		C: `+password+`
		S: a OK [CAPABILITY`)
	// Before TLS: refused, STARTTLS offered.
	playScript(t, dialRaw(t, plain, false), `
		C: a LOGIN `+user+` "`+password+`"
		S: a NO [PRIVACYREQUIRED]
		C: b STARTTLS
		S: b OK Begin TLS`)
}
