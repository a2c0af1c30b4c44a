package imap

import "testing"

func TestCmdAppend(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "appendcmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.AppendLimit = 100 })
	runScript(t, addr, user, `
		C: a APPEND INBOX (\Seen $Work) "05-Mar-2025 10:00:00 +0100" {10}
		S: + Ready
		C: Subject: x
		S: a OK [APPENDUID
		C: b APPEND INBOX {5+}
		C: hello
		S: b OK [APPENDUID
		C: c APPEND Nope {5}
		S: c NO [TRYCREATE]
		C: d APPEND INBOX {500}
		S: d NO [TOOBIG]
		C: e APPEND INBOX {6+}
		C: hello!
		S: e OK [APPENDUID
		C: f APPEND Nope {5+}
		C: hello
		S: f NO [TRYCREATE]
		C: g APPEND INBOX "bad date" {5}
		S: g BAD
		C: h NOOP
		S: h OK`)
}
