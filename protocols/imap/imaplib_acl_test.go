package imap

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestImaplibACL drives ACL, shared folders and METADATA from Python's
// imaplib (testdata/imaplib_acl.py), a client written without knowledge
// of this server: its own ACL and NAMESPACE methods, raw commands for
// LISTRIGHTS and METADATA.
func TestImaplibACL(t *testing.T) {
	python := needClient(t, "python3", "python3")
	c := sharedCluster(t)
	alice := c.NewUser(t, "imaplibalice", password)
	bob := c.NewUser(t, "imaplibbob", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cert := writeCertPEM(t, c, home)
	script, err := filepath.Abs("testdata/imaplib_acl.py")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runClient(t, home, python, script, host, port, cert, alice, bob, password)
	if err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("imaplib: %v\n%s", err, out)
	}
}
