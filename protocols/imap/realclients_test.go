package imap

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// These tests drive real, independent IMAP clients: mbsync (Debian package
// isync) and curl, both installed by .ci/run. Where a client is not
// installed the test skips, except under CI, where that is a failure.

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
// file of the user running the tests) and returns its combined output and
// exit error.
func runClient(t *testing.T, home, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: no result within %v\n%s", filepath.Base(bin), strings.Join(args, " "), clientTimeout, out.String())
	}
	return out.String(), err
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

// maildirMsg is one message file of a local Maildir folder.
type maildirMsg struct {
	path  string // current path
	flags string // Maildir info flags after ":2,"
	body  []byte
}

// readMaildir lists the messages of a Maildir folder (new/ and cur/).
func readMaildir(t *testing.T, dir string) []maildirMsg {
	t.Helper()
	var out []maildirMsg
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatalf("maildir %s: %v", dir, err)
		}
		for _, e := range entries {
			p := filepath.Join(dir, sub, e.Name())
			body, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			flags := ""
			if _, f, ok := strings.Cut(e.Name(), ":2,"); ok {
				flags = f
			}
			out = append(out, maildirMsg{path: p, flags: flags, body: body})
		}
	}
	return out
}

// lf is body as a Maildir holds it: mbsync stores LF line endings.
func lf(body []byte) []byte { return bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")) }

// stripTUID drops the X-TUID header mbsync may add to messages it
// propagates, so bodies can be compared byte for byte otherwise.
func stripTUID(body []byte) []byte {
	var out []byte
	for line := range bytes.Lines(body) {
		if bytes.HasPrefix(line, []byte("X-TUID: ")) {
			continue
		}
		out = append(out, line...)
	}
	return out
}

// findMaildir returns the message of msgs whose content is body (LF, with
// any X-TUID header ignored).
func findMaildir(msgs []maildirMsg, body []byte) (maildirMsg, bool) {
	want := lf(body)
	for _, m := range msgs {
		if bytes.Equal(stripTUID(m.body), want) {
			return m, true
		}
	}
	return maildirMsg{}, false
}

// setMaildirFlags renames m into cur/ with the given Maildir flags, as a
// local mail client marking it does.
func setMaildirFlags(t *testing.T, m maildirMsg, flags string) {
	t.Helper()
	base, _, _ := strings.Cut(filepath.Base(m.path), ":2,")
	folder := filepath.Dir(filepath.Dir(m.path))
	if err := os.Rename(m.path, filepath.Join(folder, "cur", base+":2,"+flags)); err != nil {
		t.Fatal(err)
	}
}

// serverMsg is one message as the server reports it over IMAP.
type serverMsg struct {
	uid   imap.UID
	flags []imap.Flag
	body  []byte
}

// serverMailbox selects name on cl and fetches every message with its flags
// and full body (BODY.PEEK, so \Seen is not set by looking).
func serverMailbox(t *testing.T, cl *imapclient.Client, name string) []serverMsg {
	t.Helper()
	d := mustSelect(t, cl, name)
	if d.NumMessages == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs := fetchAll(t, cl, imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{section}})
	var out []serverMsg
	for _, m := range msgs {
		out = append(out, serverMsg{uid: m.UID, flags: m.Flags, body: m.FindBodySection(section)})
	}
	return out
}

func (m serverMsg) String() string {
	return fmt.Sprintf("UID %d %v %q", m.uid, m.flags, m.body)
}

func findServer(msgs []serverMsg, body []byte) (serverMsg, bool) {
	for _, m := range msgs {
		if bytes.Equal(m.body, body) {
			return m, true
		}
	}
	return serverMsg{}, false
}

// TestMbsync syncs one account both ways with mbsync over STARTTLS (AUTH
// PLAIN through SASL, the server's self-signed certificate trusted from a
// file): the first sync downloads every mailbox; local changes (a new
// message, \Seen, a deletion expunged) reach the server; server changes (a
// new message, \Flagged, an expunge, a new mailbox) reach the Maildir.
func TestMbsync(t *testing.T) {
	mbsync := needClient(t, "mbsync", "isync")
	c, addr := sharedServer(t)
	user := c.NewUser(t, "mbsync", password)
	cl, _ := dial(t, addr, user)

	m1, m2, m3 := msg("mbsync one", "first"), msg("mbsync two", "second"), msg("mbsync three", "third\r\n.\r\nwith a dot line")
	c.Nodes[0].Deliver(t, user, m1)
	appendMsg(t, cl, "INBOX", m2)
	appendMsg(t, cl, "INBOX", m3)
	sent := msg("mbsync sent", "in Sent")
	appendMsg(t, cl, "Sent", sent, imap.FlagSeen)

	dir := t.TempDir()
	cert := writeCertPEM(t, c, dir)
	host, port, _ := net.SplitHostPort(addr)
	local := filepath.Join(dir, "mail")
	if err := os.Mkdir(local, 0o700); err != nil {
		t.Fatal(err)
	}
	// isync 1.4 syntax (SSLType; 1.5 renames it TLSType and keeps the old
	// name). SystemCertificates no: trust the test certificate only.
	rc := filepath.Join(dir, "mbsyncrc")
	conf := fmt.Sprintf(`IMAPAccount surat
Host %s
Port %s
User %s
Pass "%s"
SSLType STARTTLS
SystemCertificates no
CertificateFile %s

IMAPStore remote
Account surat

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel surat
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
Sync All
SyncState *
`, host, port, user, password, cert, local, local)
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	sync := func(what string) {
		t.Helper()
		out, err := runClient(t, dir, mbsync, "-c", rc, "-a")
		if err != nil {
			t.Fatalf("mbsync (%s): %v\n%s", what, err, out)
		}
	}

	// 1. Server to an empty Maildir: every mailbox, every message byte for
	// byte (LF line endings, as Maildir keeps them).
	sync("first")
	for _, name := range []string{"Sent", "Drafts", "Trash", "Junk", "Archive"} {
		if _, err := os.Stat(filepath.Join(local, name, "cur")); err != nil {
			t.Errorf("mailbox %s not created locally: %v", name, err)
		}
	}
	inboxDir := filepath.Join(local, "INBOX")
	got := readMaildir(t, inboxDir)
	if len(got) != 3 {
		t.Fatalf("local INBOX has %d messages after the first sync, want 3", len(got))
	}
	var l1, l2 maildirMsg
	for i, m := range [][]byte{m1, m2, m3} {
		lm, ok := findMaildir(got, m)
		if !ok {
			t.Fatalf("message %d not in the local INBOX byte for byte; have:\n%q", i+1, got)
		}
		if strings.Contains(lm.flags, "S") {
			t.Errorf("message %d is seen locally (%q) but not on the server", i+1, lm.flags)
		}
		switch i {
		case 0:
			l1 = lm
		case 1:
			l2 = lm
		}
	}
	if lm, ok := findMaildir(readMaildir(t, filepath.Join(local, "Sent")), sent); !ok || lm.flags != "S" {
		t.Fatalf("Sent message locally: found %v, flags %q (want S)", ok, lm.flags)
	}

	// 2. Local changes: a new message, m1 read, m2 deleted (T, expunged by
	// Expunge Both).
	newLocal := []byte("From: <me@example.test>\nTo: <you@remote.test>\nSubject: mbsync local\nMessage-ID: <mbsync-local@example.test>\n\nwritten locally\n")
	if err := os.WriteFile(filepath.Join(inboxDir, "new", fmt.Sprintf("%d.local.test", time.Now().UnixNano())), newLocal, 0o600); err != nil {
		t.Fatal(err)
	}
	setMaildirFlags(t, l1, "S")
	setMaildirFlags(t, l2, "T")
	sync("local changes")

	srv := serverMailbox(t, cl, "INBOX")
	if len(srv) != 3 {
		t.Fatalf("server INBOX has %d messages after the local changes, want 3 (m1, m3, the local one)", len(srv))
	}
	if s, ok := findServer(srv, m1); !ok || !hasFlagList(s.flags, imap.FlagSeen) {
		t.Errorf("m1 on the server: found %v, flags %v (want \\Seen)", ok, s.flags)
	}
	if _, ok := findServer(srv, m2); ok {
		t.Error("m2, deleted locally, is still on the server")
	}
	if s, ok := findServer(srv, m3); !ok || hasFlagList(s.flags, imap.FlagSeen) {
		t.Errorf("m3 on the server: found %v, flags %v (want unseen)", ok, s.flags)
	}
	wantUp := bytes.ReplaceAll(newLocal, []byte("\n"), []byte("\r\n"))
	uploaded := false
	for _, s := range srv {
		if bytes.Equal(stripTUID(s.body), wantUp) {
			uploaded = true
		}
	}
	if !uploaded {
		t.Errorf("the local message is not on the server with CRLF line endings; server has:\n%v", srv)
	}
	if got := readMaildir(t, inboxDir); len(got) != 3 {
		t.Errorf("local INBOX has %d messages after the expunge, want 3", len(got))
	}

	// 3. Server changes: a new message, m3 flagged, m1 expunged, a new
	// mailbox with a message in it.
	m4 := msg("mbsync four", "from the server")
	appendMsg(t, cl, "INBOX", m4)
	s1, _ := findServer(srv, m1)
	s3, _ := findServer(srv, m3)
	mustSelect(t, cl, "INBOX")
	if err := cl.Store(imap.UIDSetNum(s3.uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatalf("STORE \\Flagged: %v", err)
	}
	if err := cl.Store(imap.UIDSetNum(s1.uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatalf("STORE \\Deleted: %v", err)
	}
	if err := cl.UIDExpunge(imap.UIDSetNum(s1.uid)).Close(); err != nil {
		t.Fatalf("UID EXPUNGE: %v", err)
	}
	if err := cl.Create("Projects/Surat", nil).Wait(); err != nil {
		t.Fatalf("CREATE: %v", err)
	}
	m5 := msg("mbsync project", "in a new mailbox")
	appendMsg(t, cl, "Projects/Surat", m5, imap.FlagFlagged)
	sync("server changes")

	got = readMaildir(t, inboxDir)
	if len(got) != 3 {
		t.Errorf("local INBOX has %d messages after the server changes, want 3 (m3, the local one, m4)", len(got))
	}
	if _, ok := findMaildir(got, m1); ok {
		t.Error("m1, expunged on the server, is still in the local INBOX")
	}
	if _, ok := findMaildir(got, m4); !ok {
		t.Error("m4, appended on the server, is not in the local INBOX byte for byte")
	}
	if lm, ok := findMaildir(got, m3); !ok || !strings.Contains(lm.flags, "F") {
		t.Errorf("m3 locally: found %v, flags %q (want F)", ok, lm.flags)
	}
	if lm, ok := findMaildir(readMaildir(t, filepath.Join(local, "Projects", "Surat")), m5); !ok || lm.flags != "F" {
		t.Errorf("Projects/Surat message locally: found %v, flags %q (want F)", ok, lm.flags)
	}

	// 4. Nothing changed: a sync is a no-op on both sides.
	sync("no changes")
	if got := readMaildir(t, inboxDir); len(got) != 3 {
		t.Errorf("local INBOX has %d messages after an idle sync, want 3", len(got))
	}
	if srv := serverMailbox(t, cl, "INBOX"); len(srv) != 3 {
		t.Errorf("server INBOX has %d messages after an idle sync, want 3", len(srv))
	}
}

// TestCurl reads and writes a mailbox with curl's IMAP support: a message
// fetched by UID byte for byte, over STARTTLS and over implicit TLS, with
// the certificate verified against the test's CA file; LIST with the
// special-use attributes; SEARCH; an upload (APPEND); a wrong password
// refused.
func TestCurl(t *testing.T) {
	curl := needClient(t, "curl", "curl")
	c := sharedCluster(t)
	_, addr, implicit := c.serve(t, c.Nodes[0], nil)
	user := c.NewUser(t, "curl", password)
	cl, _ := dial(t, addr, user)
	m1 := msg("curl one", "first")
	m2 := msg("curl two", "second\r\n..dot-stuffed? no: IMAP literals are not stuffed")
	a1 := appendMsg(t, cl, "INBOX", m1)
	a2 := appendMsg(t, cl, "INBOX", m2)

	dir := t.TempDir()
	cert := writeCertPEM(t, c, dir)
	base := "imap://" + addr
	run := func(args ...string) string {
		t.Helper()
		all := append([]string{"--silent", "--show-error", "--ssl-reqd", "--cacert", cert, "--user", user + ":" + password}, args...)
		out, err := runClient(t, dir, curl, all...)
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	for _, tc := range []struct {
		url  string
		want []byte
	}{
		{fmt.Sprintf("%s/INBOX;UID=%d", base, a1.UID), m1},
		{fmt.Sprintf("%s/INBOX;UID=%d", base, a2.UID), m2},
		{fmt.Sprintf("imaps://%s/INBOX;UID=%d", implicit, a2.UID), m2},
		{fmt.Sprintf("%s/INBOX;UID=%d;SECTION=TEXT", base, a1.UID), []byte("first\r\n")},
	} {
		if got := run(tc.url); got != string(tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.url, got, tc.want)
		}
	}

	// LIST "" * (curl's default for a URL without a mailbox) shows every
	// mailbox with its RFC 6154 attribute.
	list := run(base + "/")
	for _, want := range []string{`"/" INBOX`, `\Sent`, `\Drafts`, `\Trash`, `\Junk`, `\Archive`} {
		if !strings.Contains(list, want) {
			t.Errorf("LIST lacks %s:\n%s", want, list)
		}
	}
	if custom := run(base+"/", "--request", `LIST "" "S*"`); !strings.Contains(custom, "Sent") || strings.Contains(custom, "INBOX") {
		t.Errorf(`LIST "" "S*":`+"\n%s", custom)
	}

	// SEARCH in the selected mailbox: the query is the URL's.
	if got := strings.TrimSpace(run(base + "/INBOX?SUBJECT%20%22curl%20two%22")); got != "* SEARCH 2" {
		t.Errorf("SEARCH SUBJECT: %q, want \"* SEARCH 2\"", got)
	}
	// Fetching by UID marked m1 \Seen (curl uses BODY[], not BODY.PEEK[]).
	if got := strings.TrimSpace(run(base + "/INBOX?UNSEEN")); got != "* SEARCH" {
		t.Errorf("SEARCH UNSEEN after fetching both: %q, want \"* SEARCH\"", got)
	}

	// An upload is an APPEND; the stored message is the file byte for byte.
	up := msg("curl upload", "uploaded by curl")
	upFile := filepath.Join(dir, "upload.eml")
	if err := os.WriteFile(upFile, up, 0o600); err != nil {
		t.Fatal(err)
	}
	run("--upload-file", upFile, base+"/Drafts")
	drafts := serverMailbox(t, cl, "Drafts")
	if len(drafts) != 1 || !bytes.Equal(drafts[0].body, up) {
		t.Errorf("Drafts after curl's upload: %v", drafts)
	} else if got := run(fmt.Sprintf("%s/Drafts;UID=%d", base, drafts[0].uid)); got != string(up) {
		t.Errorf("uploaded message fetched back:\n got %q\nwant %q", got, up)
	}

	// A wrong password: curl exits 67 (CURLE_LOGIN_DENIED).
	out, err := runClient(t, dir, curl, "--silent", "--show-error", "--ssl-reqd", "--cacert", cert,
		"--user", user+":wrong", base+"/INBOX;UID=1")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 67 {
		t.Errorf("wrong password: %v (want exit 67)\n%s", err, out)
	}
}
