//go:build faults && linux

package faults_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/faults"
)

// One scenario's run: its timeline, probes, checks and report.

// scenarioRun is what one scenario did and saw.
type scenarioRun struct {
	e      *partitionEnv
	n      int
	leader *faults.Node // the leader when the scenario began

	// cutOff are the nodes on the minority side of the fault;
	// clientWithMinority says the client namespace is on their side (then
	// no node may acknowledge anything during the fault).
	cutOff             []*faults.Node
	clientWithMinority bool
	// clientReachesCutOff says the client namespace can reach the cut-off
	// nodes during the fault, so their answers (or silence) are seen.
	clientReachesCutOff bool
	cutAt, healAt       time.Time
	healed              bool
	// newLeaderAt is when the majority's new leader won its election (by
	// its log), when the fault took the leader away.
	newLeaderAt time.Time
	// ackedAtBound are the minority side's acknowledged messages at
	// cutAt+leaseBound, by Message-ID; boundDone is closed once taken.
	boundTimer   *time.Timer
	boundDone    chan struct{}
	ackedAtBound map[string]string
	lateAcks     []string // acknowledged by the minority side after the bound
	// delayedFrom is when every host-to-host connection was delayed, in
	// the delay scenario, and resetsFrom when the resets on the delayed
	// links began.
	delayedFrom, resetsFrom time.Time

	mu       sync.Mutex
	notes    []string // what happened, in order
	findings []string
}

func (run *scenarioRun) note(format string, args ...any) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.notes = append(run.notes, fmt.Sprintf(format, args...))
}

// finding records behaviour that loses no mail but should not happen.
func (run *scenarioRun) finding(format string, args ...any) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.findings = append(run.findings, fmt.Sprintf(format, args...))
}

func (run *scenarioRun) describeNotes() string {
	run.mu.Lock()
	defer run.mu.Unlock()
	return strings.Join(run.notes, "; ")
}

// since renders how long after the cut (or, negative, before it) t was.
func (run *scenarioRun) since(t time.Time) string {
	d := t.Sub(run.cutAt).Round(time.Millisecond)
	if d < 0 {
		return d.String()
	}
	return "+" + d.String()
}

// at renders t relative to the fault, for the Raft timeline.
func (run *scenarioRun) at(t time.Time) string {
	switch {
	case run.cutAt.IsZero():
		return t.Format("15:04:05.000")
	case !run.healAt.IsZero() && !t.Before(run.healAt):
		return fmt.Sprintf("heal+%v", t.Sub(run.healAt).Round(time.Millisecond))
	case t.Before(run.cutAt):
		return fmt.Sprintf("cut%v", t.Sub(run.cutAt).Round(time.Millisecond))
	}
	return fmt.Sprintf("cut+%v", t.Sub(run.cutAt).Round(time.Millisecond))
}

// cut records that the fault is now in force: cutAt is taken once the
// rules are loaded, so every frame after it is subject to them.
func (run *scenarioRun) cut(cutOff []*faults.Node, clientWithMinority bool) {
	run.cutAt = time.Now()
	run.cutOff = cutOff
	run.clientWithMinority = clientWithMinority
	run.boundDone = make(chan struct{})
	run.boundTimer = time.AfterFunc(leaseBound, func() {
		run.ackedAtBound = run.ackedByMinority()
		close(run.boundDone)
	})
}

// minority reports whether an acknowledgement from node during the fault
// would come from the side without a quorum.
func (run *scenarioRun) minority(node string) bool {
	if run.clientWithMinority {
		return true // the client reaches only the minority
	}
	return slices.ContainsFunc(run.cutOff, func(n *faults.Node) bool { return n.ID() == node })
}

// ackedByMinority returns the scenario's acknowledged messages that came
// from the minority side, by Message-ID, with their node.
func (run *scenarioRun) ackedByMinority() map[string]string {
	out := map[string]string{}
	for _, m := range run.e.ledger.Messages() {
		if m.Round == run.n && m.Outcome == faults.Acked && run.minority(m.Node) {
			out[m.MessageID] = m.Node
		}
	}
	return out
}

// heal removes every fault. First it lists the messages the minority side
// acknowledged between cutAt+leaseBound and now: the SMTP load records no
// times, so the ledger is compared at both instants.
func (run *scenarioRun) heal(ctx context.Context) error {
	if run.healed {
		return nil
	}
	run.healAt = time.Now()
	if run.boundTimer != nil && !run.boundTimer.Stop() {
		<-run.boundDone
		for id, node := range run.ackedByMinority() {
			if _, ok := run.ackedAtBound[id]; !ok {
				run.lateAcks = append(run.lateAcks, fmt.Sprintf("%s acknowledged by %s", id, node))
			}
		}
		sort.Strings(run.lateAcks)
	}
	run.healed = true
	run.e.setUnreachable()
	if err := run.e.topo.Heal(ctx); err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	return nil
}

// holdUntil sleeps until the fault has lasted d.
func (run *scenarioRun) holdUntil(ctx context.Context, d time.Duration) {
	sleepFor(ctx, time.Until(run.cutAt.Add(d)))
}

// runScenario runs one scenario under load and checks the cluster after it.
func (e *partitionEnv) runScenario(t *testing.T, sc partitionScenario) {
	ctx := t.Context()
	e.seq++
	n := e.seq
	began := time.Now()
	prefix := fmt.Sprintf("scenario %d (%s)", n, sc.name)

	leader, err := bounded(ctx, e.c.WaitLeader)
	if err != nil {
		t.Fatalf("%s: no leader before the scenario: %v", prefix, err)
	}
	var accounts []faults.Account
	for i := 1; i <= recipientsPerRound; i++ {
		accounts = append(accounts, faults.Account{Address: fmt.Sprintf("p%03du%d@example.test", n, i), Password: "pw-" + e.runID})
	}
	probe := faults.Account{Address: fmt.Sprintf("p%03dprobe@example.test", n), Password: "pw-" + e.runID}
	checked := append(slices.Clone(accounts), probe)
	for _, a := range checked {
		if err := boundedErr(ctx, func(ctx context.Context) error { return e.c.AddUser(ctx, a.Address, a.Password) }); err != nil {
			t.Fatalf("%s: %v", prefix, err)
		}
	}
	e.everyone = append(e.everyone, checked...)

	work := &faults.LinWorkload{
		Account: e.lin, Mailbox: fmt.Sprintf("lin-p%03d", n), Clients: len(e.c.Nodes()),
		Target: e.linTarget, History: faults.NewHistory(), RunID: e.runID, Seed: uint64(1000 + n),
		OpTimeout: clientTimeout,
	}
	if err := boundedErr(ctx, func(ctx context.Context) error { return work.CreateMailbox(ctx, leader.IMAPTarget()) }); err != nil {
		t.Fatalf("%s: %v", prefix, err)
	}
	var recipients []string
	for _, a := range accounts {
		recipients = append(recipients, a.Address)
	}
	load := &faults.SMTPLoad{
		Targets: e.smtpTargets, Recipients: recipients, MultiRcptEvery: 5,
		Senders: 6, Ledger: e.ledger, Round: n, RunID: e.runID, Timeout: clientTimeout,
	}
	var probers []*faults.Prober
	for _, node := range e.c.Nodes() {
		probers = append(probers, &faults.Prober{
			Target: node.SMTPTarget(), Rcpt: probe.Address, Ledger: e.ledger, Round: n,
			RunID: e.runID, Timeout: clientTimeout, Pause: 25 * time.Millisecond,
		})
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var linStats faults.LinStats
	wg.Add(2 + len(probers))
	go func() { defer wg.Done(); load.Run(loadCtx) }()
	go func() { defer wg.Done(); linStats = work.Run(loadCtx) }()
	for _, p := range probers {
		go func() { defer wg.Done(); p.Run(loadCtx) }()
	}
	loadStarted := time.Now()

	run := &scenarioRun{e: e, n: n, leader: leader}
	sleepFor(ctx, partitionWarmUp)
	faultErr := sc.fault(ctx, e, run)
	if err := run.heal(ctx); err != nil && faultErr == nil {
		faultErr = err
	}
	if faultErr == nil {
		e.watchRejoin(ctx, run)
		sleepFor(ctx, time.Until(run.healAt.Add(partitionRecovered)))
	}
	stopLoad()
	wg.Wait()
	loadStopped := time.Now()
	if faultErr != nil {
		t.Fatalf("%s: %s: %v\n\traft: %s", prefix, run.describeNotes(), faultErr, e.raftSummary(run, loadStarted))
	}

	settleStart := time.Now()
	if _, err := bounded(ctx, e.c.WaitReady); err != nil {
		t.Fatalf("%s: cluster not ready after the heal: %v\n\traft: %s", prefix, err, e.raftSummary(run, loadStarted))
	}
	digest, err := bounded(ctx, e.c.WaitConverged)
	if err != nil {
		t.Fatalf("%s: %v", prefix, err)
	}
	settled := time.Since(settleStart)

	counts := e.ledger.Counts(n)
	mail, err := bounded(ctx, func(ctx context.Context) (faults.MailReport, error) {
		return faults.CheckMail(ctx, e.c.IMAPTargets(), checked, e.ledger)
	})
	if err != nil {
		t.Fatalf("%s: mail check: %v", prefix, err)
	}
	probeSummary, probeProblems := run.checkProbes(probers)
	linSummary, linProblems := checkLinearizability(t, e.c, work, linStats, round{n: n, lin: e.lin, artifacts: e.artifacts})

	t.Logf("%s\n"+
		"\tdone: %s\n"+
		"\traft: %s\n"+
		"\tsmtp load over %v: %s\n"+
		"\tprobes: %s\n"+
		"\timap: %s\n"+
		"\tconverged at index %d (digest %.12s) %v after the load stopped; mail check: %d nodes, %d INBOX messages, unacknowledged present %v, %d problems\n"+
		"\t%s\n"+
		"\t%s\n"+
		"\tscenario took %v",
		prefix, run.describeNotes(), e.raftSummary(run, loadStarted),
		loadStopped.Sub(loadStarted).Round(time.Millisecond), counts, probeSummary, describeLinStats(linStats),
		digest.AppliedIndex, digest.Digest, settled.Round(time.Millisecond),
		mail.Nodes, mail.Messages, describePresent(mail.Present), len(mail.Problems),
		describeDuplicates(mail.Present, counts), linSummary, time.Since(began).Round(time.Millisecond))
	for _, f := range run.findings {
		e.findings = append(e.findings, prefix+": "+f)
		if e.strict {
			t.Errorf("%s: FINDING: %s", prefix, f)
		} else {
			t.Logf("%s: FINDING: %s", prefix, f)
		}
	}

	if counts.Acked == 0 {
		t.Errorf("%s: no message was acknowledged: the load did not run", prefix)
	}
	var problems []string
	for _, a := range run.lateAcks {
		problems = append(problems, fmt.Sprintf("%s more than %v after the cut, before the heal, from the side without a quorum", a, leaseBound))
	}
	problems = append(problems, probeProblems...)
	problems = append(problems, e.ledger.Problems(n)...)
	problems = append(problems, mail.Problems...)
	problems = append(problems, linStats.Problems...)
	problems = append(problems, linProblems...)
	reportProblems(t, prefix, filepath.Join(e.artifacts, fmt.Sprintf("partition%03d-%s-problems.txt", n, sc.name)), problems)
}

// raftSummary describes the Raft state changes of every node since from.
func (e *partitionEnv) raftSummary(run *scenarioRun, from time.Time) string {
	evs, err := e.raftEvents(from)
	if err != nil {
		return err.Error()
	}
	return faults.DescribeRaftEvents(evs, run.at)
}

// checkProbes summarises the probes by node and phase and returns the
// acknowledgements that break invariant 1: given by the side without a
// quorum for mail whose end of DATA left more than leaseBound after the
// cut, before the heal. Acknowledgements from that side for mail sent
// within the bound are listed in the summary: CheckMail has checked that
// each is present exactly once, as every acknowledged message must be.
func (run *scenarioRun) checkProbes(probers []*faults.Prober) (string, []string) {
	var problems, parts, early []string
	for _, p := range probers {
		var before, during, after faults.ProbeTally
		for _, a := range p.Attempts() {
			switch {
			case run.cutAt.IsZero() || a.Answered.Before(run.cutAt):
				before.Add(a)
			case a.Answered.Before(run.healAt):
				during.Add(a)
			default:
				after.Add(a)
			}
			if run.cutAt.IsZero() || a.Outcome != faults.Acked || !a.Answered.Before(run.healAt) || !run.minority(a.Node) {
				continue
			}
			switch {
			case a.Sent.After(run.cutAt.Add(leaseBound)):
				problems = append(problems, fmt.Sprintf("probe %s acknowledged by %s, on the side without a quorum, at %s: its end of DATA left at %s, more than %v after the cut",
					a.MessageID, a.Node, run.since(a.Answered), run.since(a.Sent), leaseBound))
			case a.Sent.After(run.cutAt):
				early = append(early, fmt.Sprintf("%s (sent %s, 250 at %s)", a.MessageID, run.since(a.Sent), run.since(a.Answered)))
			}
		}
		part := fmt.Sprintf("%s: before %s; during %s; after %s", p.Target.Node, before, during, after)
		if !run.delayedFrom.IsZero() {
			part += "; " + run.delayedLatency(p)
		}
		if refusal := run.firstRefusal(p); refusal != "" {
			part += "; " + refusal
		}
		parts = append(parts, part)
	}
	if len(early) > 0 {
		parts = append(parts, fmt.Sprintf("acknowledged by the minority side within %v of the cut (each checked present): %s", leaseBound, strings.Join(early, ", ")))
	}
	run.checkMajorityProgress(probers)
	if !run.delayedFrom.IsZero() {
		problems = append(problems, run.checkDelayed(probers)...)
	}
	return strings.Join(parts, "\n\t\t"), problems
}

// firstRefusal says, for a node on the minority side that the client
// reaches, when it first answered a probe with a temporary failure during
// the fault, and for a node the client cannot reach, just that.
func (run *scenarioRun) firstRefusal(p *faults.Prober) string {
	cutOff := slices.ContainsFunc(run.cutOff, func(n *faults.Node) bool { return n.ID() == p.Target.Node })
	switch {
	case len(run.cutOff) == 0 || (!cutOff && !run.clientWithMinority):
		return ""
	case cutOff != run.clientReachesCutOff:
		return "unreachable during the fault"
	}
	for _, a := range p.Attempts() {
		if a.Outcome == faults.TempFailed && a.Answered.After(run.cutAt) && a.Answered.Before(run.healAt) {
			return fmt.Sprintf("first 4xx during the fault at %s, for mail sent at %s (%s)", run.since(a.Answered), run.since(a.Sent), a.Reply)
		}
	}
	return "no 4xx during the fault"
}

// checkMajorityProgress records a finding when the side with a quorum, which
// the client reaches, acknowledged no probe for long after it had a leader:
// its sessions were stuck although it could commit.
func (run *scenarioRun) checkMajorityProgress(probers []*faults.Prober) {
	if len(run.cutOff) == 0 || run.clientWithMinority {
		return
	}
	ready := run.cutAt // the leader stayed on the majority side
	if !run.newLeaderAt.IsZero() {
		ready = run.newLeaderAt
	}
	for _, p := range probers {
		if run.minority(p.Target.Node) {
			continue
		}
		var first time.Time
		var stuck *faults.ProbeAttempt // the attempt in flight when the fault began
		for _, a := range p.Attempts() {
			if a.Outcome == faults.Acked && a.Answered.After(ready) && first.IsZero() {
				first = a.Answered
			}
			if !a.Sent.IsZero() && a.Sent.Before(run.cutAt) && a.Answered.After(run.cutAt) {
				stuck = &a
			}
		}
		if !first.IsZero() && first.Sub(ready) <= leaseBound {
			continue
		}
		firstText := fmt.Sprintf("acknowledged no probe before the heal at %s", run.since(run.healAt))
		if !first.IsZero() && first.Before(run.healAt) {
			firstText = fmt.Sprintf("acknowledged its first probe only at %s", run.since(first))
		}
		detail := ""
		if stuck != nil {
			detail = fmt.Sprintf("; the probe in flight at the cut (sent at %s) was answered at %s: %s %s",
				run.since(stuck.Sent), run.since(stuck.Answered), stuck.Outcome, stuck.Reply)
		}
		run.finding("%s, on the majority side with a leader from %s, %s%s",
			p.Target.Node, run.since(ready), firstText, detail)
	}
}

// watchRejoin follows the cut-off nodes after the heal until each names
// the leader the others name and is ready, noting the states it passes
// through with their times after the heal. A change of leader caused by
// the heal (the rejoining node deposing the majority's leader) is a finding.
func (e *partitionEnv) watchRejoin(ctx context.Context, run *scenarioRun) {
	if len(run.cutOff) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, settleWithin)
	defer cancel()
	before, _ := e.c.LeaderAmong(ctx, e.others(run.cutOff...))
	for _, n := range run.cutOff {
		var seen []string
		last := ""
		for {
			st, err := n.Status(ctx)
			state := "unanswered"
			if err == nil {
				state = "no leader"
				if st.Leader != "" {
					state = "leader " + st.Leader
				}
				for _, m := range st.Members {
					if m.ID == n.ID() {
						state = m.State + ", " + state
					}
				}
			}
			if state != last {
				seen = append(seen, fmt.Sprintf("%s at +%v", state, time.Since(run.healAt).Round(time.Millisecond)))
				last = state
			}
			if err == nil && st.Leader != "" {
				if ready, _ := n.Ready(ctx); ready {
					now, err := e.c.LeaderAmong(ctx, e.c.Nodes())
					if err == nil && now.ID() == st.Leader {
						seen = append(seen, fmt.Sprintf("ready, all name %s, at +%v", now.ID(), time.Since(run.healAt).Round(time.Millisecond)))
						if before != nil && now != before {
							run.finding("after the heal the leader changed from %s to %s: the rejoining %s deposed the majority's leader (%s)",
								before.ID(), now.ID(), n.ID(), faults.DescribeRaftEvents(e.electionsBetween(run.healAt, time.Now()), run.at))
						}
						break
					}
				}
			}
			if ctx.Err() != nil {
				seen = append(seen, "still not rejoined after "+settleWithin.String())
				break
			}
			sleepFor(ctx, 20*time.Millisecond)
		}
		run.note("%s after the heal: %s", n.ID(), strings.Join(seen, " → "))
	}
}

// noteLeadership notes the elections in [from, to), and records a finding
// when leadership thrashed.
func (e *partitionEnv) noteLeadership(run *scenarioRun, from, to time.Time, what string) {
	won := e.electionsBetween(from, to)
	switch {
	case len(won) == 0:
		leader := "the leader"
		if before := e.electionsBetween(time.Time{}, from); len(before) > 0 {
			leader = before[len(before)-1].Node
		}
		run.note("no election %s: %s led throughout", what, leader)
	default:
		last := won[len(won)-1]
		run.note("%d elections %s (terms %d-%d), the last won by %s", len(won), what, won[0].Term, last.Term, last.Node)
	}
	if len(won) >= thrashElections {
		run.finding("leadership changed %d times %s (in %v): every leader stepped down for want of a quorum within its 100 ms lease",
			len(won), what, to.Sub(from).Round(time.Millisecond))
	}
}

// waitNewLeader waits until nodes agree on a leader other than old, and
// notes when its election was won (by its log) and when the nodes'
// /v1/cluster agreed.
func (e *partitionEnv) waitNewLeader(ctx context.Context, run *scenarioRun, nodes []*faults.Node, old *faults.Node, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		l, err := e.c.LeaderAmong(ctx, nodes)
		if err == nil && l != old {
			agreed := time.Now()
			won := "no election in its log"
			if evs := e.electionsBetween(run.cutAt, agreed); len(evs) > 0 {
				first := evs[0]
				run.newLeaderAt = first.Time
				won = fmt.Sprintf("%s won term %d at %s by its log", first.Node, first.Term, run.since(first.Time))
			}
			run.note("new leader %s: %s; the majority's /v1/cluster agreed at %s", l.ID(), won, run.since(agreed))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("no new leader among %s within %v of the cut (last: %v)", describeIDs(nodes), within, err)
		}
		sleepFor(ctx, 20*time.Millisecond)
	}
}

// waitLeaderless waits until n, cut off from the quorum, says it has no
// leader: its /readyz turns 503 (cheap, polled often), then its
// /v1/cluster names no leader (slow while peers are unreachable).
func (e *partitionEnv) waitLeaderless(ctx context.Context, run *scenarioRun, n *faults.Node, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		ready, err := n.Ready(ctx)
		if err == nil && !ready {
			run.note("%s's /readyz said 503 at %s", n.ID(), run.since(time.Now()))
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s, cut off from the quorum, still ready %v after the cut (last error: %v)", n.ID(), within, err)
		}
		sleepFor(ctx, 10*time.Millisecond)
	}
	for {
		st, err := n.Status(ctx)
		if err == nil && st.Leader == "" {
			run.note("%s's /v1/cluster named no leader at %s", n.ID(), run.since(time.Now()))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s, cut off from the quorum, still names leader %q %v after the cut (last error: %v)", n.ID(), st.Leader, within, err)
		}
		sleepFor(ctx, 20*time.Millisecond)
	}
}

// statusLatency notes how long one GET /v1/cluster takes on n during the
// fault: it asks every member, and waits for those it cannot reach.
func (run *scenarioRun) statusLatency(ctx context.Context, n *faults.Node) {
	start := time.Now()
	_, err := n.Status(ctx)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		run.note("%s's /v1/cluster failed after %v during the fault: %v", n.ID(), took, err)
		return
	}
	run.note("one /v1/cluster on %s took %v during the fault", n.ID(), took)
}
