package imap

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The imaplib tests drive the server from Python's imaplib, a client
// written without knowledge of this server. Each runs one script of
// testdata (imaplib_*.py), which shares its arguments, TLS set-up and
// checks with testdata/imaplibtest.py.

// runImaplib serves IMAP over implicit TLS from c's first node and runs
// testdata/script with python3 as `script HOST PORT CERT args...`, where
// CERT is the server's certificate for the script to trust, stdin (if not
// nil) on its standard input and HOME set to a temporary folder. It returns
// the script's standard output; a script that exits non-zero fails the
// test with its standard error.
func runImaplib(t *testing.T, c *testCluster, stdin []byte, script string, args ...string) string {
	t.Helper()
	python := needClient(t, "python3", "python3")
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cert := writeCertPEM(t, c, home)
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	// -B: no __pycache__ written into testdata.
	cmd := exec.CommandContext(ctx, python, append([]string{"-B", path, host, port, cert}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.WaitDelay = 5 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("imaplib %s: no result within %v\n%s%s", script, clientTimeout, stdout.String(), stderr.String())
	}
	if err != nil {
		t.Fatalf("imaplib %s: %v\n%s%s", script, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// wantImaplibOK runs a script with runImaplib and fails the test unless
// it prints "ok" and nothing else.
func wantImaplibOK(t *testing.T, c *testCluster, script string, args ...string) {
	t.Helper()
	if out := runImaplib(t, c, nil, script, args...); strings.TrimSpace(out) != "ok" {
		t.Fatalf("imaplib %s: %s", script, out)
	}
}

// TestImaplibCondstoreQresync drives CONDSTORE and QRESYNC (RFC 7162) from
// Python's imaplib (testdata/imaplib_condstore.py): the extended commands
// go out raw and its response parser reads the answers.
func TestImaplibCondstoreQresync(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibcond", password)
	wantImaplibOK(t, c, "imaplib_condstore.py", user, password)
}

// TestImaplibFetchExtensions drives BINARY, MULTIAPPEND, PREVIEW,
// OBJECTID, SAVEDATE and WITHIN from Python's imaplib
// (testdata/imaplib_fetchx.py): the extended commands go out raw and its
// response parser reads the answers.
func TestImaplibFetchExtensions(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibfetchx", password)
	wantImaplibOK(t, c, "imaplib_fetchx.py", user, password)
}

// TestImaplibACL drives ACL, shared folders and METADATA from Python's
// imaplib (testdata/imaplib_acl.py): its own ACL and NAMESPACE methods,
// raw commands for LISTRIGHTS and METADATA.
func TestImaplibACL(t *testing.T) {
	c := sharedCluster(t)
	alice := c.NewUser(t, "imaplibalice", password)
	bob := c.NewUser(t, "imaplibbob", password)
	wantImaplibOK(t, c, "imaplib_acl.py", alice, bob, password)
}

// TestImaplibContext drives CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267
// §4) from Python's imaplib (testdata/imaplib_context.py): SEARCH and
// SORT with RETURN (UPDATE) go out raw, and the ADDTO and REMOVEFROM
// updates another connection's changes cause are read from imaplib's
// untagged data.
func TestImaplibContext(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibcontext", password)
	wantImaplibOK(t, c, "imaplib_context.py", user, password)
}

// TestImaplibNotify drives NOTIFY (RFC 5465) from Python's imaplib
// (testdata/imaplib_notify.py): NOTIFY goes out raw, and the untagged
// STATUS the server sends unasked is read off the connection.
func TestImaplibNotify(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibnotify", password)
	wantImaplibOK(t, c, "imaplib_notify.py", user, password)
}

// TestImaplibPublicFolders drives public folders, the Shared/ namespace,
// from Python's imaplib (testdata/imaplib_public.py): its namespace,
// list, setacl and myrights methods.
func TestImaplibPublicFolders(t *testing.T) {
	c := sharedCluster(t)
	dom, pub := publicDomain(t, c) // public_test.go
	user := "imaplib@" + dom
	c.CreateUser(t, user, password)
	wantImaplibOK(t, c, "imaplib_public.py", pub, user, password)
}
