package imap

import (
	"strings"
	"testing"
)

func TestCmdID(t *testing.T) {
	c := sharedCluster(t)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: a ID ("name" "imaptest" "version" "1.0")
		S: * ID ("name" "Surat")
		S: a OK
		C: b ID NIL
		S: * ID ("name" "Surat")
		S: b OK
		C: c ID ("name")
		S: c BAD
		C: d ID ("`+strings.Repeat("x", 31)+`" "v")
		S: d BAD
		C: e NOOP
		S: e OK`)
}
