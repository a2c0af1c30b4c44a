//go:build faults && linux

package faults_test

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/surat-mail/surat/cluster/faults"
)

// Disk full on one node, with real processes: its --data is a small
// tmpfs that a filler file eats. Below --min-free-space the node must
// refuse writes with a temporary error while the others carry on; below
// half of it the node falls behind; when the filler goes it must catch up
// by itself, and every acknowledged message must be on every node exactly
// once (cluster/diskguard.go has the design).
const (
	fullFS      = 512 << 20 // the tmpfs
	fullMinFree = 160 << 20 // --min-free-space of the node on it; the reserve is half
)

// freeBytes is the space an unprivileged writer may still use under dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatalf("statfs %s: %v", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// fill grows (or shrinks) the filler so that about leave bytes stay free.
func fill(t *testing.T, dir string, leave int64) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	current := int64(0)
	if fi, err := os.Stat(path); err == nil {
		current = fi.Size()
	}
	size := max(current+freeBytes(t, dir)-leave, 0)
	// A fresh file each time: fallocate only grows.
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if out, err := exec.Command("fallocate", "-l", strconv.FormatInt(size, 10), path).CombinedOutput(); err != nil {
		t.Fatalf("fallocate: %v: %s", err, out)
	}
}

// smtpReply sends one message to addr and returns the first failing reply
// (or "250" when accepted).
func smtpReply(ctx context.Context, t faults.Target, rcpt string) string {
	dial := t.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := dial(ctx, "tcp", t.Addr)
	if err != nil {
		return "connect: " + err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	if err := c.Mail("probe@example.org"); err != nil {
		return err.Error()
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err.Error()
	}
	w, err := c.Data()
	if err != nil {
		return err.Error()
	}
	fmt.Fprintf(w, "Subject: disk probe\r\nMessage-ID: <probe-%d@example.org>\r\n\r\nprobe\r\n", time.Now().UnixNano())
	if err := w.Close(); err != nil {
		return err.Error()
	}
	return "250"
}

func TestDiskFullNode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if _, err := exec.LookPath("fallocate"); err != nil {
		t.Skip("fallocate (util-linux) not installed")
	}
	ctx := t.Context()
	dir := t.TempDir()
	full := filepath.Join(dir, "n3")
	if err := os.MkdirAll(full, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(fullFS), "tmpfs", full).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	// Registered before the cluster's cleanup, so it runs after the nodes
	// are gone.
	t.Cleanup(func() { _ = exec.Command("umount", "-l", full).Run() })

	c, err := faults.New(t, faults.Options{Dir: dir, KeepLogsDir: t.ArtifactDir(), Node: func(i int) faults.NodeSpec {
		if i == 2 {
			return faults.NodeSpec{ExtraArgs: []string{"--min-free-space", strconv.Itoa(fullMinFree)}}
		}
		return faults.NodeSpec{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := bounded(ctx, c.WaitReady); err != nil {
		t.Fatalf("cluster did not come up: %v", err)
	}
	n3 := c.Node("n3")
	if n3.DataDir() != full {
		t.Fatalf("n3's data is in %s, not on the tmpfs %s", n3.DataDir(), full)
	}

	runID := randomID()
	var accounts []faults.Account
	var recipients []string
	for i := 1; i <= recipientsPerRound; i++ {
		a := faults.Account{Address: fmt.Sprintf("disk%d@example.test", i), Password: "pw-" + runID}
		if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, a.Address, a.Password) }); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a)
		recipients = append(recipients, a.Address)
	}
	// Probes go to an account of their own: they are not in the ledger,
	// and the mail check reads only the ledger's recipients.
	probe := "diskprobe@example.test"
	if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, probe, "pw-"+runID) }); err != nil {
		t.Fatal(err)
	}
	ledger := faults.NewLedger()
	phase := 0
	var mu sync.Mutex
	startLoad := func() func() {
		mu.Lock()
		phase++
		round := phase
		mu.Unlock()
		load := &faults.SMTPLoad{Targets: c.SMTPTargets, Recipients: recipients, MultiRcptEvery: 5,
			Senders: 4, Ledger: ledger, Round: round, RunID: runID}
		lctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); load.Run(lctx) }()
		return func() { cancel(); wg.Wait() }
	}

	// Phase 1, healthy.
	stop := startLoad()
	time.Sleep(time.Second)
	stop()
	t.Logf("healthy: smtp %s; %d MiB free on n3's tmpfs", ledger.Counts(1), freeBytes(t, full)>>20)

	// Phase 2, low: n3 refuses writes with 452 4.3.1 and is not ready; the
	// others carry on, under load.
	fill(t, full, fullMinFree-20<<20)
	notReady, err := waitFor(ctx, func() (bool, error) {
		ready, err := n3.Ready(ctx)
		return err == nil && !ready, nil
	})
	if err != nil || !notReady {
		t.Fatalf("n3 with %d MiB free (minimum %d MiB) still ready: %v", freeBytes(t, full)>>20, fullMinFree>>20, err)
	}
	stop = startLoad()
	reply := smtpReply(ctx, n3.SMTPTarget(), probe)
	time.Sleep(time.Second)
	stop()
	low := ledger.Counts(2)
	t.Logf("low (%d MiB free): n3 answers %q; smtp to every node %s", freeBytes(t, full)>>20, reply, low)
	// net/smtp quotes the text after the code.
	if !strings.HasPrefix(strings.ReplaceAll(reply, `"`, ""), "452 4.3.1") {
		t.Errorf("a message through n3 while low: %q, want 452 4.3.1", reply)
	}
	if low.Acked == 0 {
		t.Errorf("no message acknowledged by the other nodes while n3 was low: %s", low)
	}

	// Phase 3, critical: n3 stops applying and falls behind; the others
	// still acknowledge.
	fill(t, full, fullMinFree/2-30<<20)
	stop = startLoad()
	time.Sleep(2 * time.Second)
	stop()
	critical := ledger.Counts(3)
	st, _ := c.Node("n1").Status(ctx)
	t.Logf("critical (%d MiB free): smtp %s; cluster %+v", freeBytes(t, full)>>20, critical, st.Members)
	if critical.Acked == 0 {
		t.Errorf("no message acknowledged while n3 was critical: %s", critical)
	}
	if !n3.Running() {
		t.Fatalf("n3 exited on a full disk; its log:\n%s", n3.LogTail(30))
	}

	// Phase 4, space returns: n3 catches up by itself, without a restart.
	if err := os.Remove(filepath.Join(full, "filler")); err != nil {
		t.Fatal(err)
	}
	recovered := time.Now()
	if _, err := bounded(ctx, c.WaitReady); err != nil {
		t.Fatalf("n3 not ready after the filler went: %v", err)
	}
	digest, err := bounded(ctx, c.WaitConverged)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("space back: converged at index %d (digest %.12s) %v later", digest.AppliedIndex, digest.Digest, time.Since(recovered).Round(time.Millisecond))
	if reply := smtpReply(ctx, n3.SMTPTarget(), probe); reply != "250" {
		t.Errorf("a message through n3 once space returned: %q", reply)
	}
	if !n3.Running() {
		t.Errorf("n3 is not the process that filled up: it exited meanwhile")
	}

	mail, err := bounded(ctx, func(ctx context.Context) (faults.MailReport, error) {
		return faults.CheckMail(ctx, c.IMAPTargets(), accounts, ledger)
	})
	if err != nil {
		t.Fatalf("mail check: %v", err)
	}
	t.Logf("mail check: %d nodes, %d INBOX messages, unacknowledged present %v, %d problems",
		mail.Nodes, mail.Messages, describePresent(mail.Present), len(mail.Problems))
	var problems []string
	for r := 1; r <= 3; r++ {
		problems = append(problems, ledger.Problems(r)...)
	}
	problems = append(problems, mail.Problems...)
	reportProblems(t, "disk full", filepath.Join(t.ArtifactDir(), "diskfull-problems.txt"), problems)
}
