// Command smtpload drives bench/smtpload: SMTP ingest load against any
// server, a new connection per message, and a Markdown report of the
// results. bench/smtp-ingest.sh runs it against Surat and Postfix.
//
//	smtpload run -label surat -addr 127.0.0.1:2525 -senders 8 -messages 3000 \
//	    -to u1@example.test [-starttls] [-maildir GLOB] [-proc name=PID]... \
//	    [-metrics URL,URL] [-attempts 5] [-out results.jsonl]
//	smtpload table -in results.jsonl [-subject surat -peer postfix]
//
// run prints one line of summary and appends the Result as one JSON line to
// -out. With -maildir it then waits until the maildirs (which must start
// empty) hold every accepted message, and reports the end-to-end rate.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/smtpload"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: smtpload run|table [flags] (-h for the flags)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "table":
		err = table(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q (run, table)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "smtpload:", err)
		os.Exit(1)
	}
}

// procFlags collects -proc name=PID.
type procFlags map[string]int

func (p procFlags) String() string { return fmt.Sprint(map[string]int(p)) }

func (p procFlags) Set(v string) error {
	name, pid, ok := strings.Cut(v, "=")
	n, err := strconv.Atoi(pid)
	if !ok || name == "" || err != nil || n <= 0 {
		return errors.New("want NAME=PID")
	}
	p[name] = n
	return nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	var (
		label    = fs.String("label", "server", "name of the server under test in the results")
		addrs    = fs.String("addr", "127.0.0.1:25", "SMTP `HOST:PORT`s, comma separated, taken in turn message by message")
		pinned   = fs.Bool("per-sender", false, "pin sender i to the i-th -addr (modulo their number) instead")
		sources  = fs.Int("sources", 0, "bind the senders to `N` loopback source addresses 127.0.1.1..N (0: 127.0.0.1)")
		senders  = fs.Int("senders", 1, "concurrent senders")
		messages = fs.Int("messages", 3000, "messages in all")
		duration = fs.Duration("duration", 60*time.Second, "start no message after this")
		from     = fs.String("from", "sender@other.test", "envelope and header sender")
		to       = fs.String("to", "u1@example.test", "recipient")
		size     = fs.Int("size", 4096, "body bytes (headers excluded)")
		startTLS = fs.Bool("starttls", false, "STARTTLS before MAIL (default: plain, like the peers' smtp-source figures)")
		maildir  = fs.String("maildir", "", "after sending, wait until directories matching this `GLOB` hold every accepted message")
		mdWait   = fs.Duration("maildir-timeout", 120*time.Second, "give up waiting for the maildirs after this (from the start)")
		metrics  = fs.String("metrics", "", "/metrics `URLs` of the server's nodes, comma separated, scraped before and after")
		out      = fs.String("out", "", "append the result as one JSON line to this `FILE`")
		note     = fs.String("note", "", "free text kept with the result")
		samples  = fs.String("samples", "", "write one CSV line per message to this `FILE`")
		attempts = fs.Int("attempts", 5, "tries per message in all: a temporary failure (4xx, connection failure) is retried on the next -addr after a backoff, as an MTA would; 1: never retry")
		backoff  = fs.Duration("retry-backoff", 50*time.Millisecond, "first wait before a retry (doubled each time, at most 2 s)")
		procs    = procFlags{}
	)
	fs.Var(procs, "proc", "`NAME=PID`: report the CPU time of this process tree (repeatable)")
	fs.Parse(args)

	cfg := smtpload.Config{
		Addrs: strings.Split(*addrs, ","), Senders: *senders, Messages: *messages, Duration: *duration,
		From: *from, To: *to, BodySize: *size, StartTLS: *startTLS, PerSender: *pinned, Sources: *sources,
		Attempts: *attempts, RetryBackoff: *backoff,
	}
	if *samples != "" {
		f, err := os.Create(*samples)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Samples = f
	}
	var metricURLs []string
	if *metrics != "" {
		metricURLs = strings.Split(*metrics, ",")
	}

	// Readings before.
	var before smtpload.Scrape
	if len(metricURLs) > 0 {
		var err error
		if before, err = smtpload.ScrapeAll(metricURLs); err != nil {
			return fmt.Errorf("metrics before: %w", err)
		}
	}
	cpuBefore := map[string]float64{}
	for name, pid := range procs {
		v, err := smtpload.TreeCPU(pid)
		if err != nil {
			return fmt.Errorf("-proc %s=%d: %w", name, pid, err)
		}
		cpuBefore[name] = v
	}
	load := smtpload.Load1()
	busy0, total0, _ := smtpload.MachineCPU()
	self0 := smtpload.SelfCPU()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := smtpload.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.Label, res.Note, res.Load1Before = *label, *note, load

	// Readings after: for an end-to-end run, after the maildir wait, so the
	// CPU columns cover the delivery as well as the acceptance.
	if *maildir != "" {
		smtpload.WaitMaildir(res, *maildir, *mdWait)
	}
	res.ClientCPUS = smtpload.SelfCPU() - self0
	busy1, total1, cpuErr := smtpload.MachineCPU()
	if cpuErr == nil && total1 > total0 {
		res.MachineBusy = float64(busy1-busy0) / float64(total1-total0)
	}
	res.Load1After = smtpload.Load1()
	if len(procs) > 0 {
		res.ProcCPUS = map[string]float64{}
		for name, pid := range procs {
			if v, err := smtpload.TreeCPU(pid); err == nil {
				res.ProcCPUS[name] = v - cpuBefore[name]
			}
		}
	}
	if cpuErr == nil {
		res.OtherCPUS = float64(busy1-busy0)/smtpload.UserHZ - res.ClientCPUS
		for _, v := range res.ProcCPUS {
			res.OtherCPUS -= v
		}
		res.OtherCPUS = max(res.OtherCPUS, 0)
	}
	if len(metricURLs) > 0 {
		after, err := smtpload.ScrapeAll(metricURLs)
		if err != nil {
			return fmt.Errorf("metrics after: %w", err)
		}
		res.Server = smtpload.Delta(before, after, len(metricURLs))
	}

	fmt.Printf("%s senders=%d accepted=%d errors=%d wall=%.2fs msgs/s=%.0f data-end p50=%.1fms p99=%.1fms max=%.1fms",
		res.Label, res.Senders, res.Accepted, res.Errors, res.WallS, res.AcceptedPerS, res.P50Ms, res.P99Ms, res.MaxMs)
	if *maildir != "" {
		fmt.Printf(" e2e: delivered=%d in %.2fs = %.0f msgs/s", res.Delivered, res.E2ES, res.E2EPerS)
	}
	fmt.Printf(" busy=%.0f%% other-cpu=%.1fs load=%.2f\n", 100*res.MachineBusy, res.OtherCPUS, res.Load1Before)
	for k, n := range res.ErrorKinds {
		fmt.Printf("  error %s ×%d\n", k, n)
	}
	if res.Retries > 0 {
		fmt.Printf("  %d messages needed %d retries:", res.RetriedMessages, res.Retries)
		for k, n := range res.RetryKinds {
			fmt.Printf(" %s ×%d;", k, n)
		}
		fmt.Println()
	}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := json.NewEncoder(f).Encode(res); err != nil {
			return err
		}
	}
	if res.Accepted == 0 {
		return errors.New("no message accepted")
	}
	return nil
}

func table(args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	var (
		in      = fs.String("in", "", "results, one JSON line each (from run -out)")
		subject = fs.String("subject", "surat", "label of the server measured")
		peer    = fs.String("peer", "postfix", "label of the server compared with")
		rate    = fs.Float64("target-rate", 900, "target msgs/s for the subject at the highest sender count")
		p99     = fs.Float64("target-p99", 50, "target p99 DATA-end to 250, ms")
	)
	fs.Parse(args)
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	results, err := smtpload.ReadResults(f)
	if err != nil {
		return err
	}
	smtpload.WriteTables(os.Stdout, results, *subject, *peer, smtpload.Target{MsgsPerS: *rate, P99Ms: *p99})
	return nil
}
