package spamcorpus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/surat-mail/surat/cluster/faults/proc"
)

// The test user, on proc's default --domain, and the envelope senders'
// domain.
const (
	TestUser     = "u1@example.test"
	password     = "bench-password"
	SenderDomain = "corpus.bench.test"
)

// SuratConfig is how RunFold runs Surat.
type SuratConfig struct {
	Bin       string   // the surat binary
	Dir       string   // each fold's cluster goes in a fresh directory under it
	Keep      bool     // keep those directories (data and node logs)
	ServeArgs []string // appended to every node's serve flags (--spam-threshold 0.9, say)
	// TrainUser trains the test user's own model (surat spam train --user)
	// instead of the global one.
	TrainUser bool
	Senders   int // concurrent SMTP senders delivering the test fold (default 4)
	// NoTrain skips `surat spam train` and `surat spam status`: a check
	// of the harness itself against a server without the classifier.
	NoTrain bool
	Log     func(format string, args ...any)
}

// SuratResult is one fold on Surat.
type SuratResult struct {
	Verdicts []Verdict
	TrainS   float64 // `surat spam train` of the nine training folds, to its exit
	// ConvergeS is from the end of training until every node had applied
	// it (the test fold is delivered only then).
	ConvergeS float64
	DeliverS  float64 // delivering the test fold over SMTP
	// TrainOutput and Status are what `surat spam train` and `surat spam
	// status` printed (the model after training).
	TrainOutput string
	Status      string
	// Required is the required= of the X-Spam-Status fields (the
	// threshold on the score= scale the node used), when all agree.
	Required string
	Fields   FieldCheck
}

// RunFold runs fold test on a fresh three-node Surat cluster: it trains
// the model on the other folds with `surat spam train`, delivers the test
// fold to TestUser over SMTP (MAIL FROM:<msg-INDEX@SenderDomain>, the
// nodes taken in turn) and reads back where every message landed.
func RunFold(ctx context.Context, cfg SuratConfig, l Layout, msgs []Message, test int) (SuratResult, error) {
	var res SuratResult
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.Senders < 1 {
		cfg.Senders = 4
	}
	dir, err := os.MkdirTemp(cfg.Dir, fmt.Sprintf("spamcorpus-fold%02d-", test+1))
	if err != nil {
		return res, err
	}
	if cfg.Keep {
		logf("fold %d: data and logs kept in %s", test+1, dir)
	} else {
		defer os.RemoveAll(dir)
	}
	c, err := proc.New(proc.Options{Bin: cfg.Bin, Dir: dir, LogLevel: "warn", ExtraArgs: cfg.ServeArgs})
	if err != nil {
		return res, err
	}
	defer c.Close()
	if err := c.StartAll(); err != nil {
		return res, err
	}
	if _, err := proc.Within(ctx, 90*time.Second, c.WaitReady); err != nil {
		return res, fmt.Errorf("nodes not ready: %w\n%s", err, c.LogTails(15))
	}
	fail := func(err error) (SuratResult, error) {
		c.Report(logf)
		return res, err
	}
	if err := c.AddUser(ctx, TestUser, password); err != nil {
		return fail(err)
	}
	node := c.Nodes()[0]

	if !cfg.NoTrain {
		if err := train(ctx, cfg, c, node, l, test, &res); err != nil {
			return fail(err)
		}
	}

	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.SMTPAddr())
	}
	var batch []Message
	for _, i := range l.Folds[test] {
		batch = append(batch, msgs[i])
	}
	start := time.Now()
	if err := Deliver(ctx, addrs, TestUser, batch, cfg.Senders); err != nil {
		return fail(err)
	}
	res.DeliverS = time.Since(start).Seconds()
	if _, err := proc.Within(ctx, 2*time.Minute, c.WaitConverged); err != nil {
		return fail(err)
	}
	stored, err := ReadStored(node.IMAPAddr(), TestUser, password)
	if err != nil {
		return fail(err)
	}
	res.Verdicts, res.Fields, err = Judge(batch, stored)
	if err != nil {
		return fail(err)
	}
	res.Required = res.Fields.Required
	return res, nil
}

// train runs `surat spam train` on the folds other than test, waits
// until every node has applied what it proposed, and asks `surat spam
// status`.
func train(ctx context.Context, cfg SuratConfig, c *proc.Cluster, node *proc.Node, l Layout, test int, res *SuratResult) error {
	ham, spam := l.TrainDirs(test)
	args := []string{"spam", "train"}
	if cfg.TrainUser {
		args = append(args, "--user", TestUser)
	}
	for _, d := range spam {
		args = append(args, "--spam", d)
	}
	for _, d := range ham {
		args = append(args, "--ham", d)
	}
	start := time.Now()
	out, err := cli(ctx, cfg.Bin, node, args...)
	if err != nil {
		return err
	}
	res.TrainS = time.Since(start).Seconds()
	res.TrainOutput = out
	start = time.Now()
	if _, err := proc.Within(ctx, 5*time.Minute, c.WaitConverged); err != nil {
		return err
	}
	res.ConvergeS = time.Since(start).Seconds()
	statusArgs := []string{"spam", "status"}
	if cfg.TrainUser {
		statusArgs = append(statusArgs, "--user", TestUser)
	}
	res.Status, err = cli(ctx, cfg.Bin, node, statusArgs...)
	return err
}

// cli runs `surat ARGS... --server URL` against node and returns its
// standard output.
func cli(ctx context.Context, bin string, node *proc.Node, args ...string) (string, error) {
	args = append(args, "--server", node.HTTPURL())
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("surat %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()+stdout.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// FieldCheck is what the stored messages' X-Spam-Status fields say
// beside where the messages were filed.
type FieldCheck struct {
	// Missing counts messages without an X-Spam-Status field, Several
	// those with more than one.
	Missing int `json:"missing"`
	Several int `json:"several"`
	// Disagree counts messages whose field says Yes in INBOX or No in
	// Junk.
	Disagree int `json:"disagree"`
	// Required is the fields' required= value when they all carry the
	// same.
	Required string `json:"required,omitempty"`
}

// Judge matches the stored messages to the delivered batch: every one
// must be stored exactly once.
func Judge(batch []Message, stored []Stored) ([]Verdict, FieldCheck, error) {
	var fc FieldCheck
	want := map[int]Message{}
	for _, m := range batch {
		want[m.Index] = m
	}
	seen := map[int]bool{}
	var verdicts []Verdict
	var required []string
	for _, s := range stored {
		m, ok := want[s.Index]
		if !ok {
			return nil, fc, fmt.Errorf("a stored message (%s) is not of the test fold: index %d", s.Mailbox, s.Index)
		}
		if seen[s.Index] {
			return nil, fc, fmt.Errorf("message %d (%s) stored twice", s.Index, m.Name)
		}
		seen[s.Index] = true
		junk := s.Mailbox == "Junk"
		switch len(s.Status) {
		case 0:
			fc.Missing++
		case 1:
		default:
			fc.Several++
		}
		score := nan()
		if len(s.Status) > 0 {
			st := s.Status[0]
			if st.Spam != junk {
				fc.Disagree++
			}
			if st.HasScore {
				score = st.Score
			}
			required = append(required, st.Required)
		}
		verdicts = append(verdicts, Verdict{Index: m.Index, Spam: m.Spam, Junk: junk, Score: score})
	}
	if len(seen) != len(want) {
		var missing []string
		for i, m := range want {
			if !seen[i] && len(missing) < 10 {
				missing = append(missing, m.Name)
			}
		}
		return nil, fc, fmt.Errorf("%d of %d delivered messages not found in INBOX or Junk (e.g. %s)",
			len(want)-len(seen), len(want), strings.Join(missing, ", "))
	}
	if len(required) > 0 {
		fc.Required = required[0]
		for _, r := range required[1:] {
			if r != fc.Required {
				fc.Required = ""
				break
			}
		}
	}
	return verdicts, fc, nil
}
