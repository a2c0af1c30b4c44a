package managesieve

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests drive sieve-connect (Debian package sieve-connect, a Perl
// ManageSieve client; .ci/run installs it) against the server: STARTTLS
// with the certificate verified, AUTHENTICATE PLAIN, upload, activate,
// list, download, check. Where it is not installed the test skips, except
// under CI, where that is a failure.

const clientTimeout = 60 * time.Second

func needSieveConnect(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sieve-connect")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sieve-connect is not installed (.ci/run installs Debian package sieve-connect)")
		}
		t.Skip("sieve-connect not installed (apt-get install sieve-connect)")
	}
	return path
}

// sieveConnect runs one sieve-connect action as testUser and returns its
// output and exit code.
func sieveConnect(t *testing.T, bin, home, addr, ca string, args ...string) (string, int) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	base := []string{"--server", host, "--port", port, "--nosrv", "--user", testUser,
		"--passwordfd", "0", "--authmech", "PLAIN", "--noclearauth", "--noclearchan",
		"--tlscafile", ca, "--tlshostname", "sieve.example.test"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Stdin = strings.NewReader(testPassword + "\n")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("sieve-connect %s: no result within %v\n%s", strings.Join(args, " "), clientTimeout, out.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("sieve-connect: %v", err)
	}
	return out.String(), 0
}

func TestSieveConnect(t *testing.T) {
	bin := needSieveConnect(t)
	ts := startServer(t, nil)
	home := t.TempDir()
	ca := filepath.Join(home, "server-cert.pem")
	der := ts.tls.Certificates[0].Certificate[0]
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	script := "require [\"fileinto\"];\r\nif header :contains \"Subject\" \"[proj]\" {\r\n  fileinto \"Projects\";\r\n}\r\n"
	local := filepath.Join(home, "proj.sieve")
	if err := os.WriteFile(local, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, code := sieveConnect(t, bin, home, ts.addr, ca, args...)
		if code != 0 {
			t.Fatalf("sieve-connect %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	run("--upload", "--localsieve", local, "--remotesieve", "proj")
	run("--activate", "--remotesieve", "proj")
	list := run("--list")
	var line string
	for _, l := range strings.Split(list, "\n") {
		if strings.Contains(l, "proj") {
			line = l
		}
	}
	if !strings.Contains(strings.ToLower(line), "active") {
		t.Fatalf("--list does not show proj active:\n%s", list)
	}
	if src, err := ts.scripts.Get(context.Background(), testUser, "proj"); err != nil || string(src) != script {
		t.Fatalf("stored script %q, %v", src, err)
	}
	if active := ts.scripts.activeOf(testUser); active != "proj" {
		t.Fatalf("active script %q", active)
	}
	back := filepath.Join(home, "back.sieve")
	run("--download", "--remotesieve", "proj", "--localsieve", back)
	if got, err := os.ReadFile(back); err != nil || string(got) != script {
		t.Fatalf("downloaded %q, %v", got, err)
	}
	// A script the server refuses: sieve-connect fails and says why.
	bad := filepath.Join(home, "bad.sieve")
	if err := os.WriteFile(bad, []byte("keep;\r\nsyntax error\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := sieveConnect(t, bin, home, ts.addr, ca, "--upload", "--localsieve", bad, "--remotesieve", "bad")
	if code == 0 || !strings.Contains(out, "line 2") {
		t.Fatalf("upload of a bad script: exit %d\n%s", code, out)
	}
	run("--deactivate")
	if active := ts.scripts.activeOf(testUser); active != "" {
		t.Fatalf("active script after --deactivate: %q", active)
	}
	run("--delete", "--remotesieve", "proj")
	if got := run("--list"); strings.Contains(got, "proj") {
		t.Fatalf("proj listed after --delete:\n%s", got)
	}
}
