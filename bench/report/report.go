// Package report turns the JSON lines the benchmarks write into the
// one-page summary of bench/results: summary.md (one Markdown table, the
// Surat/peer speed ratios as the headline, medians over the rounds, with
// the machine and the load it ran on) and summary.png (the ratios as bars
// around parity, and SMTP throughput while the leader is killed), and
// scale.md for bench/cmd/scale's records.
//
// Inputs are the records themselves (bench/smtpload.Result,
// bench/imapload.Record, bench/failover.Record, bench/scale.Record), never
// the Markdown the scripts also write. bench/cmd/report is its command.
package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/surat-mail/surat/bench/failover"
	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/scale"
	"github.com/surat-mail/surat/bench/smtpload"
)

// Inputs are every record found, by source. A missing file leaves its
// part empty; the summary says so rather than failing.
type Inputs struct {
	SMTP     []smtpload.Result
	IMAP     []imapload.Record
	Failover []failover.Record
	Scale    []scale.Record
}

// File names under the results directory.
const (
	SMTPFile     = "smtp-ingest.jsonl"
	IMAPFile     = "imap-pop3.jsonl"
	FailoverFile = "failover.jsonl"
	ScaleFile    = "scale.jsonl"
)

// Load reads the records under dir.
func Load(dir string) (*Inputs, error) {
	in := &Inputs{}
	open := func(name string, read func(io.Reader) error) error {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer f.Close()
		if err := read(f); err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		return nil
	}
	var err error
	if err = open(SMTPFile, func(r io.Reader) error { in.SMTP, err = smtpload.ReadResults(r); return err }); err != nil {
		return nil, err
	}
	if err = open(IMAPFile, func(r io.Reader) error { in.IMAP, err = imapload.ReadRecords(r); return err }); err != nil {
		return nil, err
	}
	if err = open(FailoverFile, func(r io.Reader) error { in.Failover, err = readLines[failover.Record](r); return err }); err != nil {
		return nil, err
	}
	if err = open(ScaleFile, func(r io.Reader) error { in.Scale, err = readLines[scale.Record](r); return err }); err != nil {
		return nil, err
	}
	return in, nil
}

func readLines[T any](r io.Reader) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return nil, fmt.Errorf("line %d: %w", len(out)+1, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

// Machine is where and when the numbers were taken.
type Machine struct {
	Cores    int
	MemBytes int64
	CPU      string
	Kernel   string
	Debian   string
	Commit   string
	Now      time.Time
	Load     string // /proc/loadavg's three averages when the report was made
}

// Row is one workload of the summary table.
type Row struct {
	Group    string // "SMTP", "IMAP", "POP3"
	Name     string // what was measured
	Short    string // its label on the chart
	Unit     string // "msgs/s", "s", "iter/s"
	Higher   bool   // a higher value is better (a rate), else a time
	Surat    Stat
	Peer     Stat // the fair comparison
	PeerName string
	Fast     Stat // the peer's faster path: Postfix's queue, Dovecot without TLS
	FastName string
	Headline bool // one of the workloads the summary is about (others: detail)
}

// Stat is a median over rounds.
type Stat struct {
	Median, Min, Max float64
	N                int
}

func statOf(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Stat{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// Ratio is Surat's speed over the peer's: ≥ 1 means Surat is faster. 0
// when either is missing.
func (r Row) Ratio(peer Stat) float64 {
	if r.Surat.N == 0 || peer.N == 0 || r.Surat.Median <= 0 || peer.Median <= 0 {
		return 0
	}
	if r.Higher {
		return r.Surat.Median / peer.Median
	}
	return peer.Median / r.Surat.Median
}

// Rows computes the comparison rows from the SMTP and IMAP records.
func Rows(in *Inputs) []Row {
	var rows []Row
	// SMTP ingest per sender count: Surat's 250s per second against
	// Postfix → Dovecot end to end (the message in the maildir), and
	// against Postfix's own 250 (queued).
	levels := map[int]bool{}
	for _, r := range in.SMTP {
		levels[r.Senders] = true
	}
	for _, c := range slices.Sorted(maps.Keys(levels)) {
		var s, e2e, acc []float64
		for _, r := range in.SMTP {
			if r.Senders != c {
				continue
			}
			switch r.Label {
			case "surat":
				s = append(s, r.AcceptedPerS)
			case "postfix":
				if r.E2EPerS > 0 {
					e2e = append(e2e, r.E2EPerS)
				}
				acc = append(acc, r.AcceptedPerS)
			}
		}
		rows = append(rows, Row{Group: "SMTP", Name: fmt.Sprintf("SMTP ingest, %d sender%s, 4 KiB, new connection per message", c, plural(c)),
			Short: fmt.Sprintf("SMTP ingest ×%d", c), Unit: "msgs/s", Higher: true, Headline: true,
			Surat: statOf(s), Peer: statOf(e2e), PeerName: "Postfix→Dovecot (in the maildir)",
			Fast: statOf(acc), FastName: "Postfix (queued)"})
	}
	// IMAP and POP3 single commands: times, Surat over TLS against
	// Dovecot over TLS (fair) and plaintext.
	type metric struct {
		name, short string
		headline    bool
		get         func(imapload.Record) (float64, bool)
	}
	st := func(f func(*imapload.StaticResult) float64) func(imapload.Record) (float64, bool) {
		return func(r imapload.Record) (float64, bool) {
			if r.Static == nil {
				return 0, false
			}
			return f(r.Static), true
		}
	}
	p3 := func(f func(*imapload.POP3Result) float64) func(imapload.Record) (float64, bool) {
		return func(r imapload.Record) (float64, bool) {
			if r.POP3 == nil {
				return 0, false
			}
			return f(r.POP3), true
		}
	}
	big, small := 0, 0
	for _, r := range in.IMAP {
		if r.Static != nil && r.Static.Messages > 0 && r.Label == "surat" {
			big = r.Static.Messages
		}
		if r.POP3 != nil && r.POP3.RetrMessages > 0 && r.Label == "surat" {
			small = r.POP3.RetrMessages
		}
	}
	metrics := []metric{
		{fmt.Sprintf("IMAP `UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)`, %s messages", thousands(big)), "IMAP metadata FETCH", true,
			st(func(s *imapload.StaticResult) float64 { return s.FetchMetaS })},
		{fmt.Sprintf("POP3 `RETR` of %s messages, one connection", thousands(small)), "POP3 RETR", true,
			p3(func(p *imapload.POP3Result) float64 { return p.RetrS })},
		{"IMAP connect + login (STARTTLS first where TLS)", "IMAP login", false, st(func(s *imapload.StaticResult) float64 { return s.LoginS })},
		{"IMAP `SELECT INBOX`", "IMAP SELECT", false, st(func(s *imapload.StaticResult) float64 { return s.SelectS })},
		{"IMAP `UID FETCH 1:* (BODY.PEEK[])`", "IMAP body FETCH", false, st(func(s *imapload.StaticResult) float64 { return s.FetchBodyS })},
		{"IMAP `UID SEARCH HEADER Subject …`", "IMAP SEARCH HEADER", false, st(func(s *imapload.StaticResult) float64 { return s.SearchHdrS })},
		{"IMAP `UID SEARCH BODY …`", "IMAP SEARCH BODY", false, st(func(s *imapload.StaticResult) float64 { return s.SearchBodyS })},
		{fmt.Sprintf("POP3 `UIDL`, %s messages", thousands(big)), "POP3 UIDL", false, p3(func(p *imapload.POP3Result) float64 { return p.UIDLS })},
	}
	values := func(label string, tls bool, get func(imapload.Record) (float64, bool)) []float64 {
		var v []float64
		for _, r := range in.IMAP {
			if r.Label == label && r.TLS == tls && !r.Warm && r.Kind != "fill" {
				if x, ok := get(r); ok {
					v = append(v, x)
				}
			}
		}
		return v
	}
	// The mixed workload goes after the headline single commands.
	mixed := func(r imapload.Record) (float64, bool) {
		if r.Mixed == nil || r.Mixed.WallS <= 0 {
			return 0, false
		}
		return float64(r.Mixed.Iterations) / r.Mixed.WallS, true
	}
	for i, m := range metrics {
		group := "IMAP"
		if strings.HasPrefix(m.short, "POP3") {
			group = "POP3"
		}
		rows = append(rows, Row{Group: group, Name: m.name, Short: m.short, Unit: "s", Headline: m.headline,
			Surat: statOf(values("surat", true, m.get)), Peer: statOf(values("dovecot", true, m.get)), PeerName: "Dovecot (STARTTLS)",
			Fast: statOf(values("dovecot", false, m.get)), FastName: "Dovecot (plaintext)"})
		if i == 0 {
			clients := 0
			for _, r := range in.IMAP {
				if r.Mixed != nil {
					clients = r.Mixed.Clients
				}
			}
			rows = append(rows, Row{Group: "IMAP", Name: fmt.Sprintf("IMAP mixed workload, %d clients (SELECT, FETCH, 2×STORE, EXPUNGE, APPEND per iteration)", clients),
				Short: "IMAP mixed", Unit: "iter/s", Higher: true, Headline: true,
				Surat: statOf(values("surat", true, mixed)), Peer: statOf(values("dovecot", true, mixed)), PeerName: "Dovecot (STARTTLS)",
				Fast: statOf(values("dovecot", false, mixed)), FastName: "Dovecot (plaintext)"})
		}
	}
	// Drop rows nothing was measured for (a partial run, or an older
	// record without the field).
	return slices.DeleteFunc(rows, func(r Row) bool { return r.Surat.Median == 0 && r.Peer.Median == 0 && r.Fast.Median == 0 })
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
