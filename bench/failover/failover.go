// Package failover measures what a client of a three-process Surat cluster
// sees when the leader dies: how long until a surviving node names a new
// leader (SIGKILL: an election; SIGTERM: a hand-over), and the SMTP
// throughput, bucket by bucket, while the leader is SIGKILLed in the middle
// of a steady load (senders retry on the next MX as an MTA does). It
// drives real `surat serve` processes through cluster/faults/proc and the
// SMTP load of bench/smtpload; bench/cmd/failover is its command, and the
// report (bench/cmd/report) reads the Records it writes.
//
// Nothing here asserts a time. A round fails only when the cluster is
// wrong: no new leader at all, a node that will not come back, or nodes
// whose digests differ afterwards.
package failover

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/smtpload"
	"github.com/surat-mail/surat/cluster/faults/proc"
)

// Record is one measurement, one JSON object a line. Kind says which
// fields are set: "election" or "timeline".
type Record struct {
	Kind    string    `json:"kind"`
	Round   int       `json:"round"`
	Started time.Time `json:"started"`
	Load1   float64   `json:"load1"`

	// election: the signal, who led before and after, and how long a
	// client was without a known leader (signal → a survivor names
	// another), then how long the restarted node took to be ready.
	Signal    string  `json:"signal,omitempty"`
	OldLeader string  `json:"old_leader,omitempty"`
	NewLeader string  `json:"new_leader,omitempty"`
	ElectedMs float64 `json:"elected_ms,omitempty"`
	RejoinMs  float64 `json:"rejoin_ms,omitempty"`
	PollMs    float64 `json:"poll_ms,omitempty"`

	// timeline: the SMTP run (its Timeline has the buckets), when the
	// leader was killed and when a survivor named the new one, both from
	// the start of the run, and figures read off the buckets.
	SMTP       *smtpload.Result `json:"smtp,omitempty"`
	KillAtMs   float64          `json:"kill_at_ms,omitempty"`
	LeaderAtMs float64          `json:"leader_at_ms,omitempty"`
	// BeforePerS is the acknowledgement rate over the buckets before the
	// kill; AfterPerS over the buckets from one second after the new
	// leader to the end (the survivors, two nodes).
	BeforePerS float64 `json:"before_per_s,omitempty"`
	AfterPerS  float64 `json:"after_per_s,omitempty"`
	// GapMs is the longest run of buckets with no acknowledgement at all
	// from the kill on; RecoverMs the time from the kill to the start of
	// the first bucket back at half BeforePerS or more after the dip (0:
	// no dip; -1: never back within the run).
	GapMs     float64 `json:"gap_ms"`
	RecoverMs float64 `json:"recover_ms"`
}

// Config is one measurement session on one cluster.
type Config struct {
	Cluster *proc.Cluster // nodes with SMTP listeners
	Rcpt    string        // an existing user
	Poll    time.Duration // how often survivors are asked for the leader; default 10 ms
}

func (c *Config) poll() time.Duration {
	if c.Poll <= 0 {
		return 10 * time.Millisecond
	}
	return c.Poll
}

// Election signals the leader, times until a survivor names another, then
// restarts the old leader on its data and waits until all agree again.
func Election(ctx context.Context, cfg Config, sig syscall.Signal) (Record, error) {
	c := cfg.Cluster
	rec := Record{Kind: "election", Signal: sigName(sig), Started: time.Now(), Load1: smtpload.Load1(), PollMs: ms(cfg.poll())}
	old, err := proc.Within(ctx, 60*time.Second, c.WaitReady)
	if err != nil {
		return rec, err
	}
	rec.OldLeader = old.ID()
	start := time.Now()
	if err := old.Signal(sig); err != nil {
		return rec, err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	leader, err := c.WaitNewLeader(wctx, old, cfg.poll())
	if err != nil {
		return rec, err
	}
	rec.ElectedMs, rec.NewLeader = ms(time.Since(start)), leader
	code, err := old.Wait(30 * time.Second)
	if err != nil {
		return rec, err
	}
	if sig == syscall.SIGTERM && code != 0 {
		return rec, fmt.Errorf("failover: %s exited with status %d after SIGTERM", old.ID(), code)
	}
	restart := time.Now()
	if err := old.Start(); err != nil {
		return rec, err
	}
	if _, err := proc.Within(ctx, 60*time.Second, c.WaitReady); err != nil {
		return rec, err
	}
	rec.RejoinMs = ms(time.Since(restart))
	if _, err := proc.Within(ctx, 60*time.Second, c.WaitConverged); err != nil {
		return rec, err
	}
	return rec, nil
}

// TimelineConfig is one SMTP run with a leader kill in it.
type TimelineConfig struct {
	Senders int           // concurrent senders over all the nodes' MX
	Window  time.Duration // length of the run
	KillAt  time.Duration // when, from the start of the run, the leader is SIGKILLed
	Bucket  time.Duration // timeline resolution
	// Attempts per message (retries on the next MX after a temporary
	// failure, as an MTA does); default 10.
	Attempts int
}

// Timeline runs SMTP load over every node's MX for tc.Window, SIGKILLs the
// leader at tc.KillAt, and records the acknowledgements per bucket. The
// old leader is restarted afterwards and the nodes must converge.
func Timeline(ctx context.Context, cfg Config, tc TimelineConfig) (Record, error) {
	c := cfg.Cluster
	rec := Record{Kind: "timeline", Started: time.Now(), Load1: smtpload.Load1(), PollMs: ms(cfg.poll())}
	if tc.Attempts <= 0 {
		tc.Attempts = 10
	}
	old, err := proc.Within(ctx, 60*time.Second, c.WaitReady)
	if err != nil {
		return rec, err
	}
	rec.OldLeader = old.ID()
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.SMTPAddr())
	}
	type outcome struct {
		res *smtpload.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := smtpload.Run(ctx, smtpload.Config{
			Addrs: addrs, Senders: tc.Senders, Messages: 1 << 30, Duration: tc.Window,
			From: "sender@other.test", To: cfg.Rcpt, Sources: min(tc.Senders, 254),
			Attempts: tc.Attempts, Bucket: tc.Bucket, Timeout: 30 * time.Second,
		})
		done <- outcome{res, err}
	}()
	runStart := time.Now()
	var killed, elected time.Time
	select {
	case <-time.After(tc.KillAt):
	case <-ctx.Done():
		return rec, ctx.Err()
	}
	killed = time.Now()
	if err := old.Signal(syscall.SIGKILL); err != nil {
		return rec, err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	leader, lerr := c.WaitNewLeader(wctx, old, cfg.poll())
	cancel()
	elected = time.Now()
	out := <-done
	if out.err != nil {
		return rec, fmt.Errorf("failover: SMTP load: %w", out.err)
	}
	if lerr != nil {
		return rec, lerr
	}
	rec.NewLeader, rec.SMTP = leader, out.res
	// The run's own clock started a moment after runStart; its Started
	// is the reference for the buckets.
	ref := out.res.Started
	if ref.IsZero() {
		ref = runStart
	}
	rec.KillAtMs, rec.LeaderAtMs = ms(killed.Sub(ref)), ms(elected.Sub(ref))
	rec.ElectedMs = ms(elected.Sub(killed))
	summarise(&rec)

	if _, err := old.Wait(30 * time.Second); err != nil {
		return rec, err
	}
	restart := time.Now()
	if err := old.Start(); err != nil {
		return rec, err
	}
	if _, err := proc.Within(ctx, 60*time.Second, c.WaitReady); err != nil {
		return rec, err
	}
	rec.RejoinMs = ms(time.Since(restart))
	if _, err := proc.Within(ctx, 120*time.Second, c.WaitConverged); err != nil {
		return rec, err
	}
	return rec, nil
}

// summarise reads the before/after rates, the gap and the recovery time
// off the buckets.
func summarise(rec *Record) {
	tl := rec.SMTP.Timeline
	if tl == nil || tl.BucketMs <= 0 || len(tl.Accepted) == 0 {
		return
	}
	b := tl.BucketMs
	killIdx := int(rec.KillAtMs / b)
	// The last bucket is partial (the run ends inside it): leave it out.
	last := len(tl.Accepted) - 1
	rate := func(from, to int) float64 { // buckets [from, to)
		from, to = max(from, 0), min(to, last)
		if to <= from {
			return 0
		}
		n := 0
		for _, v := range tl.Accepted[from:to] {
			n += v
		}
		return float64(n) / (float64(to-from) * b / 1000)
	}
	rec.BeforePerS = rate(0, killIdx)
	rec.AfterPerS = rate(int((rec.LeaderAtMs+1000)/b)+1, last)
	run, longest := 0, 0
	for _, v := range tl.Accepted[min(killIdx, last):last] {
		if v == 0 {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	rec.GapMs = float64(longest) * b
	// Recovery: after the first bucket from the kill on that falls below
	// half the rate before it (the dip), the first that is back at half
	// or more. No dip at all: 0.
	half := func(i int) bool { return float64(tl.Accepted[i])/(b/1000) >= rec.BeforePerS/2 }
	rec.RecoverMs = 0
	dip := -1
	for i := max(killIdx, 0); i < last; i++ {
		if !half(i) {
			dip = i
			break
		}
	}
	if dip >= 0 {
		rec.RecoverMs = -1
		for i := dip + 1; i < last; i++ {
			if half(i) {
				rec.RecoverMs = float64(i)*b - rec.KillAtMs
				break
			}
		}
	}
}

func sigName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGKILL:
		return "KILL"
	case syscall.SIGTERM:
		return "TERM"
	}
	return sig.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
