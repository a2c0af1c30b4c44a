// Package sieveload measures what running Sieve scripts at delivery costs
// Surat: SMTP ingest on three real `surat serve` processes with a 20-rule
// script active for every recipient (protocols/sieve/filter runs it
// before each delivery proposal) against the same nodes with no script
// active, in rounds that alternate on and off. The switch is `surat sieve
// activate` / `surat sieve deactivate` for each user through the CLI (a
// replicated event), then a wait for the nodes to converge: the processes,
// data and ports stay the same, so nothing else differs.
//
// Each round sends Messages messages of BodySize random body bytes, all
// distinct, from Senders concurrent senders (bench/smtpload, a new
// connection per message, sender i connecting from 127.0.1.i), MAIL FROM
// and From news@sender.test, spread over Users recipients (one each), over
// the three MX. The script (Script) is a user's ordinary filter: 19 rules
// that the messages pass through without matching (address, header
// :contains/:matches/:regex, envelope, size, exists, relational :count,
// subaddress, variables, flags), then one that files them into "Bench"
// (fileinto :create), so every rule is evaluated for every message.
//
// A run is refused rather than reported when it did not measure what it
// says: after every round each user's INBOX and Bench are counted over
// IMAP (STATUS) on one node, and the round's messages must all be in
// Bench (on) or all in INBOX (off); every message must be accepted.
//
// bench/cmd/sieveload is the command; `make bench-sieve` runs it. It
// writes a Record per round (JSON lines) and WriteMarkdown's report.
package sieveload

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/smtpload"
	"github.com/surat-mail/surat/cluster/faults/proc"
)

// The envelope and the recipients.
const (
	Sender       = "news@sender.test"
	SenderDomain = "sender.test"
	password     = "bench-password"
	// ScriptName is the users' script; Folder where its last rule files
	// the bench's messages.
	ScriptName = "bench"
	Folder     = "Bench"
)

// Script is the 20-rule script every recipient gets (package doc).
const Script = `require ["fileinto", "mailbox", "envelope", "imap4flags", "variables", "regex",
         "relational", "comparator-i;ascii-numeric", "subaddress", "copy"];
# 1: social networks
if address :domain :is "from" ["facebookmail.com", "twitter.com", "linkedin.com"] { fileinto "Social"; stop; }
# 2: mailing lists by List-Id
if header :contains "list-id" ["<dev.lists.example.org>", "<announce.example.org>"] { fileinto "Lists/dev"; stop; }
# 3: tagged spam
if header :matches "subject" "*[SPAM]*" { fileinto "Junk"; stop; }
# 4: the bank
if envelope :domain :is "from" "bank.example" { addflag "\\Flagged"; }
# 5: large mail
if size :over 10M { fileinto "Large"; stop; }
# 6: old-style lists
if exists "x-mailing-list" { fileinto "Lists"; stop; }
# 7: invoices
if header :regex "subject" "^(invoice|receipt) #[0-9]+" { fileinto "Finance"; stop; }
# 8: billing
if address :localpart :is "to" "billing" { fileinto "Billing"; stop; }
# 9: the team
if header :contains ["to", "cc"] "team@corp.example" { fileinto "Team"; stop; }
# 10: bulk
if anyof (header :is "precedence" "bulk", header :is "precedence" "list") { fileinto "Bulk"; stop; }
# 11: a loop
if header :count "ge" :comparator "i;ascii-numeric" "received" "30" { fileinto "Loops"; stop; }
# 12: newsletters by subaddress
if address :detail "to" "newsletter" { fileinto "Newsletters"; stop; }
# 13: bogus senders
if header :matches "from" "*@*.invalid" { discard; stop; }
# 14: no Message-ID
if not exists "message-id" { addflag "$NoMessageID"; }
# 15: urgent
if header :contains "subject" ["urgent", "asap"] { addflag "\\Flagged"; }
# 16: the boss, a copy in VIP
if address :all :is "from" ["boss@corp.example", "ceo@corp.example"] { addflag "\\Flagged"; fileinto :copy "VIP"; }
# 17: remember a reply's subject
if header :matches "subject" "Re: *" { set "thread" "${1}"; }
# 18: reports
if allof (header :contains "subject" "report", address :domain :is "from" "corp.example") { fileinto "Reports"; stop; }
# 19: low priority
if header :value "ge" :comparator "i;ascii-numeric" "x-priority" "5" { addflag "$LowPriority"; }
# 20: the bench's own
if header :contains "subject" "sieveload" { fileinto :create "Bench"; stop; }
`

// Mode is whether the users' script is active.
type Mode string

// The two modes.
const (
	On  Mode = "on"  // the script active for every recipient
	Off Mode = "off" // no script active
)

// Config is one run: a fresh cluster, Rounds rounds of each mode.
type Config struct {
	Bin      string // the surat binary
	Dir      string // the cluster's data go in a fresh directory under it (default: the system's temporary directory)
	Keep     bool   // keep that directory
	Rounds   int    // rounds of each mode
	First    Mode   // the mode of the first round (default On)
	Messages int    // timed messages per round
	Warmup   int    // untimed messages per round before the timed ones
	Senders  int
	Users    int // recipients (each message goes to one, in turn)
	BodySize int
	Log      func(format string, args ...any)
}

// Record is one round, one JSON object a line.
type Record struct {
	Kind    string    `json:"kind"` // "round"
	Started time.Time `json:"started"`
	Mode    Mode      `json:"mode"`
	Round   int       `json:"round"` // from 1, counted per mode
	Users   int       `json:"users"`
	Rules   int       `json:"rules"`
	Warmup  int       `json:"warmup"`
	// ServerCPUS is the three nodes' CPU time (user+system) over the
	// timed part; ServerCPUMsPerMsg per accepted message.
	ServerCPUS        float64 `json:"server_cpu_s"`
	ServerCPUMsPerMsg float64 `json:"server_cpu_ms_per_msg"`
	// Filed is how many of the round's messages were found where the
	// mode files them (Bench on, INBOX off), over every user.
	Filed int              `json:"filed"`
	SMTP  *smtpload.Result `json:"smtp,omitempty"`
}

// Rules is the number of rules of Script.
func Rules() int { return strings.Count(Script, "\n# ") }

// Recipients are the bench's users.
func Recipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("sieve%d@example.test", i+1)
	}
	return out
}

// Run measures cfg.Rounds rounds of each mode on a fresh cluster and
// calls emit with each round's Record as soon as it is complete.
func Run(ctx context.Context, cfg Config, emit func(Record) error) error {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.Rounds < 1 || cfg.Messages < 1 || cfg.Senders < 1 || cfg.Users < 1 {
		return errors.New("sieveload: need rounds, messages, senders and users >= 1")
	}
	if cfg.First == "" {
		cfg.First = On
	}
	if cfg.First != On && cfg.First != Off {
		return fmt.Errorf("sieveload: first mode %q (want on or off)", cfg.First)
	}
	dir, err := os.MkdirTemp(cfg.Dir, "sieveload-")
	if err != nil {
		return err
	}
	if cfg.Keep {
		logf("data and logs kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	c, err := proc.Start(ctx, proc.Options{Bin: cfg.Bin, Dir: dir, LogLevel: "warn"}, 90*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	users := Recipients(cfg.Users)
	n := c.Nodes()[0]
	for _, u := range users {
		if err := c.AddUser(ctx, u, password); err != nil {
			return err
		}
		if err := n.CLI(ctx, Script, "sieve", "put", u, ScriptName); err != nil {
			return fmt.Errorf("put the script for %s: %w", u, err)
		}
	}
	counts, err := countAll(c, users)
	if err != nil {
		return err
	}
	other := map[Mode]Mode{On: Off, Off: On}
	order := []Mode{cfg.First, other[cfg.First]}
	for r := 1; r <= cfg.Rounds; r++ {
		for _, m := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := switchTo(ctx, c, users, m); err != nil {
				return err
			}
			rec, after, err := round(ctx, cfg, c, users, m, r, counts)
			if err != nil {
				c.Report(logf)
				return fmt.Errorf("round %d, script %s: %w", r, m, err)
			}
			counts = after
			logf("round %d script %-3s: %6.0f msgs/s, p50 %.1f ms, p99 %.1f ms, server CPU %.2f ms/msg, load %.2f, %d filed as expected",
				r, m, rec.SMTP.AcceptedPerS, rec.SMTP.P50Ms, rec.SMTP.P99Ms, rec.ServerCPUMsPerMsg, rec.SMTP.Load1Before, rec.Filed)
			if err := emit(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// switchTo activates the script of every user (on) or deactivates it
// (off), then waits until every node applied it.
func switchTo(ctx context.Context, c *proc.Cluster, users []string, m Mode) error {
	n := c.Nodes()[0]
	for _, u := range users {
		args := []string{"sieve", "activate", u, ScriptName}
		if m == Off {
			args = []string{"sieve", "deactivate", u}
		}
		if err := n.CLI(ctx, "", args...); err != nil {
			return err
		}
	}
	_, err := proc.Within(ctx, 2*time.Minute, c.WaitConverged)
	return err
}

// round sends one round's messages and checks where they were filed.
func round(ctx context.Context, cfg Config, c *proc.Cluster, users []string, m Mode, r int, before map[string]counts) (Record, map[string]counts, error) {
	rec := Record{Kind: "round", Mode: m, Round: r, Users: len(users), Rules: Rules(), Warmup: cfg.Warmup}
	tag := fmt.Sprintf("sieveload round %d script %s", r, m)
	corpus := Corpus(uint64(r)<<1|boolBit(m == On), tag, cfg.Warmup+cfg.Messages, cfg.BodySize)
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.SMTPAddr())
	}
	load := smtpload.Config{
		Addrs: addrs, Senders: cfg.Senders, From: Sender, To: users[0], Recipients: users, Helo: SenderDomain,
		BodySize: cfg.BodySize, Sources: min(cfg.Senders, 254), Attempts: 10, Duration: 5 * time.Minute,
		Messages: cfg.Messages, Corpus: corpus,
	}
	res, serverCPU, err := smtpload.RunTimed(ctx, load, cfg.Warmup, c.Nodes())
	if err != nil {
		return rec, nil, err
	}
	res.Label = "script " + string(m)
	rec.Started, rec.SMTP, rec.ServerCPUS = res.Started, res, serverCPU
	if res.Accepted > 0 {
		rec.ServerCPUMsPerMsg = rec.ServerCPUS * 1000 / float64(res.Accepted)
	}
	if _, err := proc.Within(ctx, 2*time.Minute, c.WaitConverged); err != nil {
		return rec, nil, err
	}
	after, err := countAll(c, users)
	if err != nil {
		return rec, nil, err
	}
	sent := cfg.Warmup + cfg.Messages
	var inbox, bench int
	for _, u := range users {
		inbox += after[u].inbox - before[u].inbox
		bench += after[u].bench - before[u].bench
	}
	want, got, stray := bench, bench, inbox
	if m == Off {
		got, stray = inbox, bench
	}
	if got != sent || stray != 0 {
		return rec, nil, fmt.Errorf("%d messages sent, %d new in INBOX and %d in %s (script %s): the script did not run as it should",
			sent, inbox, bench, Folder, m)
	}
	rec.Filed = want
	return rec, after, nil
}

type counts struct{ inbox, bench int }

// countAll counts each user's INBOX and Bench over IMAP on the first
// node (Bench does not exist before the first on round: 0).
func countAll(c *proc.Cluster, users []string) (map[string]counts, error) {
	n := c.Nodes()[0]
	out := make(map[string]counts, len(users))
	for _, u := range users {
		cl, err := imapload.Conn{Addr: n.IMAPAddr(), StartTLS: true, Password: password}.Dial(u)
		if err != nil {
			return nil, err
		}
		var k counts
		st, err := cl.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			cl.Close()
			return nil, fmt.Errorf("STATUS INBOX of %s: %w", u, err)
		}
		k.inbox = int(*st.NumMessages)
		if st, err := cl.Status(Folder, &imap.StatusOptions{NumMessages: true}).Wait(); err == nil {
			k.bench = int(*st.NumMessages)
		}
		cl.Close()
		out[u] = k
	}
	return out, nil
}

// Corpus makes n distinct messages of the round; their Subject carries
// tag (and so the word the script's last rule files on).
func Corpus(seed uint64, tag string, n, bodySize int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x5e1e))
	out := make([][]byte, n)
	for i := range out {
		var b []byte
		b = fmt.Appendf(b, "From: News <%s>\r\nTo: subscriber@example.test\r\nSubject: %s message %d\r\n"+
			"Message-ID: <sieveload.%d.%d@%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
			Sender, tag, i, seed, i, SenderDomain, time.Now().UTC().Format(time.RFC1123Z))
		out[i] = smtpload.AppendBody(b, rng, bodySize)
	}
	return out
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
