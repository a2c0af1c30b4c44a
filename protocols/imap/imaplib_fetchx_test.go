package imap

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestImaplibFetchExtensions drives BINARY, MULTIAPPEND, PREVIEW,
// OBJECTID, SAVEDATE and WITHIN from Python's imaplib
// (testdata/imaplib_fetchx.py), a client written without knowledge of
// this server: the extended commands go out raw and its response parser
// reads the answers.
func TestImaplibFetchExtensions(t *testing.T) {
	python := needClient(t, "python3", "python3")
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibfetchx", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cert := writeCertPEM(t, c, home)
	script, err := filepath.Abs("testdata/imaplib_fetchx.py")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runClient(t, home, python, script, host, port, cert, user, password)
	if err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("imaplib: %v\n%s", err, out)
	}
}
