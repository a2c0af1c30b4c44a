package clamd

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realClamd is a clamd(8) of the system (Debian's clamav-daemon) started
// by a test with a configuration and a signature database of its own: no
// freshclam, no download, no system service.
type realClamd struct {
	cmd    *exec.Cmd
	client *Client
	dir    string
}

// findBinary looks for a daemon's binary in PATH and the sbin directories
// (Debian installs clamd in /usr/sbin). Without it the test is skipped,
// unless CI=true: there its absence is a failure.
func findBinary(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (Debian: apt-get install clamav-daemon); CI=true requires it", name)
	}
	t.Skipf("%s is not installed (Debian: apt-get install clamav-daemon): skipping the test against the real daemon", name)
	return ""
}

// eicarNDB is an extended signature (ClamAV's .ndb: name, target type 0 =
// any file, offset *, hex) matching the EICAR test string anywhere.
func eicarNDB() string {
	return "Eicar-Test-Signature:0:*:" + hex.EncodeToString([]byte(eicar)) + "\n"
}

// startClamd starts clamd on a unix socket in a temporary directory with
// StreamMaxLength 1 MiB and waits until it answers PING.
func startClamd(t testing.TB) *realClamd {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real daemon")
	}
	bin := findBinary(t, "clamd")
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(db, "surat-test.ndb"), []byte(eicarNDB()), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`LocalSocket %s
DatabaseDirectory %s
TemporaryDirectory %s
LogFile %s
PidFile %s
Foreground yes
StreamMaxLength 1M
`, sock, db, dir, filepath.Join(dir, "clamd.log"), filepath.Join(dir, "clamd.pid"))), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clamd: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	c := &realClamd{cmd: cmd, client: &Client{Network: "unix", Address: sock}, dir: dir}
	deadline := time.Now().Add(2 * time.Minute) // loading signatures on a busy machine
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.client.Ping(ctx)
		cancel()
		if err == nil {
			return c
		}
		select {
		case werr := <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd exited: %v\n%s", werr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("clamd does not answer PING: %v", err)
		}
	}
}

// TestRealClamd: Debian's clamd, with the test's own EICAR signature,
// finds EICAR in a message (also in a base64 MIME attachment), passes a
// clean one, and refuses a stream past StreamMaxLength.
func TestRealClamd(t *testing.T) {
	d := startClamd(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := d.client.Scan(ctx, strings.NewReader(testMessage("Hello, nothing to see.")))
	if err != nil || res.Infected {
		t.Fatalf("clean message: %+v, %v", res, err)
	}
	res, err = d.client.Scan(ctx, strings.NewReader(testMessage("The file follows.\r\n"+eicar)))
	if err != nil || !res.Infected || !strings.HasPrefix(res.Signature, "Eicar-Test-Signature") {
		t.Fatalf("EICAR in the body: %+v, %v", res, err)
	}
	attached := "From: a@example.com\r\nTo: b@example.org\r\nSubject: file\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--b1\r\nContent-Type: application/octet-stream; name=eicar.com\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64Lines(eicar) + "--b1--\r\n"
	res, err = d.client.Scan(ctx, strings.NewReader(attached))
	if err != nil || !res.Infected {
		t.Fatalf("EICAR attached in base64: %+v, %v", res, err)
	}
	_, err = d.client.Scan(ctx, strings.NewReader(testMessage(strings.Repeat("0123456789abcdef", 1<<17)))) // 2 MiB
	if !errors.Is(err, ErrSizeLimit) {
		t.Fatalf("2 MiB past StreamMaxLength 1M: %v, want ErrSizeLimit", err)
	}
	if failure(err) != "message larger than clamd's StreamMaxLength" {
		t.Fatalf("failure(%v) = %q", err, failure(err))
	}
}
