//go:build faults

package faults_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/cluster/faults"
)

// TestRestartedNodeRecipients: a node restarted on its data serves SMTP
// before it has caught up with the log. Mail for a user created while it
// was down must then get a temporary reply (or be accepted), never a
// permanent 550 5.1.1: the sending MTA would bounce mail for a user who
// exists. The backlog written while the node is down makes its catch-up
// take long enough to be seen.
func TestRestartedNodeRecipients(t *testing.T) {
	c := faults.Start(t, faults.Options{KeepLogsDir: t.ArtifactDir()})
	ctx := t.Context()
	leader, err := bounded(ctx, c.WaitLeader)
	if err != nil {
		t.Fatal(err)
	}
	var down *faults.Node
	for _, n := range c.Nodes() {
		if n != leader {
			down = n
		}
	}
	if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, "bulk@example.test", "pw") }); err != nil {
		t.Fatal(err)
	}
	if err := down.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, "fresh@example.test", "pw") }); err != nil {
		t.Fatal(err)
	}
	// A backlog for the restarted node to apply.
	ledger := faults.NewLedger()
	load := &faults.SMTPLoad{Targets: c.SMTPTargets, Recipients: []string{"bulk@example.test"}, Senders: 4, Ledger: ledger, RunID: randomID()}
	loadCtx, stop := context.WithTimeout(ctx, 2*time.Second)
	load.Run(loadCtx)
	stop()
	t.Logf("backlog while %s was down: %s", down.ID(), ledger.Counts(0))

	if err := down.Restart(); err != nil {
		t.Fatal(err)
	}
	// Ask the restarted node about the new user as soon as it listens, and
	// keep asking until it is ready; every answer must be 250 or 4xx.
	restarted := time.Now()
	var (
		answers             []string // distinct answers, in order
		permanent           int
		firstAnswer, lastNo time.Duration
	)
	deadline := restarted.Add(settleWithin)
	for time.Now().Before(deadline) {
		code, text, err := rcptReply(down.SMTPAddr(), "fresh@example.test")
		if err != nil {
			time.Sleep(5 * time.Millisecond) // not listening yet
			continue
		}
		if firstAnswer == 0 {
			firstAnswer = time.Since(restarted)
		}
		a := fmt.Sprintf("%d %s", code, text)
		if len(answers) == 0 || answers[len(answers)-1] != a {
			answers = append(answers, a)
		}
		if code >= 500 {
			permanent++
			lastNo = time.Since(restarted)
		}
		if ready, err := down.Ready(ctx); err == nil && ready && code == 250 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("%s after its restart: first answer after %v; answers in order %q", down.ID(), firstAnswer.Round(time.Millisecond), answers)
	if len(answers) == 0 {
		t.Fatalf("%s never answered within %v", down.ID(), settleWithin)
	}
	if permanent > 0 {
		t.Errorf("restarted %s answered RCPT TO:<fresh@example.test> (a user created while it was down) with a permanent failure %d times, until %v after its restart: mail for a user who exists would bounce",
			down.ID(), permanent, lastNo.Round(time.Millisecond))
	}
}

// rcptReply opens an SMTP session and returns the reply to RCPT TO.
func rcptReply(addr, rcpt string) (int, string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, "", err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout = 10 * time.Second
	if err := c.Hello("probe.faults.test"); err != nil {
		return 0, "", err
	}
	if err := c.Mail("probe@sender.faults.test", nil); err != nil {
		return 0, "", err
	}
	err = c.Rcpt(rcpt, nil)
	var se *smtp.SMTPError
	switch {
	case err == nil:
		_ = c.Quit()
		return 250, "OK", nil
	case errors.As(err, &se):
		_ = c.Quit()
		return se.Code, se.Message, nil
	default:
		return 0, "", err
	}
}
