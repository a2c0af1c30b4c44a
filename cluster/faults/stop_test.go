//go:build faults

package faults_test

import (
	"context"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/faults"
)

// TestStopRestart drives the harness's clean path: SIGTERM to the leader
// (docs/OPERATING.md: a clean exit with status 0 within 10 s) under SMTP load,
// once per node, each time restarting it on its data; nothing acknowledged
// may be lost and the digests must converge.
func TestStopRestart(t *testing.T) {
	c := faults.Start(t, faults.Options{KeepLogsDir: t.ArtifactDir()})
	ctx := t.Context()
	rcpt := faults.Account{Address: "stop@example.test", Password: "pw"}
	if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, rcpt.Address, rcpt.Password) }); err != nil {
		t.Fatal(err)
	}
	ledger := faults.NewLedger()
	for round := range len(c.Nodes()) {
		leader, err := bounded(ctx, c.WaitLeader)
		if err != nil {
			t.Fatal(err)
		}
		load := &faults.SMTPLoad{Targets: c.SMTPTargets, Recipients: []string{rcpt.Address}, Senders: 3,
			Ledger: ledger, Round: round, RunID: randomID()}
		loadCtx, stopLoad := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); load.Run(loadCtx) }()
		time.Sleep(300 * time.Millisecond)

		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		err = leader.Stop(stopCtx)
		cancel()
		if err != nil {
			stopLoad()
			<-done
			t.Fatalf("SIGTERM to %s: %v", leader.ID(), err)
		}
		next, err := bounded(ctx, c.WaitLeader)
		if err != nil {
			stopLoad()
			<-done
			t.Fatal(err)
		}
		t.Logf("SIGTERM to %s (leader): exited 0, %s leads, %v after the signal", leader.ID(), next.ID(), time.Since(start).Round(time.Millisecond))
		if err := leader.Restart(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		stopLoad()
		<-done
		if _, err := bounded(ctx, c.WaitReady); err != nil {
			t.Fatal(err)
		}
		d, err := bounded(ctx, c.WaitConverged)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: smtp %s; converged at index %d", round, ledger.Counts(round), d.AppliedIndex)
	}
	mail, err := bounded(ctx, func(ctx context.Context) (faults.MailReport, error) {
		return faults.CheckMail(ctx, c.IMAPTargets(), []faults.Account{rcpt}, ledger)
	})
	if err != nil {
		t.Fatal(err)
	}
	problems := append(ledger.Problems(-1), mail.Problems...)
	for _, p := range problems[:min(len(problems), 30)] {
		t.Error(p)
	}
	t.Logf("mail check: %d messages on %d nodes, %d problems", mail.Messages, mail.Nodes, len(problems))
}
