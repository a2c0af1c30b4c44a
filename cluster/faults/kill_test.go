//go:build faults

package faults_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/surat-mail/surat/cluster/faults"
)

// TestMain builds the server once unless SURAT_BIN names one.
func TestMain(m *testing.M) {
	os.Exit(runWithBinary(m))
}

func runWithBinary(m *testing.M) int {
	if os.Getenv("SURAT_BIN") != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "surat-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults: temp dir:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "surat")
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	build := exec.Command(goCmd, "build", "-o", bin, "github.com/surat-mail/surat/cmd/surat")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faults: build surat:", err)
		return 2
	}
	os.Setenv("SURAT_BIN", bin)
	return m.Run()
}

// Timing of a round. The load runs during all of it; the pauses give it
// time to hit the cluster in each configuration.
const (
	warmUp       = 600 * time.Millisecond // load before the first kill
	degraded     = 400 * time.Millisecond // load with a node down, before its restart
	recovered    = 500 * time.Millisecond // load with every node back, before the checks
	settleWithin = 60 * time.Second       // deadline for elections, readiness, convergence
)

// faultKind is what a round does to the cluster.
type faultKind int

const (
	killLeader      faultKind = iota // kill -9 the leader
	killFollower                     // kill -9 a follower
	killLeaderTwice                  // kill -9 the leader; restart it; kill -9 the next leader at once
)

func (k faultKind) String() string {
	return [...]string{"kill leader", "kill follower", "kill leader, then the new leader"}[k]
}

// TestKillRounds is the main fault test: rounds of kill -9 (the leader, a
// follower, the leader and then its successor) under concurrent SMTP load
// on every node and IMAP clients on different nodes, each killed node
// restarted on its data. After each round: all nodes converge to the same
// digest; every acknowledged message is in its recipients' INBOXes exactly
// once, with the same UID, on every node, and nothing else is; no 5xx
// reply to valid mail; the IMAP history is linearizable (MailboxModel).
// SURAT_FAULT_ROUNDS sets the number of rounds (default 20).
func TestKillRounds(t *testing.T) {
	rounds := 20
	if v := os.Getenv("SURAT_FAULT_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SURAT_FAULT_ROUNDS=%q: want a positive number", v)
		}
		rounds = n
	}
	// After a failed round the test stops, so that the logs end near the
	// failure; SURAT_FAULT_KEEP_GOING=1 runs every round regardless.
	keepGoing := os.Getenv("SURAT_FAULT_KEEP_GOING") == "1"
	began := time.Now()
	artifacts := t.ArtifactDir()
	c := faults.Start(t, faults.Options{KeepLogsDir: artifacts})
	t.Logf("cluster up in %v: %s", time.Since(began).Round(time.Millisecond), describeNodes(c))

	runID := randomID()
	ctx := t.Context()
	lin := faults.Account{Address: "lin@example.test", Password: "pw-" + runID}
	if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, lin.Address, lin.Password) }); err != nil {
		t.Fatal(err)
	}
	ledger := faults.NewLedger()
	var everyone []faults.Account
	for r := 1; r <= rounds; r++ {
		// Fresh recipients each round keep the per-round check's reading
		// bounded; the final check reads every round's again.
		var accounts []faults.Account
		for i := 1; i <= recipientsPerRound; i++ {
			a := faults.Account{Address: fmt.Sprintf("r%03du%d@example.test", r, i), Password: "pw-" + runID}
			if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, a.Address, a.Password) }); err != nil {
				t.Fatal(err)
			}
			accounts = append(accounts, a)
		}
		everyone = append(everyone, accounts...)
		runRound(t, c, round{
			n: r, of: rounds, kind: faultKind((r - 1) % 3), runID: runID,
			accounts: accounts, lin: lin, ledger: ledger, artifacts: artifacts,
		})
		if t.Failed() && !keepGoing {
			t.Fatalf("stopping after round %d (SURAT_FAULT_KEEP_GOING=1 runs every round): see above; node logs follow", r)
		}
		if t.Failed() {
			// A failed round may have left a node down: bring every node
			// back for the next one.
			if err := c.StartAll(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Once more, every round's recipients on every node: a restarted node
	// must still hold what was acknowledged while it was down, rounds ago.
	finalStart := time.Now()
	if _, err := bounded(ctx, c.WaitConverged); err != nil {
		t.Fatal(err)
	}
	mail, err := bounded(ctx, func(ctx context.Context) (faults.MailReport, error) {
		return faults.CheckMail(ctx, c.IMAPTargets(), everyone, ledger)
	})
	if err != nil {
		t.Fatalf("final mail check: %v", err)
	}
	var total faults.Counts
	for r := 1; r <= rounds; r++ {
		c := ledger.Counts(r)
		total.TempFailed += c.TempFailed
		total.Unknown += c.Unknown
	}
	t.Logf("final mail check of %d rounds: %d nodes, %d INBOX messages, unacknowledged present %v, %d problems, in %v\n\t%s",
		rounds, mail.Nodes, mail.Messages, describePresent(mail.Present), len(mail.Problems), time.Since(finalStart).Round(time.Millisecond),
		describeDuplicates(mail.Present, total))
	reportProblems(t, "final check", filepath.Join(artifacts, "final-problems.txt"), mail.Problems)
	t.Logf("%d rounds in %v", rounds, time.Since(began).Round(time.Millisecond))
}

// recipientsPerRound is the number of users the SMTP load sends to in a
// round.
const recipientsPerRound = 4

// reportProblems fails the test with the first problems and writes them
// all to path.
func reportProblems(t *testing.T, prefix, path string, problems []string) {
	t.Helper()
	if len(problems) == 0 {
		return
	}
	if err := os.WriteFile(path, []byte(strings.Join(problems, "\n")+"\n"), 0o644); err != nil {
		t.Logf("write %s: %v", path, err)
	}
	shown := problems[:min(len(problems), 30)]
	t.Errorf("%s: %d problems (all in %s):\n\t%s", prefix, len(problems), path, strings.Join(shown, "\n\t"))
}

type round struct {
	n, of     int
	kind      faultKind
	runID     string
	accounts  []faults.Account
	lin       faults.Account
	ledger    *faults.Ledger
	artifacts string
}

func runRound(t *testing.T, c *faults.Cluster, rd round) {
	t.Helper()
	ctx := t.Context()
	began := time.Now()
	prefix := fmt.Sprintf("round %d/%d (%s)", rd.n, rd.of, rd.kind)

	leader, err := bounded(ctx, c.WaitLeader)
	if err != nil {
		t.Errorf("%s: no leader before the round: %v", prefix, err)
		return
	}
	work := &faults.LinWorkload{
		Account: rd.lin, Mailbox: fmt.Sprintf("lin-r%03d", rd.n), Clients: len(c.Nodes()),
		Target: homeNode(c), History: faults.NewHistory(), RunID: rd.runID, Seed: uint64(rd.n),
	}
	if err := boundedErr(ctx, func(ctx context.Context) error { return work.CreateMailbox(ctx, leader.IMAPTarget()) }); err != nil {
		t.Errorf("%s: %v", prefix, err)
		return
	}
	var recipients []string
	for _, a := range rd.accounts {
		recipients = append(recipients, a.Address)
	}
	load := &faults.SMTPLoad{
		Targets: c.SMTPTargets, Recipients: recipients, MultiRcptEvery: 5,
		Senders: 6, Ledger: rd.ledger, Round: rd.n, RunID: rd.runID,
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var linStats faults.LinStats
	wg.Add(2)
	go func() { defer wg.Done(); load.Run(loadCtx) }()
	go func() { defer wg.Done(); linStats = work.Run(loadCtx) }()

	time.Sleep(warmUp)
	faultLog, faultErr := inject(ctx, c, rd.kind)
	if faultErr == nil {
		time.Sleep(recovered)
	}
	stopLoad()
	wg.Wait()
	if faultErr != nil {
		t.Errorf("%s: %s: %v", prefix, faultLog, faultErr)
		return
	}

	// Every node is back: wait for them to agree and converge.
	settleStart := time.Now()
	if _, err := bounded(ctx, c.WaitReady); err != nil {
		t.Errorf("%s: %s: cluster not ready after the round: %v", prefix, faultLog, err)
		return
	}
	digest, err := bounded(ctx, c.WaitConverged)
	if err != nil {
		t.Errorf("%s: %s: %v", prefix, faultLog, err)
		return
	}
	settled := time.Since(settleStart)

	counts := rd.ledger.Counts(rd.n)
	targets := c.IMAPTargets()
	mail, err := bounded(ctx, func(ctx context.Context) (faults.MailReport, error) {
		return faults.CheckMail(ctx, targets, rd.accounts, rd.ledger)
	})
	if err != nil {
		t.Errorf("%s: mail check: %v", prefix, err)
		return
	}
	linSummary, linProblems := checkLinearizability(t, c, work, linStats, rd)

	t.Logf("%s: %s\n"+
		"\tsmtp: %s\n"+
		"\timap: %s\n"+
		"\tconverged at index %d (digest %.12s) %v after the load stopped; mail check: %d nodes, %d INBOX messages, unacknowledged present %v, %d problems\n"+
		"\t%s\n"+
		"\t%s\n"+
		"\tround took %v",
		prefix, faultLog, counts, describeLinStats(linStats),
		digest.AppliedIndex, digest.Digest, settled.Round(time.Millisecond),
		mail.Nodes, mail.Messages, describePresent(mail.Present), len(mail.Problems),
		describeDuplicates(mail.Present, counts), linSummary, time.Since(began).Round(time.Millisecond))

	if counts.Acked == 0 {
		t.Errorf("%s: no message was acknowledged during the round: the load did not run", prefix)
	}
	problems := append(rd.ledger.Problems(rd.n), mail.Problems...)
	problems = append(problems, linStats.Problems...)
	problems = append(problems, linProblems...)
	reportProblems(t, prefix, filepath.Join(rd.artifacts, fmt.Sprintf("round%03d-problems.txt", rd.n)), problems)
}

// inject applies a round's faults and restarts what it killed. The text
// says what happened, with the time from each kill until every live node
// named the same new leader.
func inject(ctx context.Context, c *faults.Cluster, kind faultKind) (string, error) {
	var log []string
	leader, err := bounded(ctx, c.WaitLeader)
	if err != nil {
		return "", fmt.Errorf("no leader: %w", err)
	}
	// kill kills n and waits for the survivors to agree on a leader.
	kill := func(n *faults.Node, role string) (*faults.Node, error) {
		start := time.Now()
		if err := n.Kill(); err != nil {
			return nil, err
		}
		next, err := bounded(ctx, c.WaitLeader)
		if err != nil {
			return nil, fmt.Errorf("after killing %s: %w", n.ID(), err)
		}
		took := time.Since(start).Round(time.Millisecond)
		if next == leader && n != leader {
			log = append(log, fmt.Sprintf("killed %s (%s), %s still leads (agreed after %v)", n.ID(), role, next.ID(), took))
		} else {
			log = append(log, fmt.Sprintf("killed %s (%s) → %s leads after %v", n.ID(), role, next.ID(), took))
		}
		return next, nil
	}
	restart := func(n *faults.Node) error {
		time.Sleep(degraded)
		if err := n.Restart(); err != nil {
			return err
		}
		log = append(log, "restarted "+n.ID())
		return nil
	}
	// say returns the log so far with err, after the calls in the return
	// statement that add to it have run.
	say := func(err error) (string, error) { return strings.Join(log, "; "), err }
	switch kind {
	case killLeader:
		if _, err := kill(leader, "leader"); err != nil {
			return say(err)
		}
		return say(restart(leader))
	case killFollower:
		var follower *faults.Node
		for _, n := range c.Nodes() {
			if n != leader {
				follower = n // the last follower, so rounds vary the victim with the leader
			}
		}
		if _, err := kill(follower, "follower"); err != nil {
			return say(err)
		}
		return say(restart(follower))
	case killLeaderTwice:
		second, err := kill(leader, "leader")
		if err != nil {
			return say(err)
		}
		elected := time.Now()
		if err := restart(leader); err != nil {
			return say(err)
		}
		// Only one node may be down at a time: wait until the restarted
		// node takes part again (it names a leader), then kill whichever
		// node leads now.
		rejoin := time.Now()
		if _, err := waitFor(ctx, func() (bool, error) {
			st, err := leader.Status(ctx)
			return err == nil && st.Leader != "", nil
		}); err != nil {
			return say(fmt.Errorf("%s did not rejoin: %w", leader.ID(), err))
		}
		now, err := bounded(ctx, c.WaitLeader)
		if err != nil {
			return say(err)
		}
		log = append(log, fmt.Sprintf("%s rejoined after %v", leader.ID(), time.Since(rejoin).Round(time.Millisecond)))
		role := fmt.Sprintf("new leader, agreed on %v before", time.Since(elected).Round(time.Millisecond))
		if now != second {
			role = "leader after another election"
		}
		if _, err := kill(now, role); err != nil {
			return say(err)
		}
		return say(restart(now))
	}
	return "", fmt.Errorf("unknown fault %d", kind)
}

// checkLinearizability reads the round's mailbox on every node (they must
// agree), then checks the history with its fenced reads (a failure) and,
// for information, with its unfenced reads too.
func checkLinearizability(t *testing.T, c *faults.Cluster, work *faults.LinWorkload, stats faults.LinStats, rd round) (string, []string) {
	ctx := t.Context()
	var problems []string
	var final []faults.FinalMessage
	for i, n := range c.Nodes() {
		msgs, err := bounded(ctx, func(ctx context.Context) ([]faults.FinalMessage, error) {
			return faults.ReadMailbox(ctx, n.IMAPTarget(), rd.lin, work.Mailbox)
		})
		if err != nil {
			return "linearizability: not checked", []string{fmt.Sprintf("read %s on %s: %v", work.Mailbox, n.ID(), err)}
		}
		if i == 0 {
			final = msgs
			continue
		}
		if a, b := describeFinal(final), describeFinal(msgs); a != b {
			problems = append(problems, fmt.Sprintf("%s differs between %s and %s:\n%s\n---\n%s", work.Mailbox, c.Nodes()[0].ID(), n.ID(), a, b))
		}
	}
	raw := work.History.Operations()
	name := fmt.Sprintf("round%03d-linearizability", rd.n)
	prep := faults.Prepare(raw, faults.PrepareOptions{Final: final, FinalClient: work.Clients})
	problems = append(problems, prep.Problems...)
	res, err := faults.CheckLinearizable(prep.Ops, 2*time.Minute, rd.artifacts, name)
	if err != nil {
		problems = append(problems, err.Error())
	}
	switch res.Result {
	case porcupine.Ok:
	case porcupine.Illegal:
		problems = append(problems, fmt.Sprintf("IMAP history of %s is not linearizable: %s", work.Mailbox, res.Visualization))
	default:
		problems = append(problems, fmt.Sprintf("linearizability check of %s timed out (%d operations)", work.Mailbox, res.Ops))
	}
	// Unfenced reads: stale reads from a lagging node are allowed by the
	// design, so this result is reported, not asserted.
	unf := faults.Prepare(raw, faults.PrepareOptions{Final: final, FinalClient: work.Clients, Unfenced: true})
	unfRes, err := faults.CheckLinearizable(unf.Ops, 20*time.Second, "", "")
	unfenced := string(unfRes.Result)
	if err != nil {
		unfenced = err.Error()
	}
	summary := fmt.Sprintf("linearizability: %s (%d operations, %d partitions, %d final messages, unknown appends %d found/%d dropped, checked in %v); with unfenced reads too: %s",
		res.Result, res.Ops, res.Partitions, len(final), prep.UnknownAppendsFound, prep.UnknownAppendsDropped,
		res.Elapsed.Round(time.Millisecond), unfenced)
	return summary, problems
}

func describeFinal(msgs []faults.FinalMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		flags := append([]string(nil), m.Flags...)
		sort.Strings(flags)
		fmt.Fprintf(&b, "%d %s %v\n", m.UID, m.MessageID, flags)
	}
	return b.String()
}

func describeLinStats(s faults.LinStats) string {
	keys := make([]string, 0, len(s.Ops))
	total := 0
	for k, v := range s.Ops {
		keys = append(keys, k)
		total += v
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, s.Ops[k])
	}
	return fmt.Sprintf("%d commands (%s), %d reconnects", total, strings.Join(parts, ", "), s.Reconnects)
}

// describeDuplicates states how many messages a sender's retry would have
// duplicated: answered 4xx after DATA (the answer lost with a leader, or
// the commit's fate unknown) yet delivered, and, apart, those whose
// connection broke after the final dot (the SMTP node itself was killed)
// yet delivered, which no server can tell a retry of.
func describeDuplicates(present map[faults.Outcome]int, c faults.Counts) string {
	return fmt.Sprintf("duplicates after a lost answer: %d of %d answered 4xx after DATA were delivered (a retry copies them); connection lost after the dot yet delivered: %d of %d",
		present[faults.TempFailed], c.TempFailed, present[faults.Unknown], c.Unknown)
}

func describePresent(p map[faults.Outcome]int) string {
	if len(p) == 0 {
		return "none"
	}
	var parts []string
	for _, o := range []faults.Outcome{faults.TempFailed, faults.Unknown, faults.Refused, faults.PermFailed} {
		if p[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, p[o]))
		}
	}
	return strings.Join(parts, ", ")
}

func describeNodes(c *faults.Cluster) string {
	var parts []string
	for _, n := range c.Nodes() {
		parts = append(parts, fmt.Sprintf("%s smtp %s imap %s http %s", n.ID(), n.SMTPAddr(), n.IMAPAddr(), n.HTTPURL()))
	}
	return strings.Join(parts, "; ")
}

// homeNode sends IMAP client k to node k, or to the next node up while k
// is down.
func homeNode(c *faults.Cluster) func(client, attempt int) (faults.Target, bool) {
	return func(client, _ int) (faults.Target, bool) {
		nodes := c.Nodes()
		for i := range nodes {
			n := nodes[(client+i)%len(nodes)]
			if n.ExpectUp() {
				return n.IMAPTarget(), true
			}
		}
		return faults.Target{}, false
	}
}

// bounded runs one wait of the test with a deadline of settleWithin.
func bounded[T any](ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, settleWithin)
	defer cancel()
	return f(ctx)
}

func boundedErr(ctx context.Context, f func(context.Context) error) error {
	_, err := bounded(ctx, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

func waitFor(ctx context.Context, f func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(settleWithin)
	for {
		ok, err := f()
		if err != nil || ok {
			return ok, err
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("not within %v", settleWithin)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
