// Command loginflood floods one real `surat serve` node with wrong IMAP
// passwords and prints its memory and real users' login times
// (bench/loginflood).
//
//	loginflood -bin bin/surat [-conns 2000] [-sources 40] [-duration 20s] [-out F]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/loginflood"
)

func main() {
	var (
		bin      = flag.String("bin", "bin/surat", "the surat binary")
		conns    = flag.Int("conns", 2000, "flooding connections")
		sources  = flag.Int("sources", 40, "loopback addresses the flood comes from")
		duration = flag.Duration("duration", 20*time.Second, "length of the flood")
		accounts = flag.Int("accounts", 20, "real accounts guessed at")
		rssLimit = flag.Int64("rss-limit", 4<<30, "kill the node past this RSS in `BYTES` (safety net)")
		dir      = flag.String("dir", "", "data directory (default: a temporary one, removed)")
		out      = flag.String("out", "", "append the result as a JSON line to `FILE`")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *dir, *out, loginflood.Config{Conns: *conns, Sources: *sources,
		Duration: *duration, Accounts: *accounts, RSSLimit: *rssLimit}); err != nil {
		fmt.Fprintln(os.Stderr, "loginflood:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, dir, out string, cfg loginflood.Config) error {
	var err error
	if cfg.Bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "loginflood-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	cfg.Dir = dir
	cfg.Log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
	}
	res, err := loginflood.Run(ctx, cfg)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	fmt.Printf("login flood, %s, %s (%d CPUs), binary %s\n", res.Date.Format(time.RFC3339), host, runtime.NumCPU(), bin)
	fmt.Printf("  %d connections from %d addresses, %v: %d wrong LOGINs\n", res.Conns, res.Sources, res.Duration, res.Attempts)
	fmt.Printf("  RSS: idle %d MiB, peak %d MiB, end %d MiB", res.IdleRSS>>20, res.PeakRSS>>20, res.EndRSS>>20)
	switch {
	case res.Killed:
		fmt.Printf(" (node killed at the %d MiB limit)", cfg.RSSLimit>>20)
	case res.NodeCrashed:
		fmt.Print(" (node died)")
	}
	fmt.Println()
	for _, l := range []struct {
		name string
		lat  loginflood.Latencies
	}{{"returning user", res.Returning}, {"first-time users", res.FirstTime}} {
		fmt.Printf("  valid logins, %s: %d ok, %d refused; median %v, p99 %v\n", l.name, len(l.lat.OK), l.lat.Refused,
			l.lat.Quantile(0.5).Round(time.Millisecond), l.lat.Quantile(0.99).Round(time.Millisecond))
	}
	kinds := make([]string, 0, len(res.Replies))
	for k := range res.Replies {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Printf("  flood replies %-24s %d\n", k+":", res.Replies[k])
	}
	if out != "" {
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		return json.NewEncoder(f).Encode(res)
	}
	return nil
}
