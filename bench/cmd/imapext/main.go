// Command imapext measures QRESYNC resync, SORT (DATE) and
// THREAD=REFERENCES on one large mailbox against three Surat nodes and
// Dovecot side by side, both over implicit TLS (bench/imapext). It fills
// both with the same messages (Surat over IMAP APPEND, every message a
// Raft commit; Dovecot's Maildir written directly, as bench/imap-pop3.sh
// does), then runs the cases, reporting "not supported" for a capability a
// server does not advertise. It writes imapext.jsonl and imapext.md to
// -results. Needs root (it installs and runs Dovecot).
//
//	imapext -bin bin/surat -messages 10000 -rounds 5 -results bench/results
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/imapext"
	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/report"
)

var logf = report.Logf

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "imapext:", err)
		os.Exit(1)
	}
}

const (
	user = "u1@example.test"
	pass = "pass" // bench/peers/users.passwd's, given to Surat's user too
)

func run() error {
	var (
		bin        = flag.String("bin", "bin/surat", "the surat binary")
		messages   = flag.Int("messages", 10000, "messages in the mailbox")
		rounds     = flag.Int("rounds", 5, "measured rounds of each case (after one warm-up)")
		flags      = flag.Int("flag-changes", 100, "messages whose flags change before each resync")
		expunges   = flag.Int("expunges", 10, "messages expunged before each resync")
		peers      = flag.String("peers", "bench/peers", "the peer recipe (dovecot.conf.in, users.passwd)")
		results    = flag.String("results", "bench/results", "write imapext.jsonl and imapext.md to this `DIR`")
		rev        = flag.String("rev", "", "what to call the measured binary's source (default: the git commit of -repo)")
		repo       = flag.String("repo", ".", "the git checkout the binary was built from")
		dir        = flag.String("dir", "", "where the servers' data go (default: the system's temporary directory)")
		keep       = flag.Bool("keep", false, "keep the data directory and logs")
		noDovecot  = flag.Bool("no-dovecot", false, "measure Surat alone")
		reportOnly = flag.Bool("report-only", false, "measure nothing: write imapext.md again from imapext.jsonl")
		threadDiff = flag.Bool("thread-diff", false, "measure nothing: compare the two servers' THREAD REFERENCES trees, by Message-ID, "+
			"before and after the resync cases' changes, into -results/imapext-thread-diff.txt")
	)
	flag.Parse()
	machine := report.ReadMachine(*repo, *rev).Line()
	jsonlPath := filepath.Join(*results, "imapext.jsonl")
	if *reportOnly {
		recs, err := report.ReadRecords(jsonlPath, imapext.ReadRecords)
		if err != nil {
			return err
		}
		return writeMarkdown(*results, recs, *messages, machine)
	}
	binPath, err := report.BinPath(*bin)
	if err != nil {
		return err
	}
	peersDir, err := filepath.Abs(*peers)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp(*dir, "imapext-")
	if err != nil {
		return err
	}
	if err := os.Chmod(work, 0o755); err != nil { // Dovecot's users (dovecot, vmail) traverse it
		return err
	}
	if *keep {
		logf("data and logs kept in %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	jsonl, err := report.CreateRecords[imapext.Record](jsonlPath)
	if err != nil {
		return err
	}
	defer jsonl.Close()

	corpus := imapext.Corpus(*messages)
	gen := func(_ string, i int) []byte { return corpus[i] }

	var dv *imapext.Dovecot
	if !*noDovecot {
		logf("starting Dovecot (%s), writing %d messages into its Maildir", peersDir, *messages)
		if dv, err = imapext.StartDovecot(ctx, peersDir, filepath.Join(work, "dovecot")); err != nil {
			return err
		}
		defer dv.Stop()
		if err := imapload.WriteMaildirMessages(dv.Maildir(user), user, 0, *messages, gen); err != nil {
			return err
		}
		if out, err := chownVmail(filepath.Join(work, "dovecot", "mail")); err != nil {
			return fmt.Errorf("chown: %w: %s", err, out)
		}
	}
	logf("starting three Surat nodes and filling %s with %d messages over IMAP APPEND", user, *messages)
	s, err := imapext.StartSurat(ctx, binPath, filepath.Join(work, "surat"), []string{user}, pass)
	if err != nil {
		return err
	}
	defer s.Close()
	var conns []imapload.Conn
	for _, t := range s.IMAPTargets() {
		conns = append(conns, imapload.Conn{Addr: t.Addr, StartTLS: true, Password: pass})
	}
	t0 := time.Now()
	fill, err := imapload.Fill(ctx, imapload.FillConfig{Conns: conns, Users: []string{user}, Messages: *messages,
		Make: gen, Connections: 6})
	if err != nil {
		return fmt.Errorf("filling Surat: %w", err)
	}
	logf("Surat filled: %d messages in %.1f s (%d retries)", fill.Appended, time.Since(t0).Seconds(), fill.Retries)

	if *threadDiff {
		if dv == nil {
			return fmt.Errorf("-thread-diff needs Dovecot")
		}
		return runThreadDiff(ctx, s.IMAPS[0], *rounds, *flags, *expunges, filepath.Join(*results, "imapext-thread-diff.txt"))
	}
	servers := []imapext.Config{{Label: "surat", Addr: s.IMAPS[0]}}
	if dv != nil {
		servers = append(servers, imapext.Config{Label: "dovecot", Addr: imapext.DovecotIMAPS})
	}
	for _, cfg := range servers {
		cfg.User, cfg.Pass, cfg.Rounds, cfg.FlagChanges, cfg.Expunges, cfg.Log = user, pass, *rounds, *flags, *expunges, logf
		logf("measuring %s (%s)", cfg.Label, cfg.Addr)
		if err := imapext.Run(ctx, cfg, jsonl.Emit); err != nil {
			return err
		}
	}
	if err := jsonl.Commit(); err != nil {
		return err
	}
	logf("wrote %s", jsonlPath)
	return writeMarkdown(*results, jsonl.All(), *messages, machine)
}

func writeMarkdown(dir string, recs []imapext.Record, messages int, machine string) error {
	path := filepath.Join(dir, "imapext.md")
	if err := report.WriteMarkdown(path, func(w io.Writer) {
		imapext.WriteMarkdown(w, recs, messages, machine, imapext.DovecotVersion())
	}); err != nil {
		return err
	}
	return nil
}

// chownVmail gives the Maildir written as root to vmail, as Dovecot's own.
func chownVmail(dir string) ([]byte, error) {
	return exec.Command("chown", "-R", "vmail:vmail", dir).CombinedOutput()
}

// runThreadDiff writes the THREAD REFERENCES trees' differences between
// Surat (at surat) and Dovecot to path: over the filled mailboxes, then
// after the changes the resync cases make before the thread case runs.
func runThreadDiff(ctx context.Context, surat string, rounds, flags, expunges int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cfgs := []imapext.Config{{Label: "surat", Addr: surat}, {Label: "dovecot", Addr: imapext.DovecotIMAPS}}
	for _, stage := range []string{"as filled", "after the resync cases' changes"} {
		if stage != "as filled" {
			for _, cfg := range cfgs {
				cfg.User, cfg.Pass, cfg.FlagChanges, cfg.Expunges = user, pass, flags, expunges
				if err := imapext.ReplayMutations(ctx, cfg, rounds); err != nil {
					return err
				}
			}
		}
		var sides []imapext.ThreadSide
		for _, cfg := range cfgs {
			side, err := imapext.ReadThreadSide(ctx, cfg.Label, cfg.Addr, user, pass)
			if err != nil {
				return err
			}
			sides = append(sides, side)
		}
		fmt.Fprintf(f, "== %s\n", stage)
		n := imapext.WriteThreadDiff(f, sides[0], sides[1])
		fmt.Fprintln(f)
		logf("%s: surat %d threads, dovecot %d threads, %d threads differ", stage, len(sides[0].Threads), len(sides[1].Threads), n)
	}
	logf("wrote %s", path)
	return nil
}
