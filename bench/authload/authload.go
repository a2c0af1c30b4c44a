// Package authload measures what authenticating inbound mail costs Surat:
// SMTP ingest on three real `surat serve` processes with the checks on
// (SPF, DKIM and DMARC: every node started with --resolver pointing at an
// in-process DNS server, protocols/dns/dnstest, that publishes the sending
// domain's records) against the same nodes with them off (--resolver
// none), in rounds that alternate on and off. Between rounds the three
// nodes are stopped (SIGTERM) and started again on the same data and ports
// with the other --resolver, so nothing else differs; --hostname is
// mx.bench.test in both.
//
// Each round sends Messages messages of BodySize random body bytes, all
// distinct and each DKIM-signed (d=sender.test, s=sel, Ed25519 or
// RSA-2048, relaxed/relaxed) before the round starts, from Senders
// concurrent senders (bench/smtpload, a new connection per message,
// sender i connecting from 127.0.1.i), MAIL FROM and From news@sender.test,
// to one user, over the three MX. The domain publishes SPF
// `v=spf1 ip4:127.0.0.0/8 -all`, the DKIM key at sel._domainkey, and DMARC
// `v=DMARC1; p=reject`, so SPF, DKIM and DMARC all pass; each node's
// resolver caches the answers after its first look-ups, and the DNS
// server's query count per round is recorded to show it.
//
// A run is refused rather than reported when it did not measure what it
// says: after every round the newest stored messages are read back over
// IMAP and must carry (on) exactly one Authentication-Results field with
// the node's authserv-id and spf=pass, dkim=pass, dmarc=pass, or (off) none
// at all (CheckHeader); and every message of the round must be accepted.
//
// MeasureSign measures the other side: what Surat's own DKIM signer
// (protocols/dkimsign) costs per message, with Ed25519, RSA-2048 and both.
//
// bench/cmd/authload is the command; `make bench-auth` runs it. It writes
// a Record per round (JSON lines) and WriteMarkdown's report.
package authload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/smtpload"
	"github.com/surat-mail/surat/cluster/faults/proc"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

// Hostname is every node's --hostname, hence the authserv-id of the
// Authentication-Results fields the nodes write.
const Hostname = "mx.bench.test"

// The recipient: one user on the nodes' --domain.
const (
	Recipient = "u1@example.test"
	password  = "bench-password"
)

// checkedPerRound is how many of a round's stored messages (the newest)
// CheckHeader reads back.
const checkedPerRound = 20

// Mode is whether the checks run.
type Mode string

// The two modes.
const (
	On  Mode = "on"  // --resolver HOST:PORT of the in-process DNS server
	Off Mode = "off" // --resolver none
)

// Config is one run: a fresh cluster, Rounds rounds of each mode.
type Config struct {
	Bin      string // the surat binary
	Dir      string // the cluster's data go in a fresh directory under it (default: the system's temporary directory)
	Keep     bool   // keep that directory
	Key      string // KeyEd25519 or KeyRSA
	Rounds   int    // rounds of each mode
	First    Mode   // the mode of the first round (default On)
	Messages int    // timed messages per round
	Warmup   int    // untimed messages per round before the timed ones (after the restart)
	Senders  int
	BodySize int
	Log      func(format string, args ...any)
}

// Record is one round (Kind "round") or one signing measurement (Kind
// "sign", Sign set), one JSON object a line.
type Record struct {
	Kind    string      `json:"kind"`
	Started time.Time   `json:"started"`
	Load1   float64     `json:"load1,omitempty"` // sign: one-minute load average before
	Key     string      `json:"key"`
	Sign    *SignResult `json:"sign,omitempty"`
	Mode    Mode        `json:"mode,omitempty"`
	Round   int         `json:"round,omitempty"` // from 1, counted per mode
	// Messages the round sent: Warmup untimed ones, then SMTP.Attempted.
	Warmup int `json:"warmup"`
	// SignMsPerMsg is what signing the round's messages cost, per
	// message, on one goroutine, before the round.
	SignMsPerMsg float64 `json:"sign_ms_per_msg"`
	// DNSQueries is how many queries the DNS server answered during the
	// round (restart, warm-up and timed part): 0 when off; when on, each
	// node's first look-ups, then its cache.
	DNSQueries int `json:"dns_queries"`
	// ServerCPUS is the three nodes' CPU time (user+system) over the
	// timed part; ServerCPUMsPerMsg per accepted message.
	ServerCPUS        float64 `json:"server_cpu_s"`
	ServerCPUMsPerMsg float64 `json:"server_cpu_ms_per_msg"`
	// Checked is how many stored messages CheckHeader passed;
	// AuthResults is one Authentication-Results field found (on).
	Checked     int              `json:"checked"`
	AuthResults string           `json:"auth_results,omitempty"`
	SMTP        *smtpload.Result `json:"smtp,omitempty"`
}

// Run measures cfg.Rounds rounds of each mode on a fresh cluster and
// calls emit with each round's Record as soon as it is complete.
func Run(ctx context.Context, cfg Config, emit func(Record) error) error {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.Rounds < 1 || cfg.Messages < 1 || cfg.Senders < 1 {
		return errors.New("authload: need rounds, messages and senders >= 1")
	}
	if cfg.First == "" {
		cfg.First = On
	}
	if cfg.First != On && cfg.First != Off {
		return fmt.Errorf("authload: first mode %q (want on or off)", cfg.First)
	}
	key, err := NewKey(cfg.Key)
	if err != nil {
		return err
	}
	dkimTXT, err := key.Record()
	if err != nil {
		return err
	}

	dnsSrv, err := dnstest.Listen()
	if err != nil {
		return err
	}
	defer dnsSrv.Close()
	dnsSrv.Add(SenderDomain, "TXT", SPFRecord)
	dnsSrv.Add(Selector+"._domainkey."+SenderDomain, "TXT", dkimTXT)
	dnsSrv.Add("_dmarc."+SenderDomain, "TXT", DMARCRecord)

	dir, err := os.MkdirTemp(cfg.Dir, "authload-"+cfg.Key+"-")
	if err != nil {
		return err
	}
	if cfg.Keep {
		logf("data and logs kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	// One set of nodes, two command lines: the same --data and ports,
	// --resolver none (proc's default) or the DNS server.
	common := []string{"--hostname", Hostname}
	clusters := map[Mode]*proc.Cluster{}
	clusters[Off], err = proc.New(proc.Options{Bin: cfg.Bin, Dir: dir, LogLevel: "warn", ExtraArgs: common})
	if err != nil {
		return err
	}
	clusters[On], err = clusters[Off].WithArgs(append(slices.Clone(common), "--resolver", dnsSrv.Addr()))
	if err != nil {
		return err
	}
	var alt proc.Alternation
	defer alt.Close()
	switchTo := func(m Mode) error {
		return alt.Switch(ctx, clusters[m], "checks "+string(m), 90*time.Second)
	}

	other := map[Mode]Mode{On: Off, Off: On}
	order := []Mode{cfg.First, other[cfg.First]}
	for r := 1; r <= cfg.Rounds; r++ {
		for _, m := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			dnsBefore := len(dnsSrv.Asked())
			if err := switchTo(m); err != nil {
				return err
			}
			if r == 1 && m == cfg.First {
				if err := alt.Running().AddUser(ctx, Recipient, password); err != nil {
					return err
				}
			}
			rec, err := round(ctx, cfg, key, alt.Running(), m, r, logf)
			if err != nil {
				alt.Running().Report(logf)
				return fmt.Errorf("%s round %d, checks %s: %w", cfg.Key, r, m, err)
			}
			rec.DNSQueries = len(dnsSrv.Asked()) - dnsBefore
			if m == Off && rec.DNSQueries > 0 {
				return fmt.Errorf("%s round %d, checks off: the DNS server was asked %d queries", cfg.Key, r, rec.DNSQueries)
			}
			logf("%s round %d checks %-3s: %6.0f msgs/s, p50 %.1f ms, p99 %.1f ms, server CPU %.2f ms/msg, %d DNS queries, load %.2f, checked %d stored",
				cfg.Key, r, m, rec.SMTP.AcceptedPerS, rec.SMTP.P50Ms, rec.SMTP.P99Ms, rec.ServerCPUMsPerMsg, rec.DNSQueries, rec.SMTP.Load1Before, rec.Checked)
			if err := emit(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// round sends one round's messages to the running nodes and checks what
// they stored.
func round(ctx context.Context, cfg Config, key *Key, c *proc.Cluster, m Mode, r int, logf func(string, ...any)) (Record, error) {
	rec := Record{Kind: "round", Key: cfg.Key, Mode: m, Round: r, Warmup: cfg.Warmup}
	tag := fmt.Sprintf("authload %s round %d checks %s", cfg.Key, r, m)
	corpus, signing, err := Corpus(key, uint64(r)<<1|boolBit(m == On), tag, cfg.Warmup+cfg.Messages, Recipient, cfg.BodySize)
	if err != nil {
		return rec, err
	}
	rec.SignMsPerMsg = signing.Seconds() * 1000 / float64(len(corpus))
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.SMTPAddr())
	}
	load := smtpload.Config{
		Addrs: addrs, Senders: cfg.Senders, From: Sender, To: Recipient, Helo: SenderDomain,
		BodySize: cfg.BodySize, Sources: min(cfg.Senders, 254), Attempts: 10, Duration: 5 * time.Minute,
		Messages: cfg.Messages, Corpus: corpus,
	}
	res, serverCPU, err := smtpload.RunTimed(ctx, load, cfg.Warmup, c.Nodes())
	if err != nil {
		return rec, err
	}
	res.Label = "checks " + string(m)
	rec.Started, rec.SMTP, rec.ServerCPUS = res.Started, res, serverCPU
	if res.Accepted > 0 {
		rec.ServerCPUMsPerMsg = rec.ServerCPUS * 1000 / float64(res.Accepted)
	}
	if _, err := proc.Within(ctx, 2*time.Minute, c.WaitConverged); err != nil {
		return rec, err
	}
	rec.Checked, rec.AuthResults, err = checkStored(c, tag, m == On)
	if err != nil {
		return rec, err
	}
	return rec, nil
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// checkStored reads the newest checkedPerRound messages of the user's
// INBOX over IMAP on the first node and checks each with CheckHeader; each
// must be of the round (its Subject carries tag).
func checkStored(c *proc.Cluster, tag string, on bool) (int, string, error) {
	n := c.Nodes()[0]
	cl, err := imapload.Conn{Addr: n.IMAPAddr(), StartTLS: true, Password: password}.Dial(Recipient)
	if err != nil {
		return 0, "", err
	}
	defer cl.Close()
	sel, err := cl.Select("INBOX", nil).Wait()
	if err != nil {
		return 0, "", fmt.Errorf("SELECT INBOX: %w", err)
	}
	if sel.NumMessages == 0 {
		return 0, "", errors.New("INBOX is empty")
	}
	var set imap.SeqSet
	set.AddRange(max(sel.NumMessages, checkedPerRound)-checkedPerRound+1, sel.NumMessages)
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	msgs, err := cl.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return 0, "", fmt.Errorf("FETCH %v BODY.PEEK[HEADER]: %w", set, err)
	}
	var ar string
	for _, msg := range msgs {
		header := msg.FindBodySection(section)
		if !ofRound(header, tag) {
			return 0, "", fmt.Errorf("message %d is not of this round (%q): %.300q", msg.SeqNum, tag, header)
		}
		got, err := CheckHeader(header, on, Hostname)
		if err != nil {
			return 0, "", fmt.Errorf("message %d: %w", msg.SeqNum, err)
		}
		ar = got
	}
	return len(msgs), ar, nil
}

// ofRound reports whether a stored message's Subject is one of the
// round tagged tag (Message).
func ofRound(header []byte, tag string) bool {
	h, err := parseHeader(header)
	return err == nil && strings.HasPrefix(h.Get("Subject"), tag+" message ")
}
