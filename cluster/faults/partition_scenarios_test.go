//go:build faults && linux

package faults_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/surat-mail/surat/cluster/faults"
	"github.com/surat-mail/surat/cluster/faults/netns"
)

// The scenarios: what each does to the network, and its own checks.

// isolateLeader cuts the leader off from the other hosts; the client
// still reaches every node. The old leader must step down and stop
// acknowledging; the other two elect a leader and go on.
func isolateLeader(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	old := run.leader
	rest := e.others(old)
	if err := e.cutHosts(ctx, []*faults.Node{old}, rest); err != nil {
		return err
	}
	run.cut([]*faults.Node{old}, false)
	run.clientReachesCutOff = true
	run.note("cut %s (the leader, %s) off from %s for %v; the client reaches all", old.ID(), e.host(old), describeIDs(rest), leaderCutHold)
	// Both sides at once: each wait polls a different node.
	var wg sync.WaitGroup
	var newErr, oldErr error
	wg.Add(2)
	go func() { defer wg.Done(); newErr = e.waitNewLeader(ctx, run, rest, old, leaderCutHold) }()
	go func() { defer wg.Done(); oldErr = e.waitLeaderless(ctx, run, old, leaderCutHold) }()
	wg.Wait()
	if err := errors.Join(newErr, oldErr); err != nil {
		return err
	}
	run.statusLatency(ctx, rest[0])
	run.holdUntil(ctx, leaderCutHold)
	return run.heal(ctx)
}

// isolateFollower cuts a follower off from everything, the client too.
// The leader keeps leading and acknowledging.
func isolateFollower(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	followers := e.others(run.leader)
	f := followers[len(followers)-1]
	e.setUnreachable(f)
	if err := e.topo.Isolate(ctx, e.host(f)); err != nil {
		return err
	}
	run.cut([]*faults.Node{f}, false)
	run.note("isolated %s (a follower, %s) from every node and the client for %v", f.ID(), e.host(f), faultHold)
	run.statusLatency(ctx, run.leader)
	run.holdUntil(ctx, faultHold)
	e.noteLeadership(run, run.cutAt, time.Now(), "during the fault")
	return run.heal(ctx)
}

// splitLeaderAway splits the leader from the two others, with the client
// on the majority side.
func splitLeaderAway(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	old := run.leader
	rest := e.others(old)
	majority := []string{"c1"}
	for _, n := range rest {
		majority = append(majority, e.host(n))
	}
	e.setUnreachable(old)
	if err := e.topo.Split(ctx, []string{e.host(old)}, majority); err != nil {
		return err
	}
	run.cut([]*faults.Node{old}, false)
	run.note("split %s (the leader) | %s with the client, for %v", old.ID(), describeIDs(rest), faultHold)
	if err := e.waitNewLeader(ctx, run, rest, old, faultHold); err != nil {
		return err
	}
	run.holdUntil(ctx, faultHold)
	return run.heal(ctx)
}

// splitClientWithMinority splits a follower and the client from the two
// others: the client reaches only a node without a quorum, so nothing may
// be acknowledged until the heal.
func splitClientWithMinority(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	f := e.others(run.leader)[0]
	rest := e.others(f)
	var majority []string
	for _, n := range rest {
		majority = append(majority, e.host(n))
	}
	e.setUnreachable(rest...)
	if err := e.topo.Split(ctx, []string{e.host(f), "c1"}, majority); err != nil {
		return err
	}
	run.cut([]*faults.Node{f}, true)
	run.clientReachesCutOff = true
	run.note("split %s (a follower) with the client | %s (the leader's side), for %v", f.ID(), describeIDs(rest), faultHold)
	if err := e.waitLeaderless(ctx, run, f, faultHold); err != nil {
		return err
	}
	run.holdUntil(ctx, faultHold)
	e.noteLeadership(run, run.cutAt, time.Now(), "on the majority side")
	return run.heal(ctx)
}

// packetLoss drops lossPercent of every frame on every link, the client's
// included.
func packetLoss(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	if err := e.topo.Loss(ctx, lossPercent); err != nil {
		return err
	}
	run.cut(nil, false)
	run.note("%d%% loss on every link, the client's too, for %v", lossPercent, faultHold)
	run.holdUntil(ctx, faultHold)
	e.noteLeadership(run, run.cutAt, time.Now(), "under loss")
	return run.heal(ctx)
}

// resetInterval is how often resetConnections resets every connection
// between the nodes.
const resetInterval = 250 * time.Millisecond

// delayedResetHold is how long the delay scenario resets connections on
// the delayed links, after its delayed load.
const delayedResetHold = 3 * time.Second

// resetConnections resets, again and again, every TCP connection the
// followers opened to the leader's cluster port: their forwarded entries
// (and stats and vote requests), not the leader's own Raft connections, so
// the leader keeps its lease and commits what it was forwarded. It is what
// a NAT or firewall that loses its state does, or a peer that aborts. `ss
// -K` in a follower's namespace destroys its end and sends the leader a
// reset. A follower can then tell only that its connection broke: a
// forwarded entry whose receipt was lost may still be committed.
func resetConnections(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	run.cut(nil, false)
	if err := e.resetFor(ctx, run, faultHold); err != nil {
		return err
	}
	e.noteLeadership(run, run.cutAt, time.Now(), "under resets")
	return run.heal(ctx)
}

// resetFor resets the followers' connections to the leader every
// resetInterval for d.
func (e *partitionEnv) resetFor(ctx context.Context, run *scenarioRun, d time.Duration) error {
	start := time.Now()
	rounds, killed := 0, 0
	for time.Since(start) < d && ctx.Err() == nil {
		leader, err := e.c.Leader(ctx)
		if err != nil {
			sleepFor(ctx, resetInterval)
			continue
		}
		for _, n := range e.others(leader) {
			cmd, err := e.topo.Command(ctx, e.host(n), "ss", "-K", "-t", "dst", leader.Host(), "dport", "=", strconv.Itoa(leader.Ports().Raft))
			if err != nil {
				return err
			}
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("ss -K in %s: %w", e.host(n), err)
			}
			// One line per destroyed socket after the header.
			killed += max(0, len(strings.Split(strings.TrimSpace(string(out)), "\n"))-1)
		}
		rounds++
		sleepFor(ctx, resetInterval)
	}
	if killed == 0 {
		return errors.New("ss -K destroyed no connection: the kernel may lack CONFIG_INET_DIAG_DESTROY")
	}
	run.note("reset the followers' connections to the leader every %v for %v: %d rounds, %d connections destroyed", resetInterval, d, rounds, killed)
	return nil
}

// delayLinks delays every host-to-host TCP connection by e.delay each way.
// Only connections opened after the delay is set go through the relay, so
// every node is restarted (SIGTERM, then the same flags), the leader last:
// its peers then redial it, and it them, through the relay. After a phase
// of delayed load, the followers' connections to the leader are reset
// again and again (as in resetConnections): on delayed links a forwarded
// entry's receipt is in flight for a whole delayed trip, so many resets
// fall between the leader taking an entry and the follower reading the
// receipt.
func delayLinks(ctx context.Context, e *partitionEnv, run *scenarioRun) error {
	hosts := e.topo.Hosts()
	for _, h := range hosts {
		var to []string
		for _, o := range hosts {
			if o != h {
				to = append(to, o)
			}
		}
		if err := e.topo.Delay(ctx, netns.DelaySpec{From: h, To: to, Delay: e.delay}); err != nil {
			return err
		}
	}
	run.cut(nil, false)
	run.note("%v each way on every host-to-host connection", e.delay)
	for _, n := range append(e.others(run.leader), run.leader) {
		start := time.Now()
		stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := n.Stop(stopCtx)
		cancel()
		if err != nil {
			return err
		}
		stopped := time.Since(start)
		if err := n.Restart(); err != nil {
			return err
		}
		if _, err := bounded(ctx, e.c.WaitReady); err != nil {
			won := e.electionsBetween(run.cutAt, time.Now())
			return fmt.Errorf("after restarting %s behind a %v delay (round trip +%v): %w; %d elections since the delay was set: leaders step down when the round trip exceeds the 100 ms leader lease",
				n.ID(), e.delay, 2*e.delay, err, len(won))
		}
		run.note("restarted %s (stopped in %v, all ready %v after its stop)", n.ID(), stopped.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}
	run.delayedFrom = time.Now()
	run.note("every node restarted behind the delay by %s; delayed load for %v", run.since(run.delayedFrom), faultHold)
	sleepFor(ctx, faultHold)
	e.noteLeadership(run, run.delayedFrom, time.Now(), "under delay")
	// Resets on delayed links: a forwarded entry's receipt spends a whole
	// delayed round trip on the way, so resets catch many in flight.
	run.resetsFrom = time.Now()
	if err := e.resetFor(ctx, run, delayedResetHold); err != nil {
		return err
	}
	return run.heal(ctx)
}

// delayedLatency describes the probes of p sent once every connection
// was delayed.
func (run *scenarioRun) delayedLatency(p *faults.Prober) string {
	var t faults.ProbeTally
	for _, a := range run.delayed(p) {
		t.Add(a)
	}
	return "fully delayed " + t.String()
}

func (run *scenarioRun) delayed(p *faults.Prober) []faults.ProbeAttempt {
	var out []faults.ProbeAttempt
	for _, a := range p.Attempts() {
		if a.Sent.After(run.delayedFrom) && a.Answered.Before(run.resetsFrom) {
			out = append(out, a)
		}
	}
	return out
}

// checkDelayed makes sure the delay was real: a write is committed only
// after a round trip between two hosts, which the relay makes at least
// 2×delay long, so no acknowledgement can come sooner. One that does came
// over a connection that bypassed the relay.
func (run *scenarioRun) checkDelayed(probers []*faults.Prober) []string {
	var problems []string
	acked := 0
	for _, p := range probers {
		for _, a := range run.delayed(p) {
			if a.Outcome != faults.Acked {
				continue
			}
			acked++
			if a.Latency() < 2*run.e.delay {
				problems = append(problems, fmt.Sprintf("probe %s acknowledged by %s %v after its end of DATA, under %v: a host-to-host connection was not delayed",
					a.MessageID, a.Node, a.Latency(), 2*run.e.delay))
			}
		}
	}
	if acked == 0 {
		problems = append(problems, "no probe was acknowledged while every link was delayed")
	}
	return problems
}

// copyLog copies a node's log file.
func copyLog(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func describeIDs(nodes []*faults.Node) string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID()
	}
	return strings.Join(ids, "+")
}

func sleepFor(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
