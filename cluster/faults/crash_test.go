//go:build faults

package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/faults"
)

// Crash consistency: kill -9 at points where a node rewrites its state
// wholesale — while it installs a snapshot from the leader, and while it
// takes one of its own and compacts its Raft log — then restart it and
// check that it starts cleanly, catches up and holds every acknowledged
// message exactly once, as every other node does.

// compactingArgs make every node snapshot and truncate its Raft log every
// few dozen entries, so that compaction runs all the time under load and a
// follower that was down for a second needs a snapshot to catch up.
var compactingArgs = []string{"--snapshot-threshold", "32", "--snapshot-interval", "100ms", "--trailing-logs", "16"}

// Log lines (cluster, mailbox and raft's own, routed through slog) that
// mark the phases of a snapshot install on a follower and of a snapshot
// on any node.
const (
	logSnapshotCopied   = "copied to local snapshot"     // raft: the leader's snapshot is on disk
	logStoreRestored    = "store restored from snapshot" // mailbox: the swap is done
	logSnapshotStarting = "starting snapshot up to"      // raft: a local snapshot begins
	logCheckpointTaken  = "checkpoint taken"             // mailbox: the store's checkpoint exists
	logSnapshotComplete = "snapshot complete up to"      // raft: the log is compacted
)

// crashRounds is SURAT_FAULT_ROUNDS, capped: each crash round costs a
// restart and a catch-up.
func crashRounds(t *testing.T) int {
	n := 12
	if v := os.Getenv("SURAT_FAULT_ROUNDS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("SURAT_FAULT_ROUNDS=%q: want a positive number", v)
		}
	}
	return min(n, 12)
}

// logWatch reads a node's log from where it stood when the watch began.
type logWatch struct {
	path   string
	offset int64
}

func watchLog(n *faults.Node) *logWatch {
	w := &logWatch{path: n.LogPath()}
	if fi, err := os.Stat(w.path); err == nil {
		w.offset = fi.Size()
	}
	return w
}

// seen reports which of marks appear in the log since the watch began.
func (w *logWatch) seen(marks ...string) map[string]bool {
	out := map[string]bool{}
	f, err := os.Open(w.path)
	if err != nil {
		return out
	}
	defer f.Close()
	if _, err := f.Seek(w.offset, 0); err != nil {
		return out
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(f)
	for _, m := range marks {
		out[m] = bytes.Contains(buf.Bytes(), []byte(m))
	}
	return out
}

// await polls the log until mark appears or ctx ends.
func (w *logWatch) await(ctx context.Context, mark string) bool {
	for {
		if w.seen(mark)[mark] {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// describeSeen lists the marks seen, in the order given.
func describeSeen(seen map[string]bool, marks ...string) string {
	var got []string
	for _, m := range marks {
		if seen[m] {
			got = append(got, fmt.Sprintf("%q", m))
		}
	}
	if len(got) == 0 {
		return "none of the phase lines"
	}
	return strings.Join(got, ", ")
}

// crashCluster starts a compacting cluster with SMTP load to fresh
// accounts; stop ends the load.
func crashCluster(t *testing.T) (c *faults.Cluster, accounts []faults.Account, ledger *faults.Ledger, stop func()) {
	t.Helper()
	c = faults.Start(t, faults.Options{KeepLogsDir: t.ArtifactDir(), ExtraArgs: compactingArgs})
	ctx := t.Context()
	runID := randomID()
	ledger = faults.NewLedger()
	var recipients []string
	for i := 1; i <= recipientsPerRound; i++ {
		a := faults.Account{Address: fmt.Sprintf("crash%d@example.test", i), Password: "pw-" + runID}
		if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, a.Address, a.Password) }); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, a)
		recipients = append(recipients, a.Address)
	}
	load := &faults.SMTPLoad{Targets: c.SMTPTargets, Recipients: recipients, MultiRcptEvery: 5,
		Senders: 6, Ledger: ledger, Round: 1, RunID: runID}
	loadCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); load.Run(loadCtx) }()
	return c, accounts, ledger, func() { cancel(); wg.Wait() }
}

// checkAfterCrashes brings every node up and checks convergence and mail.
func checkAfterCrashes(t *testing.T, c *faults.Cluster, accounts []faults.Account, ledger *faults.Ledger) {
	t.Helper()
	ctx := t.Context()
	if _, err := bounded(ctx, c.WaitReady); err != nil {
		t.Fatalf("cluster not ready after the crashes: %v", err)
	}
	digest, err := bounded(ctx, c.WaitConverged)
	if err != nil {
		t.Fatal(err)
	}
	mail, err := bounded(ctx, func(ctx context.Context) (faults.MailReport, error) {
		return faults.CheckMail(ctx, c.IMAPTargets(), accounts, ledger)
	})
	if err != nil {
		t.Fatalf("mail check: %v", err)
	}
	t.Logf("converged at index %d (digest %.12s); smtp: %s; mail check: %d nodes, %d INBOX messages, unacknowledged present %v, %d problems",
		digest.AppliedIndex, digest.Digest, ledger.Counts(1), mail.Nodes, mail.Messages, describePresent(mail.Present), len(mail.Problems))
	if ledger.Counts(1).Acked == 0 {
		t.Error("no message was acknowledged: the load did not run")
	}
	problems := append(ledger.Problems(1), mail.Problems...)
	reportProblems(t, "after the crashes", filepath.Join(t.ArtifactDir(), "crash-problems.txt"), problems)
}

// TestCrashDuringSnapshotInstall kills a lagging follower while it
// receives the leader's snapshot, while it swaps its store for the
// snapshot's, and at random moments after its start, round after round;
// the leader keeps compacting under load, so every restart needs a new
// install. Finally the follower must start, catch up and agree.
func TestCrashDuringSnapshotInstall(t *testing.T) {
	c, accounts, ledger, stopLoad := crashCluster(t)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	time.Sleep(time.Second)

	leader, err := bounded(ctx, c.WaitLeader)
	if err != nil {
		t.Fatal(err)
	}
	var victim *faults.Node
	for _, n := range c.Nodes() {
		if n != leader {
			victim = n
		}
	}
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	// Long enough for the leader to compact far past the victim's index.
	time.Sleep(1500 * time.Millisecond)

	marks := []string{logSnapshotCopied, logStoreRestored}
	rounds := crashRounds(t)
	hits := map[string]int{}
	for r := 1; r <= rounds; r++ {
		w := watchLog(victim)
		if err := victim.Restart(); err != nil {
			t.Fatalf("round %d: restart %s: %v", r, victim.ID(), err)
		}
		var phase string
		switch r % 3 {
		case 1: // while the snapshot is being received: soon after start
			phase = "receiving"
			time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		case 2: // while the store is swapped: right after the copy is on disk
			phase = "restoring"
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			ok := w.await(wctx, logSnapshotCopied)
			cancel()
			if !ok {
				t.Logf("round %d: %s never logged %q within 20 s; killing anyway", r, victim.ID(), logSnapshotCopied)
			}
			time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
		default: // anywhere in the first two seconds
			phase = "random"
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
		}
		if err := victim.Kill(); err != nil {
			t.Fatalf("round %d: kill %s: %v", r, victim.ID(), err)
		}
		seen := w.seen(marks...)
		// A restore without a copy in this run is the node restoring, at
		// start, a snapshot an earlier run received but did not apply.
		switch {
		case seen[logStoreRestored]:
			hits["killed after a restore"]++
		case seen[logSnapshotCopied]:
			hits["killed between copy and restore"]++
		default:
			hits["killed before the copy was complete"]++
		}
		t.Logf("round %d/%d (%s): killed %s; its log since start shows %s", r, rounds, phase, victim.ID(), describeSeen(seen, marks...))
		time.Sleep(300 * time.Millisecond) // the leader compacts on
	}
	t.Logf("kill points over %d rounds: %v", rounds, hits)

	if err := victim.Restart(); err != nil {
		t.Fatalf("final restart of %s: %v", victim.ID(), err)
	}
	time.Sleep(time.Second)
	stopLoad()
	checkAfterCrashes(t, c, accounts, ledger)
}

// TestCrashDuringCompaction kills nodes (leader or follower, at random)
// just as they begin a snapshot of their own — the store's checkpoint,
// then the Raft log's truncation — under load, and restarts each at once.
// Pebble's own background compactions run throughout, so random kills hit
// them too.
func TestCrashDuringCompaction(t *testing.T) {
	c, accounts, ledger, stopLoad := crashCluster(t)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	time.Sleep(time.Second)

	marks := []string{logSnapshotStarting, logCheckpointTaken, logSnapshotComplete}
	rounds := crashRounds(t)
	for r := 1; r <= rounds; r++ {
		if _, err := bounded(ctx, c.WaitReady); err != nil {
			t.Fatalf("round %d: cluster not ready: %v", r, err)
		}
		nodes := c.Nodes()
		victim := nodes[rng.IntN(len(nodes))]
		w := watchLog(victim)
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		ok := w.await(wctx, logSnapshotStarting)
		cancel()
		if !ok {
			t.Logf("round %d: %s took no snapshot within 20 s; killing anyway", r, victim.ID())
		}
		time.Sleep(time.Duration(rng.IntN(10)) * time.Millisecond)
		role := "follower"
		if st, err := victim.Status(ctx); err == nil && st.Leader == victim.ID() {
			role = "leader"
		}
		if err := victim.Kill(); err != nil {
			t.Fatalf("round %d: kill %s: %v", r, victim.ID(), err)
		}
		t.Logf("round %d/%d: killed %s (%s) during its snapshot; its log shows %s", r, rounds, victim.ID(), role,
			describeSeen(w.seen(marks...), marks...))
		time.Sleep(200 * time.Millisecond)
		if err := victim.Restart(); err != nil {
			t.Fatalf("round %d: restart %s: %v", r, victim.ID(), err)
		}
	}
	time.Sleep(time.Second)
	stopLoad()
	checkAfterCrashes(t, c, accounts, ledger)
}
