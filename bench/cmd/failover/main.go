// Command failover measures Surat's leader failover with real processes:
// three `surat serve` nodes on loopback, SIGKILL and SIGTERM rounds (time
// until a survivor names a new leader), and SMTP throughput per bucket
// while the leader is SIGKILLed under steady load. It appends one JSON
// object a line (bench/failover.Record) to -out, which bench/cmd/report
// turns into the summary table and chart.
//
//	failover -bin bin/surat -kill-rounds 5 -term-rounds 3 -timelines 2 \
//	    -senders 8 -window 10s -kill-at 4s -bucket 100ms -out bench/results/failover.jsonl
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/failover"
	"github.com/surat-mail/surat/cluster/faults/proc"
	"github.com/surat-mail/surat/protocols/admin"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		bin        = flag.String("bin", "bin/surat", "the surat binary to measure")
		killRounds = flag.Int("kill-rounds", 5, "SIGKILL rounds without load")
		termRounds = flag.Int("term-rounds", 3, "SIGTERM rounds without load")
		timelines  = flag.Int("timelines", 2, "SMTP runs with a leader SIGKILL in the middle")
		senders    = flag.Int("senders", 8, "concurrent SMTP senders in a timeline run")
		window     = flag.Duration("window", 10*time.Second, "length of a timeline run")
		killAt     = flag.Duration("kill-at", 4*time.Second, "when the leader is killed, from the start of a timeline run")
		bucket     = flag.Duration("bucket", 100*time.Millisecond, "timeline resolution")
		poll       = flag.Duration("poll", 10*time.Millisecond, "how often survivors are asked for the leader")
		out        = flag.String("out", "", "append the records as JSON lines to this `FILE`")
		dir        = flag.String("dir", "", "data and logs here (default: a new temporary directory, removed at the end)")
	)
	flag.Parse()
	if *killAt >= *window {
		return errors.New("-kill-at must fall inside -window")
	}
	binPath, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	state := *dir
	if state == "" {
		if state, err = os.MkdirTemp("", "surat-failover-"); err != nil {
			return err
		}
		defer os.RemoveAll(state)
	}
	c, err := proc.Start(ctx, proc.Options{Bin: binPath, Dir: state, LogLevel: "warn"}, 60*time.Second)
	if err != nil {
		return err
	}
	// Killed before the directory is removed (defers run in reverse).
	defer c.Close()
	const rcpt = "u1@example.test"
	ac, err := admin.NewClient(c.Nodes()[0].HTTPURL(), os.Getenv("SURAT_ADMIN_TOKEN"), 0)
	if err != nil {
		return err
	}
	if err := ac.AddUser(ctx, rcpt, "pass"); err != nil {
		return fmt.Errorf("create %s: %w", rcpt, err)
	}
	if _, err := proc.Within(ctx, time.Minute, c.WaitConverged); err != nil {
		return err
	}

	var sink *json.Encoder
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		sink = json.NewEncoder(f)
	}
	emit := func(rec failover.Record) error {
		if sink == nil {
			return nil
		}
		return sink.Encode(rec)
	}
	cfg := failover.Config{Cluster: c, Rcpt: rcpt, Poll: *poll}
	fail := func(err error) error { return fmt.Errorf("%w\n%s", err, c.LogTails(15)) }

	for _, s := range []struct {
		sig    syscall.Signal
		rounds int
	}{{syscall.SIGKILL, *killRounds}, {syscall.SIGTERM, *termRounds}} {
		for i := range s.rounds {
			rec, err := failover.Election(ctx, cfg, s.sig)
			rec.Round = i + 1
			if err != nil {
				return fail(fmt.Errorf("%s round %d: %w", rec.Signal, i+1, err))
			}
			fmt.Fprintf(os.Stderr, "election %s round %d: %s → %s in %.0f ms (poll %.0f ms); restarted node ready in %.0f ms\n",
				rec.Signal, rec.Round, rec.OldLeader, rec.NewLeader, rec.ElectedMs, rec.PollMs, rec.RejoinMs)
			if err := emit(rec); err != nil {
				return err
			}
		}
	}
	for i := range *timelines {
		rec, err := failover.Timeline(ctx, cfg, failover.TimelineConfig{Senders: *senders, Window: *window, KillAt: *killAt, Bucket: *bucket})
		rec.Round = i + 1
		if err != nil {
			return fail(fmt.Errorf("timeline %d: %w", i+1, err))
		}
		r := rec.SMTP
		fmt.Fprintf(os.Stderr, "timeline %d: %d senders, %d accepted (%d errors, %d retries over %d messages) in %.1f s; "+
			"killed %s at %.0f ms, %s named at %.0f ms (+%.0f); %.0f msgs/s before, %.0f after; gap %.0f ms, back at half rate %.0f ms after the kill\n",
			rec.Round, r.Senders, r.Accepted, r.Errors, r.Retries, r.RetriedMessages, r.WallS, rec.OldLeader, rec.KillAtMs,
			rec.NewLeader, rec.LeaderAtMs, rec.ElectedMs, rec.BeforePerS, rec.AfterPerS, rec.GapMs, rec.RecoverMs)
		for k, n := range r.RetryKinds {
			fmt.Fprintf(os.Stderr, "  retried after %s ×%d\n", k, n)
		}
		for k, n := range r.ErrorKinds {
			fmt.Fprintf(os.Stderr, "  failed for good: %s ×%d\n", k, n)
		}
		if err := emit(rec); err != nil {
			return err
		}
	}
	return nil
}
