// Command sieveload measures what Sieve scripts at delivery cost Surat
// (bench/sieveload): SMTP ingest on three real `surat serve` nodes with a
// 20-rule script active for every recipient against the same nodes with
// none, rounds alternating. It writes sieve-ingest.jsonl (a record per
// round) and sieve-ingest.md to -results; a run that fails leaves its
// records in sieve-ingest.jsonl.partial and the files of the last complete
// run alone.
//
//	sieveload -bin bin/surat -rounds 3 -messages 6000 -senders 32 -results bench/results
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/surat-mail/surat/bench/report"
	"github.com/surat-mail/surat/bench/sieveload"
	"github.com/surat-mail/surat/bench/smtpload"
)

var logf = report.Logf

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sieveload:", err)
		os.Exit(1)
	}
}

func run() error {
	c := report.NewOnOffFlags(flag.CommandLine, "sieve-ingest")
	var (
		rounds = flag.Int("rounds", 3, "rounds of each mode (on, off)")
		users  = flag.Int("users", 8, "recipients, each with the script; messages go to them in turn")
		body   = flag.Int("body", 4096, "message body bytes (headers on top)")
		dir    = flag.String("dir", "", "where the cluster's data go (default: the system's temporary directory)")
		keep   = flag.Bool("keep", false, "keep the data directory and node logs")
	)
	flag.Parse()
	machine := report.ReadMachine(*c.Repo, *c.Rev).Line()
	jsonlPath := filepath.Join(*c.Results, "sieve-ingest.jsonl")
	if *c.ReportOnly {
		recs, err := report.ReadRecords(jsonlPath, sieveload.ReadRecords)
		if err != nil {
			return err
		}
		return writeMarkdown(*c.Results, recs, machine)
	}
	binPath, err := report.BinPath(*c.Bin)
	if err != nil {
		return err
	}
	jsonl, err := report.CreateRecords[sieveload.Record](jsonlPath)
	if err != nil {
		return err
	}
	defer jsonl.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf("a fresh three-node cluster, %d users with a %d-rule script, %d rounds of each mode, %d messages each, %d senders",
		*users, sieveload.Rules(), *rounds, *c.Messages, *c.Senders)
	err = sieveload.Run(ctx, sieveload.Config{Bin: binPath, Dir: *dir, Keep: *keep, Rounds: *rounds,
		First: sieveload.Mode(*c.First), Messages: *c.Messages, Warmup: *c.Warmup, Senders: *c.Senders, Users: *users,
		BodySize: *body, Log: logf}, jsonl.Emit)
	if err != nil {
		return err
	}
	if s, ok := sieveload.Summarize(jsonl.All()); ok {
		logf("no script %.0f msgs/s, script %.0f msgs/s (medians): on/off %.2f (target %.2f), round pairs %.2f; server CPU per message off/on %.2f",
			smtpload.Median(s.Off), smtpload.Median(s.On), s.Ratio(), sieveload.TargetRatio, s.PairedRatio(), s.CPURatio())
	}
	if err := jsonl.Commit(); err != nil {
		return err
	}
	logf("wrote %s", jsonlPath)
	return writeMarkdown(*c.Results, jsonl.All(), machine)
}

// writeMarkdown writes sieve-ingest.md into dir from recs.
func writeMarkdown(dir string, recs []sieveload.Record, machine string) error {
	return report.WriteMarkdown(filepath.Join(dir, "sieve-ingest.md"), func(w io.Writer) { sieveload.WriteMarkdown(w, recs, machine) })
}
