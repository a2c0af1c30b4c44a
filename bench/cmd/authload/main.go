// Command authload measures what authenticating inbound mail costs Surat
// (bench/authload): SMTP ingest on three real `surat serve` nodes with SPF,
// DKIM and DMARC checked (--resolver at an in-process DNS server) against
// the same nodes with the checks off (--resolver none), rounds alternating,
// and what DKIM signing costs per message. It writes auth-ingest.jsonl (a
// record per round and per signing measurement) and auth-ingest.md to
// -results; a run that fails leaves its records in
// auth-ingest.jsonl.partial and the files of the last complete run alone.
//
//	authload -bin bin/surat -keys ed25519,rsa -rounds 3 -messages 6000 -senders 32 -results bench/results
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/authload"
	"github.com/surat-mail/surat/bench/report"
	"github.com/surat-mail/surat/bench/smtpload"
)

var logf = report.Logf

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "authload:", err)
		os.Exit(1)
	}
}

func run() error {
	c := report.NewOnOffFlags(flag.CommandLine, "auth-ingest")
	var (
		keys   = flag.String("keys", "ed25519,rsa", "DKIM key algorithms, comma separated (ed25519, rsa): a fresh cluster and a full set of rounds for each")
		rounds = flag.Int("rounds", 3, "rounds of each mode (on, off) per key")
		body   = flag.Int("body", 4096, "message body bytes (headers and signature come on top)")
		dir    = flag.String("dir", "", "where the clusters' data go (default: the system's temporary directory)")
		keep   = flag.Bool("keep", false, "keep the data directories and node logs")
		noSign = flag.Bool("no-sign", false, "skip the DKIM signing measurement (Surat's signer: Ed25519, RSA-2048, both)")
	)
	flag.Parse()
	// The machine and the source are read before anything is written
	// (the report's own files would count as uncommitted changes).
	machine := report.ReadMachine(*c.Repo, *c.Rev).Line()
	jsonlPath := filepath.Join(*c.Results, "auth-ingest.jsonl")
	if *c.ReportOnly {
		recs, err := report.ReadRecords(jsonlPath, authload.ReadRecords)
		if err != nil {
			return err
		}
		return writeMarkdown(*c.Results, recs, machine)
	}
	binPath, err := report.BinPath(*c.Bin)
	if err != nil {
		return err
	}
	var algs []string
	for _, k := range strings.Split(*keys, ",") {
		k = strings.TrimSpace(k)
		if k != authload.KeyEd25519 && k != authload.KeyRSA {
			return fmt.Errorf("-keys: unknown %q (want %s or %s)", k, authload.KeyEd25519, authload.KeyRSA)
		}
		algs = append(algs, k)
	}
	// The records go to a .partial file until the run is complete, so
	// a failed run leaves the last complete one's files alone.
	jsonl, err := report.CreateRecords[authload.Record](jsonlPath)
	if err != nil {
		return err
	}
	defer jsonl.Close()
	emit := jsonl.Emit

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*noSign {
		for _, k := range []string{authload.SignEd25519, authload.SignRSA, authload.SignBoth} {
			load := smtpload.Load1()
			started := time.Now()
			s, err := authload.MeasureSign(k, *body)
			if err != nil {
				return err
			}
			logf("DKIM signing (protocols/dkimsign), %s, %d-byte message: %.3f ms per message (%d messages, load %.2f)", k, s.MsgBytes, s.Ms(), s.N, load)
			if err := emit(authload.Record{Kind: "sign", Started: started, Load1: load, Sign: &s}); err != nil {
				return err
			}
		}
	}
	for _, k := range algs {
		logf("%s: a fresh three-node cluster, %d rounds of each mode, %d messages each, %d senders", k, *rounds, *c.Messages, *c.Senders)
		err := authload.Run(ctx, authload.Config{Bin: binPath, Dir: *dir, Keep: *keep, Key: k, Rounds: *rounds,
			First: authload.Mode(*c.First), Messages: *c.Messages, Warmup: *c.Warmup, Senders: *c.Senders, BodySize: *body, Log: logf}, emit)
		if err != nil {
			return err
		}
	}
	for _, s := range authload.Summaries(jsonl.All()) {
		logf("%s: checks off %.0f msgs/s, on %.0f msgs/s (medians): on/off %.2f, round pairs %.2f; server CPU per message off/on %.2f",
			s.Key, smtpload.Median(s.Off), smtpload.Median(s.On), s.Ratio(), s.PairedRatio(), s.CPURatio())
	}

	if err := jsonl.Commit(); err != nil {
		return err
	}
	logf("wrote %s", jsonlPath)
	return writeMarkdown(*c.Results, jsonl.All(), machine)
}

// writeMarkdown writes auth-ingest.md into dir from recs.
func writeMarkdown(dir string, recs []authload.Record, machine string) error {
	return report.WriteMarkdown(filepath.Join(dir, "auth-ingest.md"), func(w io.Writer) { authload.WriteMarkdown(w, recs, machine) })
}
