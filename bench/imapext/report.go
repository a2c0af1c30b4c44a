package imapext

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// ReadRecords reads JSON lines of Record.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}

// summary is one server's figures for one case: medians over the measured
// rounds (the warm-up, round 0, left out).
type summary struct {
	supported       bool
	n               int
	seconds         float64
	bytesIn, out    int64
	items, vanished int
	messages        int
}

func summarize(recs []Record, server, c string) (summary, bool) {
	var s summary
	var secs []float64
	var in, out []int64
	found := false
	for _, r := range recs {
		if r.Server != server || r.Case != c {
			continue
		}
		found = true
		if !r.Supported {
			return summary{}, true
		}
		s.supported = true
		if r.Round == 0 {
			continue
		}
		secs = append(secs, r.Seconds)
		in = append(in, r.BytesIn)
		out = append(out, r.BytesOut)
		s.items, s.vanished, s.messages = r.Items, r.Vanished, r.Messages
	}
	s.n = len(secs)
	if s.n > 0 {
		s.seconds = median(secs)
		s.bytesIn = median(in)
		s.out = median(out)
	}
	return s, found
}

func median[T int64 | float64](v []T) T {
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// WriteMarkdown writes the side-by-side table: per case Surat's and
// Dovecot's median time and bytes, and the speed ratio (Dovecot's time /
// Surat's: ≥ 1.00 means Surat is at least as fast) and byte ratio.
func WriteMarkdown(w io.Writer, recs []Record, messages int, machine, dovecot string) {
	fmt.Fprintf(w, "# IMAP extensions: Surat vs Dovecot\n\n")
	fmt.Fprintf(w, "%s\n\n", machine)
	fmt.Fprintf(w, "One mailbox of %d messages in threads (bench/imapext.Corpus), the same bytes on both; Surat three nodes, measured on n1; Dovecot %s from bench/peers/dovecot.conf.in (IMAP only). Both over implicit TLS. Medians of the rounds after one warm-up; bytes are the IMAP stream (after TLS), server to client / client to server. Ratio: Dovecot's time / Surat's (≥ 1.00: Surat at least as fast); bytes: Surat's / Dovecot's.\n\n", messages, dovecot)
	fmt.Fprintln(w, "| case | Surat s | Dovecot s | speed ratio | Surat bytes in/out | Dovecot bytes in/out | bytes ratio | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, c := range Cases {
		s, okS := summarize(recs, "surat", c.Name)
		d, okD := summarize(recs, "dovecot", c.Name)
		if !okS && !okD {
			continue
		}
		cell := func(x summary, ok bool) (string, string) {
			switch {
			case !ok:
				return "–", "–"
			case !x.supported:
				return "not supported", "–"
			case x.n == 0:
				return "no rounds", "–"
			}
			return fmt.Sprintf("%.4f", x.seconds), fmt.Sprintf("%d / %d", x.bytesIn, x.out)
		}
		st, sb := cell(s, okS)
		dt, db := cell(d, okD)
		ratio, bratio := "–", "–"
		if s.supported && d.supported && s.n > 0 && d.n > 0 && s.seconds > 0 {
			ratio = fmt.Sprintf("%.2f×", d.seconds/s.seconds)
			if d.bytesIn+d.out > 0 {
				bratio = fmt.Sprintf("%.2f", float64(s.bytesIn+s.out)/float64(d.bytesIn+d.out))
			}
		}
		var notes []string
		for _, x := range []struct {
			name string
			s    summary
		}{{"Surat", s}, {"Dovecot", d}} {
			if !x.s.supported || x.s.n == 0 {
				continue
			}
			switch c.Name {
			case "qresync":
				notes = append(notes, fmt.Sprintf("%s: %d FETCH, %d VANISHED", x.name, x.s.items, x.s.vanished))
			case "thread-references":
				notes = append(notes, fmt.Sprintf("%s: %d threads", x.name, x.s.items))
			case "sort-date", "plain-resync":
				notes = append(notes, fmt.Sprintf("%s: %d messages", x.name, x.s.messages))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.Title, st, dt, ratio, sb, db, bratio, joinSemi(notes))
	}
}

func joinSemi(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}
