package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/bench/failover"
	"github.com/surat-mail/surat/bench/imapload"
)

// ReadMachine describes this machine from /proc and /etc, and the source
// of the binary from git in repo (rev, when set, instead).
func ReadMachine(repo, rev string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Now: time.Now().UTC(), Commit: rev}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				m.MemBytes = kb << 10
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		m.Debian = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	if m.Commit == "" {
		m.Commit = "unknown source"
		if out, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output(); err == nil {
			m.Commit = strings.TrimSpace(string(out))
			if st, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
				m.Commit += " plus uncommitted changes"
			}
		}
	}
	return m
}

// span is the first and last start time of the records, and the range of
// the one-minute load average they saw.
func span(in *Inputs) (first, last time.Time, loadLo, loadHi float64) {
	loadLo = -1
	see := func(t time.Time, load float64) {
		if t.IsZero() {
			return
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
		if load == 0 {
			return // not recorded
		}
		if loadLo < 0 || load < loadLo {
			loadLo = load
		}
		loadHi = max(loadHi, load)
	}
	for _, r := range in.SMTP {
		see(r.Started, r.Load1Before)
	}
	for _, r := range in.IMAP {
		see(r.Start, r.Load1)
	}
	for _, r := range in.Failover {
		see(r.Started, r.Load1)
	}
	return first, last, max(loadLo, 0), loadHi
}

// WriteSummary writes summary.md: the machine, the comparison table (the
// headline workloads, then the other commands), Surat's failover and the
// retries the load generators made. chart is the PNG's file name to
// embed ("" for none).
func WriteSummary(w io.Writer, in *Inputs, m Machine, chart string) {
	rows := Rows(in)
	first, last, lo, hi := span(in)
	fmt.Fprintln(w, "# Surat vs Postfix + Dovecot: summary")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Written by `make bench` (`bench/cmd/report`, from the JSON lines in `bench/results/`; see bench/README.md). Both servers ran on this machine's loopback, in the same runs; the date row says when.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| | |")
	fmt.Fprintln(w, "|---|---|")
	when := "–"
	if !first.IsZero() {
		when = fmt.Sprintf("%s to %s UTC (report written %s UTC)", first.UTC().Format("2006-01-02 15:04"), last.UTC().Format("15:04"), m.Now.Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(w, "| date | %s |\n", when)
	fmt.Fprintf(w, "| machine | %d cores (%s), %.0f GiB RAM, Debian %s, Linux %s |\n", m.Cores, orDash(m.CPU), float64(m.MemBytes)/(1<<30), orDash(m.Debian), orDash(m.Kernel))
	fmt.Fprintf(w, "| load average | one-minute load %.2f–%.2f at the starts of the runs; %s when the report was written |\n", lo, hi, orDash(m.Load))
	fmt.Fprintf(w, "| Surat | built from %s; three `surat serve` processes on loopback, Raft log fsync on every append; every write committed on a quorum before it is acknowledged |\n", m.Commit)
	fmt.Fprintln(w, "| peer | Debian's Postfix → Dovecot LMTP → Maildir for SMTP, Dovecot for IMAP and POP3 (`bench/peers`, package defaults, fsync on), one instance |")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The ratio is Surat's speed over the peer's (rates: Surat / peer; times: peer / Surat), so **≥ 1.00× means Surat is faster**. Values are medians over the measured rounds, range in brackets. *Peer* is the fair comparison: for SMTP, Postfix → Dovecot until the message is in the maildir (Surat's `250` already means committed on a quorum and applied); for IMAP and POP3, Dovecot over STARTTLS/STLS (Surat refuses logins without TLS). *Fast path* is the peer's cheaper variant: Postfix's own `250` (queued), Dovecot in plaintext.")
	fmt.Fprintln(w)
	writeRows(w, rows, true)
	if chart != "" {
		fmt.Fprintf(w, "\n![Surat/peer ratios and SMTP throughput during a leader kill](%s)\n", chart)
	}
	if slices.ContainsFunc(rows, func(r Row) bool { return !r.Headline }) {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "### Other commands measured in the same run")
		fmt.Fprintln(w)
		writeRows(w, rows, false)
	}
	writeFailover(w, in.Failover)
	writeIdle(w, in.IMAP)
	writeRetries(w, in)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Full tables: `smtp-ingest.md`, `imap-pop3.md` (written by the scripts); the records: `*.jsonl`.")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func writeRows(w io.Writer, rows []Row, headline bool) {
	fmt.Fprintln(w, "| workload | Surat | peer | **Surat / peer** | peer, fast path | Surat / fast path | rounds |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		if r.Headline != headline {
			continue
		}
		ratio := func(p Stat) string {
			if x := r.Ratio(p); x > 0 {
				return fmt.Sprintf("%.2f×", x)
			}
			return "–"
		}
		fmt.Fprintf(w, "| %s | %s | %s | **%s** | %s | %s | %s |\n", r.Name,
			value(r.Surat, r.Unit), peerValue(r.Peer, r.Unit, r.PeerName), ratio(r.Peer),
			peerValue(r.Fast, r.Unit, r.FastName), ratio(r.Fast), rounds(r))
	}
}

func rounds(r Row) string {
	ns := []int{r.Surat.N, r.Peer.N, r.Fast.N}
	ns = slices.DeleteFunc(ns, func(n int) bool { return n == 0 })
	if len(ns) == 0 {
		return "–"
	}
	if slices.Min(ns) == slices.Max(ns) {
		return fmt.Sprint(ns[0])
	}
	return fmt.Sprintf("%d–%d", slices.Min(ns), slices.Max(ns))
}

func value(s Stat, unit string) string {
	if s.N == 0 {
		return "–"
	}
	out := num(s.Median, unit) + " " + unit
	if s.N > 1 && s.Max > s.Min {
		out += fmt.Sprintf(" (%s–%s)", num(s.Min, unit), num(s.Max, unit))
	}
	return out
}

func peerValue(s Stat, unit, name string) string {
	if s.N == 0 {
		return "–"
	}
	return value(s, unit) + ", " + name
}

// num formats a rate without decimals and a time with three significant
// figures or so.
func num(v float64, unit string) string {
	if unit != "s" {
		return fmt.Sprintf("%.0f", v)
	}
	switch {
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	case v >= 0.1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// writeFailover summarises the election rounds and the SMTP timelines.
func writeFailover(w io.Writer, recs []failover.Record) {
	if len(recs) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Surat alone: leader failover (three real processes, `bench/cmd/failover`)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measurement | median | range | rounds |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	row := func(name string, v []float64, unit string) {
		if len(v) == 0 {
			return
		}
		s := statOf(v)
		f := "%.0f"
		rng := "–"
		if s.N > 1 {
			rng = fmt.Sprintf(f+"–"+f+" %s", s.Min, s.Max, unit)
		}
		fmt.Fprintf(w, "| %s | "+f+" %s | %s | %d |\n", name, s.Median, unit, rng, s.N)
	}
	pick := func(kind, signal string, get func(failover.Record) float64) []float64 {
		var v []float64
		for _, r := range recs {
			if r.Kind == kind && (signal == "" || r.Signal == signal) {
				v = append(v, get(r))
			}
		}
		return v
	}
	poll := 0.0
	for _, r := range recs {
		poll = max(poll, r.PollMs)
	}
	row(fmt.Sprintf("SIGKILL of the leader → a survivor names a new leader (polled every %.0f ms), idle cluster", poll),
		pick("election", "KILL", func(r failover.Record) float64 { return r.ElectedMs }), "ms")
	row("SIGTERM of the leader → new leader (leadership hand-over)", pick("election", "TERM", func(r failover.Record) float64 { return r.ElectedMs }), "ms")
	row("restart of the old leader → every node ready again", pick("election", "", func(r failover.Record) float64 { return r.RejoinMs }), "ms")
	tl := pick("timeline", "", func(r failover.Record) float64 { return r.ElectedMs })
	if len(tl) == 0 {
		return
	}
	senders := 0
	for _, r := range recs {
		if r.Kind == "timeline" && r.SMTP != nil {
			senders = r.SMTP.Senders
		}
	}
	row(fmt.Sprintf("SIGKILL of the leader under SMTP load (%d senders) → new leader", senders), tl, "ms")
	row("SMTP msgs/s before the kill (three nodes)", pick("timeline", "", func(r failover.Record) float64 { return r.BeforePerS }), "msgs/s")
	row("SMTP msgs/s from 1 s after the new leader (two nodes)", pick("timeline", "", func(r failover.Record) float64 { return r.AfterPerS }), "msgs/s")
	row("longest stretch with no `250` at all, from the kill", pick("timeline", "", func(r failover.Record) float64 { return r.GapMs }), "ms")
	row("from the kill until a bucket is back at half the rate before", pick("timeline", "", func(r failover.Record) float64 { return r.RecoverMs }), "ms")
	var retried, retries, failed, accepted int
	kinds := map[string]int{}
	for _, r := range recs {
		if r.Kind == "timeline" && r.SMTP != nil {
			retried += r.SMTP.RetriedMessages
			retries += r.SMTP.Retries
			failed += r.SMTP.Errors
			accepted += r.SMTP.Accepted
			for k, n := range r.SMTP.RetryKinds {
				kinds[k] += n
			}
		}
	}
	fmt.Fprintf(w, "\nOver the runs with a kill, %d messages were accepted; %d needed a retry (%d retries: %s), as an MTA retries on the next MX; %d failed for good. A `-1` recovery means the rate never came back to half within the run.\n",
		accepted, retried, retries, kindList(kinds), failed)
}

func kindList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// writeRetries says how often the load generators had to retry a
// temporary failure in the comparison runs.
func writeRetries(w io.Writer, in *Inputs) {
	type tally struct {
		messages, retried, retries, errors int
		kinds                              map[string]int
	}
	smtp := map[string]*tally{}
	for _, r := range in.SMTP {
		t := smtp[r.Label]
		if t == nil {
			t = &tally{kinds: map[string]int{}}
			smtp[r.Label] = t
		}
		t.messages += r.Attempted
		t.retried += r.RetriedMessages
		t.retries += r.Retries
		t.errors += r.Errors
		for k, n := range r.RetryKinds {
			t.kinds[k] += n
		}
	}
	fill := map[string]*tally{}
	for _, r := range in.IMAP {
		if r.Kind != "fill" || r.Fill == nil {
			continue
		}
		t := fill[r.Label]
		if t == nil {
			t = &tally{kinds: map[string]int{}}
			fill[r.Label] = t
		}
		t.messages += r.Fill.Appended
		t.retries += r.Fill.Retries
		for k, n := range r.Fill.RetryKinds {
			t.kinds[k] += n
		}
	}
	mixedErr := map[string]int{}
	for _, r := range in.IMAP {
		if r.Mixed != nil {
			for _, c := range r.Mixed.Commands {
				mixedErr[r.Label] += c.Errors
			}
		}
	}
	if len(smtp) == 0 && len(fill) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Temporary failures the clients met (retried with backoff, as real clients do)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| where | server | messages | retried | retries | what they met | failed for good |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---|---:|")
	for _, l := range slices.Sorted(maps.Keys(smtp)) {
		t := smtp[l]
		fmt.Fprintf(w, "| SMTP ingest | %s | %d | %d | %d | %s | %d |\n", l, t.messages, t.retried, t.retries, kindList(t.kinds), t.errors)
	}
	for _, l := range slices.Sorted(maps.Keys(fill)) {
		t := fill[l]
		fmt.Fprintf(w, "| IMAP fill (APPEND) | %s | %d | – | %d | %s | 0 |\n", l, t.messages, t.retries, kindList(t.kinds))
	}
	for _, l := range slices.Sorted(maps.Keys(mixedErr)) {
		fmt.Fprintf(w, "| IMAP mixed workload (not retried: counted) | %s | – | – | – | – | %d commands |\n", l, mixedErr[l])
	}
}

// writeIdle: the memory of idle IMAP connections on one Surat node, when
// the IMAP run measured it.
func writeIdle(w io.Writer, recs []imapload.Record) {
	var idle []*imapload.IdleResult
	for _, r := range recs {
		if r.Kind == "idle" && r.Idle != nil {
			idle = append(idle, r.Idle)
		}
	}
	if len(idle) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Surat alone: idle IMAP connections on one node (logged in, INBOX selected, IDLE)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| connections | alive | RSS per connection | marginal RSS per connection | marginal live heap per connection | opened in |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|")
	for _, r := range idle {
		marg, heap := "–", "–"
		if r.RSSSlope != 0 {
			marg, heap = fmt.Sprintf("%.1f KiB", r.RSSSlope/1024), fmt.Sprintf("%.1f KiB", r.HeapSlope/1024)
		}
		fmt.Fprintf(w, "| %s | %s | %.1f KiB | %s | %s | %.0f s |\n", thousands(r.N), thousands(r.Alive), r.RSSPerConn/1024, marg, heap, r.OpenS)
	}
}
