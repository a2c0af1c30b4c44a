// Command imapload drives bench/imapload against any IMAP/POP3 server;
// bench/imap-pop3.sh runs it against Surat and Dovecot.
//
//	imapload fill   -addr A[,B,..] [-starttls] -users U1,U2.. -messages N -conns C [-attempts 8] [-label L -out F]
//	imapload maildir -dir DIR -user U -messages N
//	imapload static -label L -addr A [-starttls] -user U -rounds 3 -warm 1 [-proc name=PID].. -out F
//	imapload pop3   -label L -addr A [-starttls] -big-user U -small-user V -rounds 3 -warm 1 [-proc ..] -out F
//	imapload mixed  -label L -addr A[,B,..] [-starttls] -users .. -clients 20 -duration 30s [-proc ..] -out F
//	imapload idle   -label L -addr A [-starttls] -users .. -n 1000,10000 -sources 120 -pid PID -metrics URL -out F
//	imapload table  -in F [-subject surat]
//
// Every measuring subcommand appends one JSON object a line to -out
// (imapload.Record) and prints a summary line per round on stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/smtpload"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: imapload fill|static|pop3|mixed|idle|table [flags] (-h for the flags)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmds := map[string]func(context.Context, []string) error{
		"fill": fill, "maildir": maildir, "static": static, "pop3": pop3, "mixed": mixed, "idle": idle, "table": table,
	}
	fn := cmds[os.Args[1]]
	if fn == nil {
		fmt.Fprintf(os.Stderr, "imapload: unknown subcommand %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := fn(ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "imapload:", err)
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

// common are the flags every measuring subcommand takes.
type common struct {
	fs       *flag.FlagSet
	label    *string
	addr     *string
	startTLS *bool
	password *string
	note     *string
	out      *string
	procs    procFlags
}

func newCommon(name string) *common {
	c := &common{fs: flag.NewFlagSet(name, flag.ExitOnError), procs: procFlags{}}
	c.label = c.fs.String("label", "server", "name of the server under test in the results")
	c.addr = c.fs.String("addr", "127.0.0.1:143", "`HOST:PORT`s, comma separated")
	c.startTLS = c.fs.Bool("starttls", false, "STARTTLS (IMAP) / STLS (POP3) before login")
	c.password = c.fs.String("password", "pass", "every user's password")
	c.note = c.fs.String("note", "", "free text kept with the results")
	c.out = c.fs.String("out", "", "append results as JSON lines to this `FILE`")
	c.fs.Var(c.procs, "proc", "`NAME=PID`: a server process tree whose CPU to record (repeatable)")
	return c
}

func (c *common) conns() []imapload.Conn {
	var out []imapload.Conn
	for _, a := range strings.Split(*c.addr, ",") {
		out = append(out, imapload.Conn{Addr: strings.TrimSpace(a), StartTLS: *c.startTLS, Password: *c.password})
	}
	return out
}

func (c *common) record(kind string) imapload.Record {
	return imapload.Record{Kind: kind, Label: *c.label, TLS: *c.startTLS, Note: *c.note, Start: time.Now(),
		Load1: smtpload.Load1(), Addrs: strings.Split(*c.addr, ",")}
}

func (c *common) write(rec imapload.Record) error {
	if *c.out == "" {
		return nil
	}
	f, err := os.OpenFile(*c.out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(rec)
}

// cpuSteps returns a step function for Static/POP3Round that records each
// step's CPU (the -proc trees and this process) into m.
func (c *common) cpuSteps(m map[string]map[string]float64) func(string) {
	var cur string
	before := map[string]float64{}
	read := func() map[string]float64 {
		out := map[string]float64{"client": smtpload.SelfCPU()}
		if busy, _, err := smtpload.MachineCPU(); err == nil {
			out["machine"] = float64(busy) / smtpload.UserHZ
		}
		for name, pid := range c.procs {
			if v, err := smtpload.TreeCPU(pid); err == nil {
				out[name] = v
			}
		}
		return out
	}
	return func(step string) {
		if step != "" {
			cur, before = step, read()
			return
		}
		after := read()
		d := map[string]float64{}
		for k, v := range after {
			d[k] = v - before[k]
		}
		m[cur] = d
	}
}

func users(s string) []string {
	var out []string
	for _, u := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, u)
	}
	return out
}

func fill(ctx context.Context, args []string) error {
	c := newCommon("fill")
	us := c.fs.String("users", "", "users to fill, comma separated")
	n := c.fs.Int("messages", 100, "messages per user")
	conns := c.fs.Int("conns", 8, "concurrent connections")
	attempts := c.fs.Int("attempts", 8, "tries per APPEND in all: NO [UNAVAILABLE] and lost connections are retried with backoff, as a client would")
	_ = c.fs.Parse(args)
	t := time.Now()
	res, err := imapload.Fill(ctx, imapload.FillConfig{Conns: c.conns(), Users: users(*us), Messages: *n, Connections: *conns, Attempts: *attempts})
	el := time.Since(t).Seconds()
	fmt.Fprintf(os.Stderr, "fill %s: %d messages APPENDed in %.1f s (%.0f/s), %d retries", *c.label, res.Appended, el, float64(res.Appended)/el, res.Retries)
	for _, k := range slices.Sorted(maps.Keys(res.RetryKinds)) {
		fmt.Fprintf(os.Stderr, "; %s ×%d", k, res.RetryKinds[k])
	}
	fmt.Fprintln(os.Stderr)
	// The fill is kept as a record too, so the report can say how many
	// APPENDs had to be retried.
	rec := c.record("fill")
	rec.Fill = &res
	if werr := c.write(rec); werr != nil && err == nil {
		err = werr
	}
	return err
}

func maildir(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("maildir", flag.ExitOnError)
	dir := fs.String("dir", "", "the Maildir to write into (created if missing)")
	user := fs.String("user", "u100@example.test", "whose messages (the To: and Message-ID)")
	n := fs.Int("messages", 100, "messages")
	_ = fs.Parse(args)
	if *dir == "" {
		return errors.New("maildir needs -dir")
	}
	t := time.Now()
	if err := imapload.WriteMaildir(*dir, *user, 0, *n); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "maildir: %d messages written in %.1f s\n", *n, time.Since(t).Seconds())
	return nil
}

func static(ctx context.Context, args []string) error {
	c := newCommon("static")
	user := c.fs.String("user", "u100@example.test", "the user whose INBOX is measured")
	rounds := c.fs.Int("rounds", 3, "measured rounds")
	warm := c.fs.Int("warm", 1, "warm-up rounds first (not in the medians)")
	_ = c.fs.Parse(args)
	for i := range *warm + *rounds {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec := c.record("static")
		rec.Round, rec.Warm = i+1-*warm, i < *warm
		rec.StepCPU = map[string]map[string]float64{}
		res, err := imapload.Static(c.conns()[0], *user, c.cpuSteps(rec.StepCPU))
		if err != nil {
			return fmt.Errorf("%s round %d: %w", *c.label, i+1, err)
		}
		rec.Static = res
		fmt.Fprintf(os.Stderr, "static %s tls=%v round %d%s: login %.3f select %.3f (%d) meta %.3f (%d) body %.3f (%d, %.1f MB) search-hdr %.3f (%d) search-body %.3f (%d)\n",
			*c.label, *c.startTLS, rec.Round, map[bool]string{true: " (warm-up)"}[rec.Warm], res.LoginS, res.SelectS, res.Messages,
			res.FetchMetaS, res.MetaMessages, res.FetchBodyS, res.BodyMessages, float64(res.BodyBytes)/1e6,
			res.SearchHdrS, res.SearchHdrN, res.SearchBodyS, res.SearchBodyN)
		if err := c.write(rec); err != nil {
			return err
		}
	}
	return nil
}

func pop3(ctx context.Context, args []string) error {
	c := newCommon("pop3")
	big := c.fs.String("big-user", "u100@example.test", "UIDL on this user's maildrop")
	small := c.fs.String("small-user", "u99@example.test", "RETR of every message of this user's maildrop")
	rounds := c.fs.Int("rounds", 3, "measured rounds")
	warm := c.fs.Int("warm", 1, "warm-up rounds first (not in the medians)")
	_ = c.fs.Parse(args)
	for i := range *warm + *rounds {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec := c.record("pop3")
		rec.Round, rec.Warm = i+1-*warm, i < *warm
		rec.StepCPU = map[string]map[string]float64{}
		res, err := imapload.POP3Round(c.conns()[0], *big, *small, c.cpuSteps(rec.StepCPU))
		if err != nil {
			return fmt.Errorf("%s round %d: %w", *c.label, i+1, err)
		}
		rec.POP3 = res
		fmt.Fprintf(os.Stderr, "pop3 %s tls=%v round %d%s: login+stat %.3f uidl %.3f (%d) login+stat(small) %.3f retr %.3f (%d, %.1f MB)\n",
			*c.label, *c.startTLS, rec.Round, map[bool]string{true: " (warm-up)"}[rec.Warm], res.LoginStatS, res.UIDLS, res.UIDLMessages,
			res.LoginStatSmlS, res.RetrS, res.RetrMessages, float64(res.RetrBytes)/1e6)
		if err := c.write(rec); err != nil {
			return err
		}
	}
	return nil
}

func mixed(ctx context.Context, args []string) error {
	c := newCommon("mixed")
	us := c.fs.String("users", "", "users, comma separated")
	clients := c.fs.Int("clients", 20, "persistent clients")
	duration := c.fs.Duration("duration", 30*time.Second, "how long")
	seed := c.fs.Uint64("seed", 1, "seed of the users' and messages' choice (the same for every server)")
	warmup := c.fs.Duration("warmup", 5*time.Second, "a warm-up run of this length first, not recorded (0: none)")
	_ = c.fs.Parse(args)
	if *warmup > 0 {
		wcfg := imapload.MixedConfig{Conns: c.conns(), Users: users(*us), Clients: *clients, Duration: *warmup, Seed: *seed + 1000}
		if _, err := imapload.Mixed(ctx, wcfg); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	rec := c.record("mixed")
	rec.StepCPU = map[string]map[string]float64{}
	step := c.cpuSteps(rec.StepCPU)
	cfg := imapload.MixedConfig{Conns: c.conns(), Users: users(*us), Clients: *clients, Duration: *duration, Seed: *seed}
	// Mixed logs in before it measures; CPU is read around the whole run,
	// logins included (a few tens of ms).
	step("run")
	res, err := imapload.Mixed(ctx, cfg)
	step("")
	if err != nil {
		return err
	}
	rec.Mixed = res
	var parts []string
	for _, cmd := range imapload.MixedCommands {
		if st := res.Commands[cmd]; st != nil {
			parts = append(parts, fmt.Sprintf("%s %.0f/s (p50 %.1f p99 %.1f ms, %d err)", cmd, st.PerS, st.P50Ms, st.P99Ms, st.Errors))
		}
	}
	fmt.Fprintf(os.Stderr, "mixed %s tls=%v: %d clients, %d users, %.1f s, %d iterations: %s\n", *c.label, *c.startTLS,
		res.Clients, res.Users, res.WallS, res.Iterations, strings.Join(parts, "; "))
	if res.FirstError != "" {
		fmt.Fprintf(os.Stderr, "mixed %s: first error: %s\n", *c.label, res.FirstError)
	}
	return c.write(rec)
}

func idle(ctx context.Context, args []string) error {
	c := newCommon("idle")
	us := c.fs.String("users", "", "users, comma separated; connection k logs in as the (k mod n)th")
	ns := c.fs.String("n", "1000", "connection counts, ascending, comma separated: connections are added up to each in turn")
	sources := c.fs.Int("sources", 0, "spread connections over `N` source addresses 127.0.2.1..N")
	conc := c.fs.Int("concurrency", 4, "connections opened at once")
	pid := c.fs.Int("pid", 0, "the server process whose RSS to read")
	metricsURL := c.fs.String("metrics", "", "the server's Prometheus /metrics URL (Go heap, goroutines)")
	settle := c.fs.Duration("settle", 5*time.Second, "wait before each reading")
	_ = c.fs.Parse(args)
	if *pid <= 0 {
		return errors.New("idle needs -pid")
	}
	var levels []int
	for _, nStr := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(nStr))
		if err != nil || n <= 0 || (len(levels) > 0 && n <= levels[len(levels)-1]) {
			return fmt.Errorf("bad -n %q: ascending positive counts", *ns)
		}
		levels = append(levels, n)
	}
	readMem := func() (rss int64, m map[string]float64) {
		rss, _ = imapload.RSSBytes(*pid)
		if *metricsURL != "" {
			m, _ = imapload.GoMetrics(*metricsURL)
		}
		if m == nil {
			m = map[string]float64{}
		}
		return rss, m
	}
	userList := users(*us)
	cfg := imapload.IdleConfig{Conn: c.conns()[0], Users: userList, Sources: *sources, Concurrency: *conc}
	// Warm-up: log in as many connections as are opened at once, twice
	// over, so that the memory password hashing takes (argon2id: 19 MiB a
	// login on Surat) is in the baseline rather than counted against the
	// idle connections.
	cfg.N = *conc * 2
	warmSet, _, err := imapload.OpenIdle(ctx, cfg)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	warmSet.Close()
	time.Sleep(*settle)
	rssBase, mBase := readMem()
	prevRSS, prevM, prevN := rssBase, mBase, 0
	var sets []*imapload.IdleSet
	defer func() {
		for _, s := range sets {
			s.Close()
		}
	}()
	alive := func() int {
		n := 0
		for _, s := range sets {
			n += s.Alive()
		}
		return n
	}
	opened := 0
	for _, n := range levels {
		rec := c.record("idle")
		res := &imapload.IdleResult{N: n, Users: min(n, len(userList)), PrevN: prevN}
		res.RSSBefore, res.HeapBefore = rssBase, liveHeap(mBase)
		res.StackBefore, res.GorBefore = mBase["go_memstats_stack_inuse_bytes"], mBase["go_goroutines"]
		cpu0, _ := smtpload.TreeCPU(*pid)
		t := time.Now()
		cfg.N = n - opened
		cfg.Offset = opened
		set, failed, err := imapload.OpenIdle(ctx, cfg)
		sets = append(sets, set)
		res.OpenS = time.Since(t).Seconds()
		cpu1, _ := smtpload.TreeCPU(*pid)
		res.ServerCPUS = cpu1 - cpu0
		opened += set.Len()
		res.Opened, res.Failed = opened, failed
		if err != nil {
			res.FirstError = err.Error()
		}
		time.Sleep(*settle)
		var m map[string]float64
		res.RSSAfter, m = readMem()
		res.Alive = alive()
		res.HeapAfter = liveHeap(m)
		res.StackAfter, res.GorAfter = m["go_memstats_stack_inuse_bytes"], m["go_goroutines"]
		res.HeapInuseAfter = m["go_memstats_heap_inuse_bytes"]
		a := float64(max(res.Alive, 1))
		res.RSSPerConn = float64(res.RSSAfter-res.RSSBefore) / a
		res.HeapPerConn = (res.HeapAfter - res.HeapBefore) / a
		if prevN > 0 && res.Alive > prevN {
			d := float64(res.Alive - prevN)
			res.RSSSlope = float64(res.RSSAfter-prevRSS) / d
			res.HeapSlope = (res.HeapAfter - liveHeap(prevM)) / d
		}
		runtime.GC()
		debug.FreeOSMemory()
		res.ClientRSS, _ = imapload.RSSBytes(os.Getpid())
		prevRSS, prevM, prevN = res.RSSAfter, m, res.Alive
		rec.Idle = res
		fmt.Fprintf(os.Stderr, "idle %s: %d asked, %d open (%d failed), %d alive; RSS %.1f -> %.1f MiB: %.1f KiB/conn (marginal %.1f); live heap %.1f -> %.1f MiB: %.1f KiB/conn (marginal %.1f); goroutines %.0f -> %.0f; open %.1f s, server CPU %.1f s\n",
			*c.label, n, opened, failed, res.Alive, mibf(res.RSSBefore), mibf(res.RSSAfter), res.RSSPerConn/1024, res.RSSSlope/1024,
			res.HeapBefore/(1<<20), res.HeapAfter/(1<<20), res.HeapPerConn/1024, res.HeapSlope/1024, res.GorBefore, res.GorAfter, res.OpenS, res.ServerCPUS)
		if res.FirstError != "" {
			fmt.Fprintf(os.Stderr, "idle %s: first failure: %s\n", *c.label, res.FirstError)
		}
		if err := c.write(rec); err != nil {
			return err
		}
	}
	for _, s := range sets {
		s.Close()
	}
	sets = nil
	time.Sleep(*settle)
	rss, _ := imapload.RSSBytes(*pid)
	fmt.Fprintf(os.Stderr, "idle %s: all closed: RSS %.1f MiB\n", *c.label, mibf(rss))
	return nil
}

func mibf(b int64) float64 { return float64(b) / (1 << 20) }

// liveHeap estimates the live heap after the last GC from the heap goal
// (go_memstats_next_gc_bytes): with GOGC=100 the goal is the live heap
// plus as much again, plus the goroutine stacks (Go 1.18 and later). Heap
// in use counts garbage not yet collected, and logins on Surat leave
// 19 MiB of it each (argon2id); there is no way to force a GC from
// outside.
func liveHeap(m map[string]float64) float64 {
	goal := m["go_memstats_next_gc_bytes"]
	if goal == 0 {
		return m["go_memstats_heap_inuse_bytes"]
	}
	return (goal - m["go_memstats_stack_inuse_bytes"]) / 2
}

func table(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	in := fs.String("in", "", "the JSON lines the other subcommands wrote")
	subject := fs.String("subject", "surat", "the label the ratios are computed for")
	_ = fs.Parse(args)
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := imapload.ReadRecords(f)
	if err != nil {
		return err
	}
	imapload.WriteTables(os.Stdout, recs, *subject)
	return nil
}
