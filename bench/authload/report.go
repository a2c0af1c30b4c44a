package authload

import (
	"fmt"
	"io"
	"strings"

	"github.com/surat-mail/surat/bench/smtpload"
)

// Targets: ingest with the checks on at least this fraction of ingest
// with them off; Ed25519 signing at most this many milliseconds per 4 KiB
// message.
const (
	TargetRatio  = 0.80
	TargetSignMs = 0.2
)

// ReadRecords reads JSON lines of Records.
func ReadRecords(r io.Reader) ([]Record, error) { return smtpload.ReadJSONLines[Record](r) }

// Summary is one key's rounds, on against off.
type Summary struct {
	Key string
	smtpload.OnOff
	smtpload.Loads     // one-minute load before the rounds
	DNSOn          int // queries over every on round
}

// Summaries groups the rounds by key, in the order the keys first appear.
func Summaries(recs []Record) []Summary {
	var out []Summary
	idx := map[string]int{}
	for _, r := range recs {
		if r.Kind != "round" || r.SMTP == nil {
			continue
		}
		i, ok := idx[r.Key]
		if !ok {
			i = len(out)
			idx[r.Key] = i
			out = append(out, Summary{Key: r.Key})
		}
		s := &out[i]
		s.AddLoad(r.SMTP.Load1Before)
		s.Add(r.Mode == On, r.SMTP.AcceptedPerS, r.ServerCPUMsPerMsg)
		if r.Mode == On {
			s.DNSOn += r.DNSQueries
		}
	}
	return out
}

// WriteMarkdown writes auth-ingest.md from the records; machine is a line
// describing the machine and the binary.
func WriteMarkdown(w io.Writer, recs []Record, machine string) {
	fmt.Fprintln(w, "# Surat: the cost of authenticating inbound mail")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Written by `make bench-auth` (`bench/cmd/authload`; see bench/README.md).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, machine)
	sums := Summaries(recs)
	if len(sums) > 0 {
		r0 := firstRound(recs)
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## SMTP ingest, checks on against checks off")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "Three real `surat serve` nodes; %d senders (each from its own 127.0.1.x), a new connection per message, %d-byte bodies, "+
			"every message distinct and DKIM-signed (d=%s, s=%s, relaxed/relaxed) before its round; MAIL FROM and From %s, one recipient, over the three MX. "+
			"**On**: every node started with `--resolver` pointing at an in-process DNS server (protocols/dns/dnstest) publishing `%s` (SPF), the DKIM key, and `%s` (DMARC), "+
			"so SPF, DKIM and DMARC all pass and each node's resolver cache answers after its first look-ups. **Off**: the same nodes, data and ports, restarted with `--resolver none`. "+
			"Rounds alternate on and off; after each, the newest %d stored messages are read over IMAP and must carry exactly one `Authentication-Results: %s; spf=pass … dkim=pass … dmarc=pass` (on) or none (off), "+
			"and every message must have been accepted, or the run fails. Each round also sends %d untimed messages first (after the restart). "+
			"Server CPU is the three nodes' user+system time over the timed part, per accepted message; "+
			"its off/on ratio is the throughput ratio to expect where the nodes' CPU bounds ingest, and it is steadier than msgs/s when other work shares the machine. "+
			"The round pairs' ratio is the median of on round r over off round r, which ran right after it.\n",
			r0.SMTP.Senders, r0.SMTP.BodySize, SenderDomain, Selector, Sender, SPFRecord, DMARCRecord, checkedPerRound, Hostname, r0.Warmup)
		fmt.Fprintln(w)
		fmt.Fprintf(w, "| DKIM key | %s | DNS queries (all on rounds) | load |\n", smtpload.OnOffColumns(TargetRatio))
		fmt.Fprintf(w, "|---|%s|---:|---:|\n", smtpload.OnOffAlign)
		for _, s := range sums {
			fmt.Fprintf(w, "| %s | %s | %d | %.2f–%.2f |\n", keyName(s.Key), s.Cells(TargetRatio), s.DNSOn, s.LoadLo, s.LoadHi)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Every round:")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| key | round | checks | msgs | msgs/s | end of data p50 / p99 ms | server CPU ms/msg | other CPU s | DNS queries | retries / errors | checked | load | started (UTC) |")
		fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		for _, r := range recs {
			if r.Kind != "round" || r.SMTP == nil {
				continue
			}
			s := r.SMTP
			fmt.Fprintf(w, "| %s | %d | %s | %d | %.0f | %.1f / %.1f | %.2f | %.1f | %d | %d / %d | %d | %.2f | %s |\n",
				keyName(r.Key), r.Round, r.Mode, s.Accepted, s.AcceptedPerS, s.P50Ms, s.P99Ms, r.ServerCPUMsPerMsg, s.OtherCPUS,
				r.DNSQueries, s.Retries, s.Errors, r.Checked, s.Load1Before, r.Started.UTC().Format("2006-01-02 15:04:05"))
		}
		for _, r := range recs {
			if r.Kind == "round" && r.Mode == On && r.AuthResults != "" {
				fmt.Fprintln(w)
				fmt.Fprintf(w, "A stored message's field (%s, round %d): `Authentication-Results: %s`\n", keyName(r.Key), r.Round, r.AuthResults)
				break
			}
		}
	}
	var signs []Record
	for _, r := range recs {
		if r.Kind == "sign" && r.Sign != nil {
			signs = append(signs, r)
		}
	}
	if len(signs) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "## DKIM signing")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Surat's own signer (protocols/dkimsign, relaxed/relaxed, SHA-256) with keys made as `surat domain add` makes them, "+
			"one goroutine, the same message streamed in and its DKIM-Signature fields taken out over and over "+
			"(`testing.Benchmark`, as `go test -run '^$' -bench Sign ./protocols/dkimsign`). Surat signs every message with both keys (RFC 8463 §3).")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "| keys | message bytes (body) | messages signed | ms per message (target for Ed25519 ≤ %.1f) | allocs | load |\n", TargetSignMs)
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
		for _, r := range signs {
			s := r.Sign
			verdict := ""
			if s.Keys == SignEd25519 {
				verdict = " (met)"
				if s.Ms() > TargetSignMs {
					verdict = " (**not met**)"
				}
			}
			fmt.Fprintf(w, "| %s | %d (%d) | %d | **%.3f**%s | %d | %.2f |\n", keyName(s.Keys), s.MsgBytes, s.BodySize, s.N, s.Ms(), verdict, s.AllocsOp, r.Load1)
		}
		var med []string
		for _, s := range Summaries(recs) {
			var v []float64
			for _, r := range recs {
				if r.Kind == "round" && r.Key == s.Key {
					v = append(v, r.SignMsPerMsg)
				}
			}
			med = append(med, fmt.Sprintf("%s %.3f ms", keyName(s.Key), smtpload.Median(v)))
		}
		if len(med) > 0 {
			fmt.Fprintf(w, "\nFor comparison, go-msgauth's `dkim.Sign` signing the rounds' messages above with one key each (fresh messages), median per message: %s.\n", strings.Join(med, ", "))
		}
	}
}

func firstRound(recs []Record) Record {
	for _, r := range recs {
		if r.Kind == "round" && r.SMTP != nil {
			return r
		}
	}
	return Record{}
}

func keyName(k string) string {
	switch k {
	case KeyEd25519:
		return "Ed25519"
	case KeyRSA, SignRSA:
		return "RSA-2048"
	case SignBoth:
		return "Ed25519 + RSA-2048"
	}
	return k
}
