package pop3

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests fetch with real, independent POP3 clients: fetchmail and
// getmail6 (Debian packages of those names, installed by .ci/run). Where a
// client is not installed the test skips, except under CI, where that is a
// failure. Mail is only ever delivered to files under t.TempDir(), never to
// an MTA.

// clientTimeout bounds every run of an external client, so a client that
// hangs on the server cannot hang go test.
const clientTimeout = 60 * time.Second

// needClient returns the path of the named client binary.
func needClient(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (.ci/run installs Debian package %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return path
}

// runClient runs a client with HOME set to home (so it reads and writes no
// file of the user running the tests) plus env, and returns its combined
// output and exit code (-1 when it could not run).
func runClient(t *testing.T, home string, env []string, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "HOME="+home), env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no result within %v\n%s", filepath.Base(bin), strings.Join(args, " "), clientTimeout, out.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return out.String(), 0
}

// writeCertPEM writes the test server's self-signed certificate to dir so a
// client can trust exactly it.
func writeCertPEM(t *testing.T, c *testCluster, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "server-cert.pem")
	der := c.TLS.Certificates[0].Certificate[0]
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// localFiles reads every regular file in dirs.
func localFiles(t *testing.T, dirs ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// lf is body as the clients write it locally: with LF line endings.
func lf(body []byte) []byte { return bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")) }

// countDelivered counts the local files that hold body (with LF line
// endings) byte for byte, after nothing but header fields a client may put
// in front (fetchmail's Received, getmail's Return-Path).
func countDelivered(files [][]byte, body []byte) int {
	want := lf(body)
	n := 0
	for _, f := range files {
		if bytes.HasSuffix(f, want) && onlyHeaderFields(f[:len(f)-len(want)]) {
			n++
		}
	}
	return n
}

// onlyHeaderFields reports whether b is a sequence of whole header field
// lines (RFC 5322 §2.2, folded lines included).
func onlyHeaderFields(b []byte) bool {
	for i, line := range strings.SplitAfter(string(b), "\n") {
		switch {
		case line == "":
		case !strings.HasSuffix(line, "\n"):
			return false
		case line[0] == ' ' || line[0] == '\t':
			if i == 0 {
				return false
			}
		default:
			name, _, ok := strings.Cut(line, ":")
			if !ok || name == "" || strings.ContainsAny(name, " \t") {
				return false
			}
		}
	}
	return true
}

// checkDelivered fails unless the local files are exactly bodies (as many
// copies of each as listed), in any order.
func checkDelivered(t *testing.T, what string, files [][]byte, bodies ...[]byte) {
	t.Helper()
	if len(files) != len(bodies) {
		t.Fatalf("%s: %d messages delivered locally, want %d:\n%q", what, len(files), len(bodies), files)
	}
	for i, b := range bodies {
		want := 0
		for _, o := range bodies {
			if bytes.Equal(o, b) {
				want++
			}
		}
		if n := countDelivered(files, b); n != want {
			t.Fatalf("%s: message %d delivered %d times, want %d; local files:\n%q", what, i+1, n, want, files)
		}
	}
}

// TestFetchmail fetches with fetchmail over STLS, the server's certificate
// verified against the test's CA file: in keep mode the messages stay on
// the server and a second run fetches only what is new (fetchmail's UIDL
// idfile); in no-keep mode every message is fetched and the INBOX is empty
// after QUIT.
func TestFetchmail(t *testing.T) {
	fetchmail := needClient(t, "fetchmail", "fetchmail")
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "fetchmail", password)
	m1, m2 := message("fetchmail one"), message("fetchmail two", "line", ".starts with a dot", "..two dots")
	m3 := message("fetchmail three", "From the start of a line", "end")
	c.Deliver(t, user, m1, m2, m3)
	_, addr := c.serve(t, n, nil)
	host, port, _ := net.SplitHostPort(addr)

	dir := t.TempDir()
	cert := writeCertPEM(t, c, dir)
	// The MDA writes each message to its own file: fetchmail runs it once
	// per message with the message on stdin.
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	mda := filepath.Join(dir, "mda.sh")
	if err := os.WriteFile(mda, []byte("#!/bin/sh\nexec cat > \"$(mktemp \""+out+"/msg.XXXXXXXX\")\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	// sslproto tls1.2+ without ssl: STLS is required (fetchmail(1)); the
	// server refuses USER before TLS anyway. sslcertck (the default since
	// 6.4) with sslcertfile: only the test certificate is trusted.
	// fetchmail matches the host name against the certificate's DNS names
	// only, not its IP address entry, hence sslcommonname.
	rc := filepath.Join(dir, "fetchmailrc")
	conf := fmt.Sprintf(`set no syslog
poll %s service %s protocol pop3 uidl timeout 30
  user "%s" password "%s"
  sslproto "tls1.2+" sslcertck sslcertfile "%s" sslcommonname "localhost"
  mda "%s"
`, host, port, user, password, cert, mda)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	idfile := filepath.Join(dir, "fetchids")
	// Run as root, fetchmail runs the MDA as $FETCHMAILUSER (else $LOGNAME,
	// $USER): name the user running the test, who owns dir.
	me, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"FETCHMAILHOME=" + dir, "FETCHMAILUSER=" + me.Username}
	run := func(wantCode int, mode ...string) string {
		t.Helper()
		args := append([]string{"-f", rc, "-i", idfile, "--pidfile", filepath.Join(dir, "pid"), "-v"}, mode...)
		got, code := runClient(t, dir, env, fetchmail, args...)
		// fetchmail(1) EXIT CODES: 0 mail retrieved, 1 no mail.
		if code != wantCode {
			t.Fatalf("fetchmail %s: exit %d, want %d\n%s", strings.Join(mode, " "), code, wantCode, got)
		}
		return got
	}

	// Keep mode: all three fetched, all three still on the server. In
	// keep mode fetchmail 6.4 reads with TOP n 99999999, which leaves
	// messages unread; RETR would mark them \Seen.
	transcript := run(0, "--keep")
	checkDelivered(t, "first --keep run", localFiles(t, out), m1, m2, m3)
	uids, flags := inbox(t, n, user)
	if len(uids) != 3 {
		t.Fatalf("server INBOX after --keep: %d messages, want 3", len(uids))
	}
	wantSeen := strings.Contains(transcript, "POP3> RETR ")
	for i, f := range flags {
		if seen := strings.Contains(strings.Join(f, " "), `\Seen`); seen != wantSeen {
			t.Errorf("message %d flags %v after fetchmail --keep: \\Seen %v, want %v", i+1, f, seen, wantSeen)
		}
	}
	// Nothing new: fetchmail knows every UIDL from its idfile.
	run(1, "--keep")
	checkDelivered(t, "second --keep run", localFiles(t, out), m1, m2, m3)
	// One new message: only it is fetched.
	m4 := message("fetchmail four")
	c.Deliver(t, user, m4)
	run(0, "--keep")
	checkDelivered(t, "--keep run after a delivery", localFiles(t, out), m1, m2, m3, m4)
	if uids, _ := inbox(t, n, user); len(uids) != 4 {
		t.Fatalf("server INBOX after the third --keep run: %d messages, want 4", len(uids))
	}

	// No-keep mode with --all: every message fetched (again) and deleted;
	// the INBOX is empty once fetchmail's QUIT is answered.
	run(0, "--nokeep", "--all")
	checkDelivered(t, "--nokeep --all run", localFiles(t, out), m1, m2, m3, m4, m1, m2, m3, m4)
	if uids, _ := inbox(t, n, user); len(uids) != 0 {
		t.Fatalf("server INBOX after --nokeep: UIDs %v, want none", uids)
	}
	// No-keep mode on new mail only: m5 fetched and deleted.
	m5 := message("fetchmail five")
	c.Deliver(t, user, m5)
	run(0, "--nokeep")
	if got := countDelivered(localFiles(t, out), m5); got != 1 {
		t.Fatalf("m5 delivered %d times, want once", got)
	}
	if uids, _ := inbox(t, n, user); len(uids) != 0 {
		t.Fatalf("server INBOX after the second --nokeep run: UIDs %v, want none", uids)
	}
	run(1, "--nokeep")
}

// TestGetmail fetches with getmail6 into a Maildir. getmail6's POP3
// retrievers have no STLS, and the server refuses USER before TLS, so it
// uses implicit TLS (--pop3s, RFC 8314 §3.3), the certificate verified
// against the test's CA file. With delete = false the messages stay and a
// second run fetches nothing (getmail's oldmail file of UIDLs); with
// delete = true they are deleted from the server.
func TestGetmail(t *testing.T) {
	getmail := needClient(t, "getmail", "getmail6")
	c := sharedCluster(t)
	n := c.Nodes[0]
	user := c.NewUser(t, "getmail", password)
	m1, m2 := message("getmail one"), message("getmail two", ".dot", "..dots", "")
	m3 := message("getmail three")
	c.Deliver(t, user, m1, m2, m3)
	_, addr := c.serve(t, n, func(cfg *Config) { cfg.ImplicitTLS = true })
	host, port, _ := net.SplitHostPort(addr)

	dir := t.TempDir()
	cert := writeCertPEM(t, c, dir)
	maildir := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(maildir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// getmail refuses to write a Maildir as root; it switches to the
	// destination's user instead, who must then reach the Maildir.
	deliverAs := ""
	if os.Geteuid() == 0 {
		deliverAs = "nobody"
		u, err := osuser.Lookup(deliverAs)
		if err != nil {
			t.Skipf("running as root and no user %q to deliver as: %v", deliverAs, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's, 0700
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []string{"", "cur", "new", "tmp"} {
			if err := os.Chown(filepath.Join(maildir, d), uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	getmaildir := filepath.Join(dir, "getmail")
	if err := os.Mkdir(getmaildir, 0o700); err != nil {
		t.Fatal(err)
	}
	// delivered_to and received off: the Maildir then holds the message
	// as served (with LF line endings) after getmail's Return-Path.
	writeRC := func(name string, readAll, del bool) string {
		t.Helper()
		rc := filepath.Join(getmaildir, name)
		conf := fmt.Sprintf(`[retriever]
type = SimplePOP3SSLRetriever
server = %s
port = %s
username = %s
password = %s
ca_certs = %s
timeout = 30

[destination]
type = Maildir
path = %s/
user = %s

[options]
verbose = 2
read_all = %t
delete = %t
delivered_to = false
received = false
`, host, port, user, password, cert, maildir, deliverAs, readAll, del)
		if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		return rc
	}
	run := func(rc string) string {
		t.Helper()
		out, code := runClient(t, dir, nil, getmail, "--getmaildir", getmaildir, "--rcfile", rc)
		if code != 0 || strings.Contains(out, "rror") {
			t.Fatalf("getmail --rcfile %s: exit %d\n%s", filepath.Base(rc), code, out)
		}
		return out
	}
	local := func() [][]byte { return localFiles(t, filepath.Join(maildir, "new"), filepath.Join(maildir, "cur")) }

	keep := writeRC("keep.rc", false, false)
	run(keep)
	checkDelivered(t, "first run, delete = false", local(), m1, m2, m3)
	for _, f := range local() {
		if bytes.HasPrefix(f, []byte("Received:")) || bytes.Contains(f, []byte("Delivered-To:")) {
			t.Fatalf("trace headers although disabled:\n%s", f)
		}
	}
	if uids, _ := inbox(t, n, user); len(uids) != 3 {
		t.Fatalf("server INBOX after delete = false: %d messages, want 3", len(uids))
	}
	// Nothing new (read_all = false).
	run(keep)
	checkDelivered(t, "second run, delete = false", local(), m1, m2, m3)
	m4 := message("getmail four")
	c.Deliver(t, user, m4)
	run(keep)
	checkDelivered(t, "run after a delivery", local(), m1, m2, m3, m4)

	// delete = true, read_all = true: all four fetched again and deleted.
	run(writeRC("delete.rc", true, true))
	checkDelivered(t, "run with delete = true", local(), m1, m2, m3, m4, m1, m2, m3, m4)
	if uids, _ := inbox(t, n, user); len(uids) != 0 {
		t.Fatalf("server INBOX after delete = true: UIDs %v, want none", uids)
	}
}
