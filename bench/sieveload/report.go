package sieveload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/surat-mail/surat/bench/smtpload"
)

// TargetRatio: ingest with the script active for every recipient at least
// this fraction of ingest without (issue 13).
const TargetRatio = 0.85

// ReadRecords reads JSON lines of Records.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

// Summary is the rounds, on against off.
type Summary struct {
	smtpload.OnOff
	LoadLo, LoadHi float64 // one-minute load before the rounds
}

// Summarize collects the rounds.
func Summarize(recs []Record) (s Summary, ok bool) {
	for _, r := range recs {
		if r.Kind != "round" || r.SMTP == nil {
			continue
		}
		if !ok {
			s.LoadLo, s.LoadHi, ok = r.SMTP.Load1Before, r.SMTP.Load1Before, true
		}
		s.LoadLo, s.LoadHi = min(s.LoadLo, r.SMTP.Load1Before), max(s.LoadHi, r.SMTP.Load1Before)
		if r.Mode == On {
			s.On = append(s.On, r.SMTP.AcceptedPerS)
			s.CPUOn = append(s.CPUOn, r.ServerCPUMsPerMsg)
		} else {
			s.Off = append(s.Off, r.SMTP.AcceptedPerS)
			s.CPUOff = append(s.CPUOff, r.ServerCPUMsPerMsg)
		}
	}
	return s, ok
}

// WriteMarkdown writes sieve-ingest.md from the records; machine is a
// line describing the machine and the binary.
func WriteMarkdown(w io.Writer, recs []Record, machine string) {
	fmt.Fprintln(w, "# Surat: the cost of Sieve scripts at delivery")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Written by `make bench-sieve` (`bench/cmd/sieveload`; see bench/README.md).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, machine)
	s, ok := Summarize(recs)
	if !ok {
		return
	}
	var r0 Record
	for _, r := range recs {
		if r.Kind == "round" && r.SMTP != nil {
			r0 = r
			break
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## SMTP ingest, script on against no script")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Three real `surat serve` nodes; %d senders (each from its own 127.0.1.x), a new connection per message, %d-byte bodies, every message distinct; "+
		"MAIL FROM and From %s, one recipient each, in turn among %d users, over the three MX. "+
		"**On**: every user has the same %d-rule script active (`surat sieve put` then `sieve activate`; the script is in bench/sieveload's Script): "+
		"19 rules the messages pass without matching (address, header :contains/:matches/:regex, envelope, size, exists, relational :count and :value, subaddress, variables, flags), "+
		"then `fileinto :create \"%s\"`, so every rule is evaluated for every message. **Off**: the same nodes, with every user's script deactivated (`surat sieve deactivate`). "+
		"Rounds alternate on and off, the switch being a replicated event the nodes converge on before the round; after each round every user's INBOX and %s are counted over IMAP, "+
		"and the round's messages must all be in %s (on) or all in INBOX (off), and every message must have been accepted, or the run fails. "+
		"Each round also sends %d untimed messages first. Server CPU is the three nodes' user+system time over the timed part, per accepted message; "+
		"its off/on ratio is the throughput ratio to expect where the nodes' CPU bounds ingest. The round pairs' ratio is the median of on round r over off round r, which ran right after it.\n",
		r0.SMTP.Senders, r0.SMTP.BodySize, Sender, r0.Users, r0.Rules, Folder, Folder, Folder, r0.Warmup)
	fmt.Fprintln(w)
	verdict := "met"
	if s.Ratio() < TargetRatio {
		verdict = "**not met**"
	}
	fmt.Fprintf(w, "| rounds on / off | msgs/s off (median) | msgs/s on (median) | **on / off** (target ≥ %.2f) | on / off, round pairs (median) | server CPU ms/msg off → on (off / on) | load |\n", TargetRatio)
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| %d / %d | %.0f (%s) | %.0f (%s) | **%.2f** (%s) | %.2f | %.2f → %.2f (%.2f) | %.2f–%.2f |\n",
		len(s.On), len(s.Off), smtpload.Median(s.Off), spread(s.Off), smtpload.Median(s.On), spread(s.On), s.Ratio(), verdict, s.PairedRatio(),
		smtpload.Median(s.CPUOff), smtpload.Median(s.CPUOn), s.CPURatio(), s.LoadLo, s.LoadHi)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every round:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | script | msgs | msgs/s | end of data p50 / p99 ms | server CPU ms/msg | other CPU s | retries / errors | filed as expected | load | started (UTC) |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range recs {
		if r.Kind != "round" || r.SMTP == nil {
			continue
		}
		m := r.SMTP
		fmt.Fprintf(w, "| %d | %s | %d | %.0f | %.1f / %.1f | %.2f | %.1f | %d / %d | %d | %.2f | %s |\n",
			r.Round, r.Mode, m.Accepted, m.AcceptedPerS, m.P50Ms, m.P99Ms, r.ServerCPUMsPerMsg, m.OtherCPUS,
			m.Retries, m.Errors, r.Filed, m.Load1Before, r.Started.UTC().Format("2006-01-02 15:04:05"))
	}
}

// spread is "lo–hi" of v.
func spread(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	lo, hi := v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf("%.0f–%.0f", lo, hi)
}
