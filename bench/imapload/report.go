package imapload

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// group is one server in one mode: the columns of the tables.
type group struct {
	label string
	tls   bool
}

func (g group) String() string {
	mode := "plaintext"
	if g.tls {
		mode = "STARTTLS"
	}
	name := g.label
	if name != "" {
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	return name + ", " + mode
}

// metric is one timed step of the static or POP3 rounds.
type metric struct {
	name, step string
	get        func(Record) (float64, bool)
}

var staticMetrics = []metric{
	{"IMAP connect + login", "login", func(r Record) (float64, bool) { return ok(r.Static, func(s *StaticResult) float64 { return s.LoginS }) }},
	{"SELECT INBOX", "select", func(r Record) (float64, bool) {
		return ok(r.Static, func(s *StaticResult) float64 { return s.SelectS })
	}},
	{"UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)", "fetch_meta", func(r Record) (float64, bool) {
		return ok(r.Static, func(s *StaticResult) float64 { return s.FetchMetaS })
	}},
	{"UID FETCH 1:* (BODY.PEEK[])", "fetch_body", func(r Record) (float64, bool) {
		return ok(r.Static, func(s *StaticResult) float64 { return s.FetchBodyS })
	}},
	{"UID SEARCH HEADER Subject " + SubjectWord, "search_header", func(r Record) (float64, bool) {
		return ok(r.Static, func(s *StaticResult) float64 { return s.SearchHdrS })
	}},
	{"UID SEARCH BODY " + BodyWord, "search_body", func(r Record) (float64, bool) {
		return ok(r.Static, func(s *StaticResult) float64 { return s.SearchBodyS })
	}},
	{"POP3 connect + login + STAT (large maildrop)", "pop3_login_stat", func(r Record) (float64, bool) {
		return ok(r.POP3, func(p *POP3Result) float64 { return p.LoginStatS })
	}},
	{"POP3 UIDL (large maildrop)", "pop3_uidl", func(r Record) (float64, bool) { return ok(r.POP3, func(p *POP3Result) float64 { return p.UIDLS }) }},
	{"POP3 connect + login + STAT (small maildrop)", "pop3_login_stat_small", func(r Record) (float64, bool) {
		return ok(r.POP3, func(p *POP3Result) float64 { return p.LoginStatSmlS })
	}},
	{"POP3 RETR of every message (small maildrop), one connection", "pop3_retr", func(r Record) (float64, bool) {
		return ok(r.POP3, func(p *POP3Result) float64 { return p.RetrS })
	}},
}

func ok[T any](p *T, f func(*T) float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return f(p), true
}

// median and range of values (unsorted in).
func stats(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}

// WriteTables writes the Markdown tables of bench/results/imap-pop3.md:
// single-command times (medians of the measured rounds, warm-up rounds
// left out) with the ratio of each server to subject, the server CPU per
// step, the mixed workload per command, and the idle-connection memory.
// Ratios are speed ratios: the peer's time over the subject's (for the
// mixed workload the subject's ops/s over the peer's), so ≥ 1.0 means the
// subject is at least as fast.
func WriteTables(w io.Writer, recs []Record, subject string) {
	var groups []group
	seen := map[group]bool{}
	for _, r := range recs {
		g := group{r.Label, r.TLS}
		if r.Kind != "idle" && r.Kind != "fill" && !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	// Subject first, then the others: plaintext before TLS.
	slices.SortStableFunc(groups, func(a, b group) int {
		switch {
		case a.label == subject && b.label != subject:
			return -1
		case b.label == subject && a.label != subject:
			return 1
		case a.tls != b.tls:
			if a.tls {
				return 1
			}
			return -1
		}
		return 0
	})
	var subj []group
	var peers []group
	for _, g := range groups {
		if g.label == subject {
			subj = append(subj, g)
		} else {
			peers = append(peers, g)
		}
	}
	values := func(g group, m metric) []float64 {
		var v []float64
		for _, r := range recs {
			if r.Label == g.label && r.TLS == g.tls && !r.Warm {
				if x, ok := m.get(r); ok {
					v = append(v, x)
				}
			}
		}
		return v
	}
	cpu := func(g group, m metric, proc string) []float64 {
		var v []float64
		for _, r := range recs {
			if r.Label == g.label && r.TLS == g.tls && !r.Warm && r.StepCPU != nil {
				if _, ok := m.get(r); !ok {
					continue
				}
				sum := cpuOf(r.StepCPU[m.step], proc)
				v = append(v, sum)
			}
		}
		return v
	}

	// --- single commands ---
	fmt.Fprintln(w, "### Single commands, warm: seconds, median of the measured rounds (range)")
	fmt.Fprintln(w)
	hdr := "| command |"
	sep := "|---|"
	for _, g := range groups {
		hdr += " " + g.String() + " |"
		sep += "---:|"
	}
	for _, s := range subj {
		for _, p := range peers {
			hdr += fmt.Sprintf(" ratio %s / %s |", s.String(), p.String())
			sep += "---:|"
		}
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	for _, m := range staticMetrics {
		row := "| " + m.name + " |"
		meds := map[group]float64{}
		any := false
		for _, g := range groups {
			v := values(g, m)
			if len(v) == 0 {
				row += " – |"
				continue
			}
			any = true
			med, lo, hi := stats(v)
			meds[g] = med
			row += fmt.Sprintf(" %s (%s–%s) |", secs(med), secs(lo), secs(hi))
		}
		if !any {
			continue
		}
		for _, s := range subj {
			for _, p := range peers {
				if meds[s] > 0 && meds[p] > 0 {
					row += fmt.Sprintf(" **%.2f×** |", meds[p]/meds[s])
				} else {
					row += " – |"
				}
			}
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
	// Counts, so a reader can check the servers did the same work.
	fmt.Fprintln(w, "What each server answered (last measured round):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server | EXISTS | ENVELOPEs | bodies | body bytes | SEARCH HEADER hits | SEARCH BODY hits | UIDL lines | RETR messages | RETR octets |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, g := range groups {
		var st *StaticResult
		var p3 *POP3Result
		for _, r := range recs {
			if r.Label == g.label && r.TLS == g.tls && !r.Warm {
				if r.Static != nil {
					st = r.Static
				}
				if r.POP3 != nil {
					p3 = r.POP3
				}
			}
		}
		if st == nil {
			st = &StaticResult{}
		}
		if p3 == nil {
			p3 = &POP3Result{}
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", g, st.Messages, st.MetaMessages, st.BodyMessages,
			st.BodyBytes, st.SearchHdrN, st.SearchBodyN, p3.UIDLMessages, p3.RetrMessages, p3.RetrBytes)
	}
	fmt.Fprintln(w)

	// --- CPU per step ---
	fmt.Fprintln(w, "### CPU during each command: server process tree(s) / this client / everything else on the machine, CPU seconds (median of the rounds; /proc, 10 ms ticks)")
	fmt.Fprintln(w)
	hdr = "| command |"
	sep = "|---|"
	for _, g := range groups {
		hdr += " " + g.String() + " |"
		sep += "---:|"
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	for _, m := range staticMetrics {
		row := "| " + m.name + " |"
		any := false
		for _, g := range groups {
			sv, cv, ov := cpu(g, m, "server"), cpu(g, m, "client"), cpu(g, m, "other")
			if len(sv) == 0 {
				row += " – |"
				continue
			}
			any = true
			s, _, _ := stats(sv)
			c, _, _ := stats(cv)
			o, _, _ := stats(ov)
			row += fmt.Sprintf(" %.2f / %.2f / %.2f |", s, c, o)
		}
		if any {
			fmt.Fprintln(w, row)
		}
	}
	fmt.Fprintln(w)

	writeMixed(w, recs, groups, subj, peers)
	writeIdle(w, recs)
	writeFill(w, recs)
}

// writeFill says how many APPENDs of the fill were retried after a
// temporary failure (NO [UNAVAILABLE], a lost connection), per server.
func writeFill(w io.Writer, recs []Record) {
	type tally struct {
		appended, retries int
		kinds             map[string]int
	}
	byLabel := map[string]*tally{}
	var labels []string
	for _, r := range recs {
		if r.Kind != "fill" || r.Fill == nil {
			continue
		}
		t := byLabel[r.Label]
		if t == nil {
			t = &tally{kinds: map[string]int{}}
			byLabel[r.Label] = t
			labels = append(labels, r.Label)
		}
		t.appended += r.Fill.Appended
		t.retries += r.Fill.Retries
		for k, n := range r.Fill.RetryKinds {
			t.kinds[k] += n
		}
	}
	if len(labels) == 0 {
		return
	}
	fmt.Fprintln(w, "### The fill: APPENDs retried after a temporary failure (as a client would, with backoff)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server | messages APPENDed | retries | what they met |")
	fmt.Fprintln(w, "|---|---:|---:|---|")
	for _, l := range labels {
		t := byLabel[l]
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(t.kinds)) {
			kinds = append(kinds, fmt.Sprintf("%s ×%d", k, t.kinds[k]))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s |\n", l, t.appended, t.retries, strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)
}

// cpuOf is, from one step's CPU readings, "client" (this process),
// "server" (every named server tree), or "other" (the machine's busy time
// less both: other work on a shared machine, and kernel threads working
// for the servers).
func cpuOf(m map[string]float64, what string) float64 {
	var server float64
	for name, v := range m {
		if name != "client" && name != "machine" {
			server += v
		}
	}
	switch what {
	case "client":
		return m["client"]
	case "other":
		if _, ok := m["machine"]; !ok {
			return 0
		}
		return max(m["machine"]-server-m["client"], 0)
	}
	return server
}

func secs(v float64) string {
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

func writeMixed(w io.Writer, recs []Record, groups, subj, peers []group) {
	byGroup := map[group][]*MixedResult{}
	cpuBy := map[group][]map[string]float64{}
	for _, r := range recs {
		if r.Mixed != nil && !r.Warm {
			g := group{r.Label, r.TLS}
			byGroup[g] = append(byGroup[g], r.Mixed)
			cpuBy[g] = append(cpuBy[g], r.StepCPU["run"])
		}
	}
	if len(byGroup) == 0 {
		return
	}
	var gs []group
	for _, g := range groups {
		if len(byGroup[g]) > 0 {
			gs = append(gs, g)
		}
	}
	fmt.Fprintln(w, "### Mixed workload: ops/s per command (p50 / p99 ms)")
	fmt.Fprintln(w)
	hdr := "| command |"
	sep := "|---|"
	for _, g := range gs {
		hdr += " " + g.String() + " |"
		sep += "---:|"
	}
	for _, s := range subj {
		for _, p := range peers {
			if len(byGroup[s]) > 0 && len(byGroup[p]) > 0 {
				hdr += fmt.Sprintf(" ratio %s / %s |", s, p)
				sep += "---:|"
			}
		}
	}
	fmt.Fprintln(w, hdr)
	fmt.Fprintln(w, sep)
	last := func(g group) *MixedResult { return byGroup[g][len(byGroup[g])-1] }
	rows := append(slices.Clone(MixedCommands), "all commands", "iterations")
	for _, cmd := range rows {
		row := "| " + cmd + " |"
		rate := map[group]float64{}
		for _, g := range gs {
			m := last(g)
			switch cmd {
			case "iterations":
				rate[g] = float64(m.Iterations) / m.WallS
				row += fmt.Sprintf(" %.0f /s |", rate[g])
			case "all commands":
				n, e := 0, 0
				for _, st := range m.Commands {
					n += st.Ops
					e += st.Errors
				}
				rate[g] = float64(n) / m.WallS
				row += fmt.Sprintf(" %.0f (%d errors) |", rate[g], e)
			default:
				st := m.Commands[cmd]
				if st == nil {
					row += " – |"
					continue
				}
				rate[g] = st.PerS
				errs := ""
				if st.Errors > 0 {
					errs = fmt.Sprintf(", %d errors", st.Errors)
				}
				row += fmt.Sprintf(" %.0f (%.1f / %.1f%s) |", st.PerS, st.P50Ms, st.P99Ms, errs)
			}
		}
		for _, s := range subj {
			for _, p := range peers {
				if len(byGroup[s]) > 0 && len(byGroup[p]) > 0 {
					if rate[p] > 0 {
						row += fmt.Sprintf(" **%.2f×** |", rate[s]/rate[p])
					} else {
						row += " – |"
					}
				}
			}
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server | clients | distinct users | wall s | share of client time SELECT / FETCH / STORE / EXPUNGE / APPEND | server CPU s (per process tree) | server CPU ms per iteration | client CPU s | other CPU s | first error |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|---:|---:|---:|---|")
	for _, g := range gs {
		m := last(g)
		var shares []string
		for _, c := range MixedCommands {
			if st := m.Commands[c]; st != nil {
				shares = append(shares, fmt.Sprintf("%.0f %%", st.Share*100))
			} else {
				shares = append(shares, "–")
			}
		}
		cpuM := cpuBy[g][len(cpuBy[g])-1]
		var procs []string
		client := 0.0
		names := mapsKeys(cpuM)
		slices.Sort(names)
		for _, name := range names {
			if name == "client" {
				client = cpuM[name]
				continue
			}
			if name == "machine" {
				continue
			}
			procs = append(procs, fmt.Sprintf("%s %.1f", name, cpuM[name]))
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s | %s | %.2f | %.1f | %.1f | %s |\n", g, m.Clients, m.Users, m.WallS,
			strings.Join(shares, " / "), strings.Join(procs, ", "), cpuOf(cpuM, "server")*1000/float64(max(m.Iterations, 1)),
			client, cpuOf(cpuM, "other"), strings.ReplaceAll(m.FirstError, "|", "/"))
	}
	fmt.Fprintln(w)
}

func mapsKeys(m map[string]float64) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func writeIdle(w io.Writer, recs []Record) {
	var rows []Record
	for _, r := range recs {
		if r.Idle != nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "### Idle IMAP connections on one node (logged in, INBOX selected, IDLE)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Connections are added up to each count in turn (the second level keeps the first's open). *Per connection*: (after − baseline) / connections alive; *marginal*: between the previous level and this one. Live heap is estimated from the heap goal after the last GC (go_memstats_next_gc_bytes; see cmd/imapload).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server | connections | alive (failed) | users | open s | server CPU s opening | RSS baseline → after MiB | **RSS per connection KiB** | RSS marginal KiB | live heap baseline → after MiB | live heap per connection KiB | live heap marginal KiB | goroutine stacks per connection KiB | goroutines per connection | client RSS MiB |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		i := r.Idle
		n := float64(max(i.Alive, 1))
		slope := func(v float64) string {
			if i.PrevN == 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f", v/1024)
		}
		fmt.Fprintf(w, "| %s | %d | %d (%d) | %d | %.1f | %.1f | %.1f → %.1f | **%.1f** | %s | %.1f → %.1f | %.1f | %s | %.1f | %.2f | %.1f |\n",
			group{r.Label, r.TLS}, i.N, i.Alive, i.Failed, i.Users, i.OpenS, i.ServerCPUS,
			mib(float64(i.RSSBefore)), mib(float64(i.RSSAfter)), i.RSSPerConn/1024, slope(i.RSSSlope),
			mib(i.HeapBefore), mib(i.HeapAfter), i.HeapPerConn/1024, slope(i.HeapSlope),
			(i.StackAfter-i.StackBefore)/n/1024, (i.GorAfter-i.GorBefore)/n, mib(float64(i.ClientRSS)))
	}
	for _, r := range rows {
		if r.Idle.FirstError != "" {
			fmt.Fprintf(w, "\nFirst failure at %d connections: %s\n", r.Idle.N, r.Idle.FirstError)
		}
	}
	fmt.Fprintln(w)
}

func mib(b float64) float64 { return b / (1 << 20) }
