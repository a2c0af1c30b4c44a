// Command scale measures how Surat's costs grow (bench/scale): SMTP ingest
// rate, memory and disk at several user counts on real processes, and the
// time a wiped node takes to recover from a snapshot of a large store. It
// appends one JSON object a line (scale.Record) to -out, which
// bench/cmd/report turns into bench/results/scale.md.
//
//	scale users    -bin bin/surat -levels 1000,10000,100000 -messages 20000 -senders 32 -out F
//	scale snapshot -messages 1000000 -users 1000 -body 1024 -out F
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/report"
	"github.com/surat-mail/surat/bench/scale"
	"github.com/surat-mail/surat/bench/smtpload"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "users" && os.Args[1] != "snapshot") {
		fmt.Fprintln(os.Stderr, "usage: scale users|snapshot [flags] (-h for the flags)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if os.Args[1] == "users" {
		err = users(ctx, os.Args[2:])
	} else {
		err = snapshot(ctx, os.Args[2:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

var logf = report.Logf

func write(path string, rec scale.Record) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(rec)
}

func users(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("users", flag.ExitOnError)
	var (
		bin      = fs.String("bin", "bin/surat", "the surat binary")
		levels   = fs.String("levels", "1000,10000,100000", "user counts, comma separated: a fresh cluster for each")
		messages = fs.Int("messages", 20000, "SMTP deliveries at each level, message n to user n mod users")
		senders  = fs.Int("senders", 32, "concurrent SMTP senders")
		body     = fs.Int("body", 4096, "message body bytes")
		conns    = fs.Int("create-conns", 32, "concurrent user creations (admin API, spread over the nodes)")
		dir      = fs.String("dir", "", "where the clusters' data go (default: the system's temporary directory)")
		keep     = fs.Bool("keep", false, "keep the data directories")
		out      = fs.String("out", "", "append the records as JSON lines to this `FILE`")
	)
	_ = fs.Parse(args)
	binPath, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -levels %q", *levels)
		}
		logf("level %d users: a fresh three-node cluster", n)
		rec := scale.Record{Kind: "users", Started: time.Now(), Load1: smtpload.Load1()}
		rec.Users, err = scale.Users(ctx, scale.UsersConfig{Bin: binPath, Dir: *dir, Keep: *keep, Users: n, Messages: *messages,
			Senders: *senders, CreateConns: *conns, BodySize: *body, Log: logf})
		if err != nil {
			return fmt.Errorf("%d users: %w", n, err)
		}
		for i, u := range rec.Users.AfterMail {
			b := rec.Users.AfterUsers[i]
			logf("  %s: RSS %.0f → %.0f MiB, live heap %.0f → %.0f MiB, Pebble %.1f → %.1f MB, Raft %.1f → %.1f MB",
				u.ID, mib(b.RSS), mib(u.RSS), b.HeapLive/(1<<20), u.HeapLive/(1<<20), float64(b.PebbleBytes)/1e6, float64(u.PebbleBytes)/1e6,
				float64(b.RaftBytes)/1e6, float64(u.RaftBytes)/1e6)
		}
		if err := write(*out, rec); err != nil {
			return err
		}
	}
	return nil
}

func snapshot(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ExitOnError)
	var (
		messages = fs.Int("messages", 1_000_000, "messages in the store before the snapshot")
		nusers   = fs.Int("users", 1000, "users they are spread over")
		body     = fs.Int("body", 1024, "bytes of each message, headers included")
		per      = fs.Int("per-proposal", 200, "deliveries per proposal while building")
		subs     = fs.Int("submitters", 6, "proposals in flight while building")
		dir      = fs.String("dir", "", "where the nodes' data go (default: the system's temporary directory)")
		keep     = fs.Bool("keep", false, "keep the data directory")
		verbose  = fs.Bool("v", false, "the nodes' warnings on stderr")
		out      = fs.String("out", "", "append the record as a JSON line to this `FILE`")
	)
	_ = fs.Parse(args)
	var logger *slog.Logger
	if *verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rec := scale.Record{Kind: "snapshot", Started: time.Now(), Load1: smtpload.Load1()}
	var err error
	rec.Snap, err = scale.Snapshot(ctx, scale.SnapshotConfig{Dir: *dir, Keep: *keep, Messages: *messages, Users: *nusers,
		BodySize: *body, PerProposal: *per, Submitters: *subs, Log: logf, Logger: logger})
	if err != nil {
		return err
	}
	return write(*out, rec)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
