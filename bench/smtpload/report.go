package smtpload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// ReadResults reads Results, one JSON object a line.
func ReadResults(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("result %d: %w", len(out)+1, err)
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// Target is what the subject should reach at the highest sender count.
type Target struct {
	MsgsPerS float64 // accepted per second, at least
	P99Ms    float64 // DATA-end to 250, below
}

// WriteTables writes Markdown: a summary (medians over the rounds of each
// label and sender count, the subject's rate over the peer's), a verdict
// against target at the highest sender count, and every run.
func WriteTables(w io.Writer, results []Result, subject, peer string, target Target) {
	type key struct {
		label   string
		senders int
	}
	groups := map[key][]Result{}
	levels := map[int]bool{}
	for _, r := range results {
		k := key{r.Label, r.Senders}
		groups[k] = append(groups[k], r)
		levels[r.Senders] = true
	}
	sortedLevels := slices.Sorted(maps.Keys(levels))

	field := func(rs []Result, f func(Result) float64) []float64 {
		var v []float64
		for _, r := range rs {
			v = append(v, f(r))
		}
		return v
	}
	acc := func(r Result) float64 { return r.AcceptedPerS }
	e2e := func(r Result) float64 { return r.E2EPerS }
	p50 := func(r Result) float64 { return r.P50Ms }
	p99 := func(r Result) float64 { return r.P99Ms }

	fmt.Fprintf(w, "Medians over the rounds (range in brackets when more than one round). %s's `250` means\n", subject)
	fmt.Fprintf(w, "committed on a quorum of the three nodes and applied on the one that answered; %s's means\n", peer)
	fmt.Fprintf(w, "queued (fsync'd) by Postfix, and *end to end* counts a message when Dovecot has written it\n")
	fmt.Fprintf(w, "into the maildir. The ratio is %s accepted / %s end to end.\n\n", subject, peer)
	fmt.Fprintf(w, "| senders | %[1]s msgs/s | %[1]s p50 ms | %[1]s p99 ms | %[2]s accepted msgs/s | %[2]s p50 ms | %[2]s p99 ms | %[2]s end-to-end msgs/s | ratio | errors (%[1]s / %[2]s) | retries (%[1]s / %[2]s) |\n", subject, peer)
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range sortedLevels {
		s, p := groups[key{subject, c}], groups[key{peer, c}]
		ratio := "–"
		if len(s) > 0 && len(p) > 0 {
			if m := Median(field(p, e2e)); m > 0 {
				ratio = fmt.Sprintf("**%.2f×**", Median(field(s, acc))/m)
			}
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %d / %d | %d / %d |\n", c,
			spread(field(s, acc), "%.0f"), spread(field(s, p50), "%.1f"), spread(field(s, p99), "%.1f"),
			spread(field(p, acc), "%.0f"), spread(field(p, p50), "%.1f"), spread(field(p, p99), "%.1f"), spread(field(p, e2e), "%.0f"),
			ratio, errorsOf(s), errorsOf(p), retriesOf(s), retriesOf(p))
	}
	// What each message cost the servers, and how much else was running.
	perMsg := func(r Result) float64 {
		var cpu float64
		for _, v := range r.ProcCPUS {
			cpu += v
		}
		n := r.Accepted
		if r.Delivered > 0 {
			n = r.Delivered
		}
		if n == 0 {
			return 0
		}
		return 1000 * cpu / float64(n)
	}
	other := func(r Result) float64 { return r.OtherCPUS }
	fmt.Fprintf(w, "\nCPU (user+system) the servers spent per message (%[1]s: the three nodes; %[2]s: Postfix and\n", subject, peer)
	fmt.Fprintf(w, "Dovecot with all their workers, until the message was in the maildir), and the CPU seconds\n")
	fmt.Fprintf(w, "other work on the machine took during the runs (not this benchmark's: a shared machine):\n\n")
	fmt.Fprintf(w, "| senders | %[1]s CPU ms/msg | %[2]s CPU ms/msg | other CPU s during %[1]s runs | during %[2]s runs |\n", subject, peer)
	fmt.Fprintf(w, "|---:|---:|---:|---:|---:|\n")
	for _, c := range sortedLevels {
		s, p := groups[key{subject, c}], groups[key{peer, c}]
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s |\n", c, spread(field(s, perMsg), "%.2f"), spread(field(p, perMsg), "%.2f"),
			spread(field(s, other), "%.1f"), spread(field(p, other), "%.1f"))
	}

	if len(sortedLevels) > 0 && target.MsgsPerS > 0 {
		c := sortedLevels[len(sortedLevels)-1]
		if s := groups[key{subject, c}]; len(s) > 0 {
			rate, tail := Median(field(s, acc)), Median(field(s, p99))
			verdict := func(ok bool) string {
				if ok {
					return "met"
				}
				return "**missed**"
			}
			fmt.Fprintf(w, "\nTarget at %d senders: ≥ %.0f msgs/s: %.0f, %s (%+.0f%%); p99 < %.0f ms: %.1f ms, %s.\n",
				c, target.MsgsPerS, rate, verdict(rate >= target.MsgsPerS), 100*(rate/target.MsgsPerS-1),
				target.P99Ms, tail, verdict(tail < target.P99Ms))
		}
	}

	fmt.Fprintf(w, "\nEvery run, in order. CPU is user+system seconds during the run (a process and its\n")
	fmt.Fprintf(w, "descendants; for %s, until the maildir held everything); busy is the share of all cores not\n", peer)
	fmt.Fprintf(w, "idle over the run, and *other* the CPU seconds of everything else that ran meanwhile (busy\n")
	fmt.Fprintf(w, "time less the servers' and the load generator's); load is the one-minute load average just\n")
	fmt.Fprintf(w, "before it. %s columns from the nodes' /metrics (summed over the nodes):\n", subject)
	fmt.Fprintf(w, "proposals committed (one per message), their p99 from proposal to commit and apply on the\n")
	fmt.Fprintf(w, "proposing node (estimated from the histogram buckets), proposals per Raft entry (group commit).\n\n")
	fmt.Fprintf(w, "*Before* is how many messages that server had accepted in the earlier runs (the %s cluster\n", subject)
	fmt.Fprintf(w, "keeps them all; the maildirs are emptied before each %s run).\n\n", peer)
	fmt.Fprintf(w, "| run | senders | before | accepted | errors | wall s | msgs/s | p50 ms | p99 ms | max ms | e2e msgs/s | busy | CPU s | load | proposals | propose p99 ms | props/entry |\n")
	fmt.Fprintf(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	before := map[string]int{}
	for _, r := range results {
		e2eCell, props, propP99, perEntry := "", "", "", ""
		if r.Delivered > 0 || r.E2ETimeout {
			e2eCell = fmt.Sprintf("%.0f", r.E2EPerS)
			if r.E2ETimeout {
				e2eCell += fmt.Sprintf(" (timeout, %d)", r.Delivered)
			}
		}
		if m := r.Server; m != nil && m.Proposals > 0 {
			props = fmt.Sprint(m.Proposals)
			propP99 = fmt.Sprintf("%.1f", m.ProposeP99Ms)
			perEntry = fmt.Sprintf("%.2f", m.ProposalsPerEntry)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %.2f | %.0f | %.1f | %.1f | %.1f | %s | %.0f%% | %s | %.2f | %s | %s | %s |\n",
			r.Label, r.Senders, before[r.Label], r.Accepted, r.Errors, r.WallS, r.AcceptedPerS, r.P50Ms, r.P99Ms, r.MaxMs,
			e2eCell, 100*r.MachineBusy, cpuCell(r), r.Load1Before, props, propP99, perEntry)
		before[r.Label] += r.Accepted
	}
	var kinds []string
	for _, r := range results {
		for k, n := range r.ErrorKinds {
			kinds = append(kinds, fmt.Sprintf("%s senders=%d: %s ×%d", r.Label, r.Senders, k, n))
		}
	}
	if len(kinds) > 0 {
		slices.Sort(kinds)
		fmt.Fprintf(w, "\nErrors: %s.\n", strings.Join(kinds, "; "))
	}
	var retried []string
	for _, r := range results {
		for k, n := range r.RetryKinds {
			retried = append(retried, fmt.Sprintf("%s senders=%d: %s ×%d", r.Label, r.Senders, k, n))
		}
	}
	if len(retried) > 0 {
		slices.Sort(retried)
		fmt.Fprintf(w, "\nRetried (temporary failures, each followed by another attempt on the next address): %s.\n", strings.Join(retried, "; "))
	}
}

func retriesOf(rs []Result) int {
	n := 0
	for _, r := range rs {
		n += r.Retries
	}
	return n
}

func errorsOf(rs []Result) int {
	n := 0
	for _, r := range rs {
		n += r.Errors
	}
	return n
}

// cpuCell lists the process trees' CPU seconds and the load generator's.
func cpuCell(r Result) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(r.ProcCPUS)) {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, r.ProcCPUS[name]))
	}
	parts = append(parts, fmt.Sprintf("load-gen %.1f", r.ClientCPUS), fmt.Sprintf("*other %.1f*", r.OtherCPUS))
	return strings.Join(parts, ", ")
}

// Median is the median of v (the mean of the middle two for an even
// count); 0 for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is the median, and the range in brackets when there are several
// values; "–" for none.
func spread(v []float64, format string) string {
	if len(v) == 0 {
		return "–"
	}
	out := fmt.Sprintf(format, Median(v))
	if len(v) > 1 {
		lo, hi := slices.Min(v), slices.Max(v)
		out += fmt.Sprintf(" ("+format+"–"+format+")", lo, hi)
	}
	return out
}
