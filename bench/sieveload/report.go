package sieveload

import (
	"fmt"
	"io"

	"github.com/surat-mail/surat/bench/smtpload"
)

// TargetRatio: ingest with the script active for every recipient at least
// this fraction of ingest without (issue 13).
const TargetRatio = 0.85

// ReadRecords reads JSON lines of Records.
func ReadRecords(r io.Reader) ([]Record, error) { return smtpload.ReadJSONLines[Record](r) }

// Summary is the rounds, on against off.
type Summary struct {
	smtpload.OnOff
	smtpload.Loads // one-minute load before the rounds
}

// Summarize collects the rounds.
func Summarize(recs []Record) (s Summary, ok bool) {
	for _, r := range recs {
		if r.Kind != "round" || r.SMTP == nil {
			continue
		}
		ok = true
		s.AddLoad(r.SMTP.Load1Before)
		s.Add(r.Mode == On, r.SMTP.AcceptedPerS, r.ServerCPUMsPerMsg)
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
	fmt.Fprintf(w, "| %s | load |\n", smtpload.OnOffColumns(TargetRatio))
	fmt.Fprintf(w, "|%s|---:|\n", smtpload.OnOffAlign)
	fmt.Fprintf(w, "| %s | %.2f–%.2f |\n", s.Cells(TargetRatio), s.LoadLo, s.LoadHi)
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
