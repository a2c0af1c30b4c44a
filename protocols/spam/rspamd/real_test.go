package rspamd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/clustertest"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// testRules are the custom rules of the real-daemon test: a Lua rule
// whose score passes the reject threshold for one subject, one that
// passes add header for another, and a prefilter that soft-rejects a
// third.
const testRules = `
rspamd_config.SURAT_TEST_REJECT = {
  callback = function(task)
    local subj = task:get_subject() or ""
    return subj:find("reject me", 1, true) ~= nil
  end,
  score = 100.0,
  description = "Surat test: reject by subject",
}
rspamd_config.SURAT_TEST_JUNK = {
  callback = function(task)
    local subj = task:get_subject() or ""
    return subj:find("junk me", 1, true) ~= nil
  end,
  score = 8.0,
  description = "Surat test: add header by subject",
}
rspamd_config:register_symbol{
  name = "SURAT_TEST_LATER",
  type = "prefilter",
  priority = 10,
  callback = function(task)
    local subj = task:get_subject() or ""
    if subj:find("later please", 1, true) then
      task:set_pre_result("soft reject", "Try again later (Surat test)")
    end
  end,
}
`

// realRspamd is Debian's rspamd started by a test: one normal worker on
// a loopback port, only the test's rules (no stock modules, so no DNS and
// no Redis), everything in a temporary directory.
type realRspamd struct {
	cmd  *exec.Cmd
	done chan error
	url  string
	dir  string
}

func findRspamd(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("rspamd"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("rspamd is not installed (Debian: apt-get install rspamd); CI=true requires it")
	}
	t.Skip("rspamd is not installed (Debian: apt-get install rspamd): skipping the test against the real daemon")
	return ""
}

func startRspamd(t testing.TB) *realRspamd {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real daemon")
	}
	bin := findRspamd(t)
	dir := t.TempDir()
	port := clustertest.FreePorts(t, 1)[0]
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rules := write("rules.lua", testRules)
	// A short public-suffix list: the stock one takes a minute to compile.
	tld := write("tld.dat", "com\norg\nnet\ntest\nexample\n")
	conf := write("rspamd.conf", fmt.Sprintf(`options {
  pidfile = "%[1]s/rspamd.pid";
  hs_cache_dir = "%[1]s/";
  disable_hyperscan = true;
  tempdir = "%[1]s";
  url_tld = "%[2]s";
  dns { nameserver = ["127.0.0.1:9"]; timeout = 0.2s; retransmits = 1; }
}
logging { type = "file"; filename = "%[1]s/rspamd.log"; level = "info"; }
worker "normal" { bind_socket = "127.0.0.1:%[3]d"; count = 1; mime = true; }
actions { reject = 15; add_header = 6; greylist = 4; }
lua = "%[4]s"
`, dir, tld, port, rules))
	// -f: in the foreground; -i: as root too (a test container); the
	// variables keep every default path inside dir.
	cmd := exec.Command(bin, "-f", "-i", "-c", conf,
		"--var", "DBDIR="+dir, "--var", "RUNDIR="+dir, "--var", "LOGDIR="+dir, "--var", "LOCAL_CONFDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers die with it
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rspamd: %v", err)
	}
	r := &realRspamd{cmd: cmd, done: make(chan error, 1), url: fmt.Sprintf("http://127.0.0.1:%d", port), dir: dir}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(r.kill)
	c, err := Parse(r.url)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute) // loading its language models on a busy machine
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.Ping(ctx)
		cancel()
		if err == nil {
			return r
		}
		select {
		case werr := <-r.done:
			r.done <- werr
			log, _ := os.ReadFile(filepath.Join(dir, "rspamd.log"))
			t.Fatalf("rspamd exited: %v\n%s", werr, tail(string(log), 2000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rspamd does not answer /ping: %v", err)
		}
	}
}

// kill stops the daemon: SIGTERM, so that it stops and reaps its
// workers; its whole process group is killed if it has not exited within
// ten seconds.
func (r *realRspamd) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-r.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		err = <-r.done
	}
	r.done <- err
}

// killWorkers kills the daemon's worker processes at once (SIGKILL), as a
// crash would, leaving the main process to reap them.
func (r *realRspamd) killWorkers(t *testing.T) {
	pid := r.cmd.Process.Pid
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		t.Fatalf("rspamd's workers: %v", err)
	}
	for _, f := range strings.Fields(string(data)) {
		var child int
		if _, err := fmt.Sscan(f, &child); err == nil {
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestRealRspamd: Debian's rspamd with the test's rules rejects a message
// by its custom rule (550 5.7.1), soft-rejects one (451 4.7.1 with its
// message), junks one (add header) and passes a clean one; when its
// worker is killed in the middle of a message, and once rspamd is
// stopped, messages get a temporary failure, never a pass.
func TestRealRspamd(t *testing.T) {
	d := startRspamd(t)
	c, err := Parse(d.url)
	if err != nil {
		t.Fatal(err)
	}
	check := NewCheck(Config{Client: c, MTAName: "mx.surat.test"})
	for _, tc := range []struct {
		subject string
		action  pipeline.Action
		code    int
		text    string
	}{
		{"please reject me now", pipeline.Refuse, 550, "Spam message rejected"},
		{"later please", pipeline.Refuse, 451, "Try again later (Surat test)"},
		{"junk me", pipeline.Junk, 0, ""},
		{"lunch on thursday", pipeline.Deliver, 0, ""},
	} {
		res, err := runCheck(t, check, mx, testMessage(tc.subject, "Hello there."), 30*time.Second)
		if err != nil || res.Action != tc.action {
			t.Fatalf("%q: %+v, %v; want %v", tc.subject, res, err, tc.action)
		}
		if tc.code != 0 && (res.Reply.Code != tc.code || res.Reply.Text != tc.text) {
			t.Fatalf("%q: reply %v, want %d %s", tc.subject, res.Reply, tc.code, tc.text)
		}
		if tc.action == pipeline.Refuse && tc.code == 550 && !strings.Contains(strings.Join(res.Notes, " "), "SURAT_TEST_REJECT") {
			t.Fatalf("%q: notes %q do not name the rule", tc.subject, res.Notes)
		}
	}

	// Killed in the middle of a message.
	ctx := context.Background()
	runs, err := pipeline.Start(ctx, []pipeline.Check{check}, mx)
	if err != nil {
		t.Fatal(err)
	}
	msg := testMessage("junk me", strings.Repeat("a line of the body\r\n", 20000))
	r := runs.Reader(strings.NewReader(msg))
	if _, err := io.CopyN(io.Discard, r, int64(len(msg)/2)); err != nil {
		t.Fatal(err)
	}
	d.killWorkers(t)
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	res, err := runs.Finish(fctx)
	cancel()
	if err == nil {
		t.Fatalf("rspamd killed mid-message: %+v and no error", res)
	}
	// Down: the next message too.
	d.kill()
	if res, err := runCheck(t, check, mx, testMessage("x", "y"), 30*time.Second); err == nil {
		t.Fatalf("rspamd down: %+v and no error", res)
	}
}
