package spamcorpus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/smtpload"
	"github.com/surat-mail/surat/cluster/faults/proc"
)

// TargetCostRatio: ingest with the classifier on is at least this
// fraction of ingest with it off.
const TargetCostRatio = 0.85

// Mode is whether the classifier runs.
type Mode string

// The two modes.
const (
	On  Mode = "on"  // --spam-classifier=true, a model trained on the whole corpus
	Off Mode = "off" // --spam-classifier=false
)

// CostConfig is one cost run: a fresh cluster, Rounds rounds of each mode.
type CostConfig struct {
	Bin       string
	Dir       string
	Keep      bool
	ServeArgs []string // more serve flags for both modes
	Rounds    int
	First     Mode // default On
	Messages  int  // timed messages per round
	Warmup    int  // untimed messages per round, after the restart
	Senders   int
	// MinBytes and MaxBytes select the corpus messages sent: those of a
	// size in [MinBytes, MaxBytes] (default 3 to 5 KiB, around the 4 KiB
	// of the other ingest benchmarks), shuffled once (a fixed seed), then
	// taken in turn.
	MinBytes, MaxBytes int
	Log                func(format string, args ...any)
}

// CostRecord is one round (Kind "round") or the training before the
// rounds (Kind "train"), one JSON object a line.
type CostRecord struct {
	Kind    string    `json:"kind"`
	Started time.Time `json:"started"`
	Mode    Mode      `json:"mode,omitempty"`
	Round   int       `json:"round,omitempty"`
	Warmup  int       `json:"warmup,omitempty"`
	// The messages: how many distinct corpus messages were cycled, and
	// their mean size; of a round's, how many landed in Junk.
	Distinct  int     `json:"distinct,omitempty"`
	MeanBytes int     `json:"mean_bytes,omitempty"`
	Junked    int     `json:"junked"`
	Spam      int     `json:"spam"`  // of the round's messages, how many are corpus spam
	Filed     int     `json:"filed"` // INBOX + Junk growth over the round
	ServerCPU float64 `json:"server_cpu_s"`
	// ServerCPUMsPerMsg is the three nodes' CPU time over the timed part,
	// per accepted message.
	ServerCPUMsPerMsg float64          `json:"server_cpu_ms_per_msg"`
	Checked           int              `json:"checked"` // stored messages whose X-Spam-Status was checked
	SMTP              *smtpload.Result `json:"smtp,omitempty"`
	// Train: the whole corpus through `surat spam train`.
	TrainMessages int     `json:"train_messages,omitempty"`
	TrainS        float64 `json:"train_s,omitempty"`
	ConvergeS     float64 `json:"converge_s,omitempty"`
	Status        string  `json:"status,omitempty"`
}

// RunCost measures cfg.Rounds rounds of each mode on a fresh cluster whose
// global model first learns the whole corpus (l, every fold), and calls
// emit with each record as soon as it is complete.
func RunCost(ctx context.Context, cfg CostConfig, l Layout, msgs []Message, emit func(CostRecord) error) error {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.Rounds < 1 || cfg.Messages < 1 || cfg.Senders < 1 {
		return errors.New("spamcorpus: need rounds, messages and senders >= 1")
	}
	if cfg.First == "" {
		cfg.First = On
	}
	if cfg.MinBytes == 0 && cfg.MaxBytes == 0 {
		cfg.MinBytes, cfg.MaxBytes = 3<<10, 5<<10
	}
	var pick []Message
	total := 0
	for _, m := range msgs {
		if len(m.Raw) >= cfg.MinBytes && len(m.Raw) <= cfg.MaxBytes {
			pick = append(pick, m)
			total += len(m.Raw)
		}
	}
	if len(pick) == 0 {
		return fmt.Errorf("spamcorpus: no corpus message of %d to %d bytes", cfg.MinBytes, cfg.MaxBytes)
	}
	// The corpus lists its ham first: shuffled, every round's messages
	// mix ham and spam as the corpus does.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(pick), func(i, j int) { pick[i], pick[j] = pick[j], pick[i] })

	dir, err := os.MkdirTemp(cfg.Dir, "spamcorpus-cost-")
	if err != nil {
		return err
	}
	if cfg.Keep {
		logf("data and logs kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	clusters := map[Mode]*proc.Cluster{}
	clusters[On], err = proc.New(proc.Options{Bin: cfg.Bin, Dir: dir, LogLevel: "warn",
		ExtraArgs: append(slices.Clone(cfg.ServeArgs), "--spam-classifier=true")})
	if err != nil {
		return err
	}
	clusters[Off], err = clusters[On].WithArgs(append(slices.Clone(cfg.ServeArgs), "--spam-classifier=false"))
	if err != nil {
		return err
	}
	var alt proc.Alternation
	defer alt.Close()
	switchTo := func(m Mode) error {
		return alt.Switch(ctx, clusters[m], "classifier "+string(m), 90*time.Second)
	}

	// The model: the whole corpus, learnt once; it is Pebble state, so it
	// survives the restarts between rounds.
	if err := switchTo(On); err != nil {
		return err
	}
	c := alt.Running()
	if err := c.AddUser(ctx, TestUser, password); err != nil {
		return err
	}
	var res SuratResult
	all := Layout{Dir: l.Dir, Folds: append(slices.Clone(l.Folds), nil)} // an empty test fold: train on all
	started := time.Now()
	if err := train(ctx, SuratConfig{Bin: cfg.Bin}, c, c.Nodes()[0], all, len(all.Folds)-1, &res); err != nil {
		c.Report(logf)
		return err
	}
	logf("trained the global model on the whole corpus (%d messages) in %.1f s, applied everywhere %.1f s later", len(msgs), res.TrainS, res.ConvergeS)
	if err := emit(CostRecord{Kind: "train", Started: started, TrainMessages: len(msgs), TrainS: res.TrainS,
		ConvergeS: res.ConvergeS, Status: res.Status}); err != nil {
		return err
	}

	other := map[Mode]Mode{On: Off, Off: On}
	order := []Mode{cfg.First, other[cfg.First]}
	for r := 1; r <= cfg.Rounds; r++ {
		for _, m := range order {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !(r == 1 && m == On && cfg.First == On) {
				if err := switchTo(m); err != nil {
					return err
				}
			}
			rec, err := costRound(ctx, cfg, alt.Running(), m, r, pick)
			if err != nil {
				alt.Running().Report(logf)
				return fmt.Errorf("round %d, classifier %s: %w", r, m, err)
			}
			rec.Distinct, rec.MeanBytes = len(pick), total/len(pick)
			logf("round %d classifier %-3s: %6.0f msgs/s, p50 %.1f ms, p99 %.1f ms, server CPU %.2f ms/msg, %d of %d filed in Junk (%d spam), load %.2f, checked %d stored",
				r, m, rec.SMTP.AcceptedPerS, rec.SMTP.P50Ms, rec.SMTP.P99Ms, rec.ServerCPUMsPerMsg, rec.Junked, rec.Filed, rec.Spam, rec.SMTP.Load1Before, rec.Checked)
			if err := emit(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// costMessages are a round's messages: the picked corpus messages in
// turn, each with a first field naming the round and its number, so that
// every message is distinct and its round can be told.
func costMessages(tag string, n int, pick []Message) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		m := pick[i%len(pick)]
		out[i] = append(fmt.Appendf(nil, "X-Bench-Seq: %s %d\r\n", tag, i+1), m.Raw...)
	}
	return out
}

func costRound(ctx context.Context, cfg CostConfig, c *proc.Cluster, m Mode, r int, pick []Message) (CostRecord, error) {
	rec := CostRecord{Kind: "round", Mode: m, Round: r, Warmup: cfg.Warmup}
	tag := fmt.Sprintf("cost-r%d-%s", r, m)
	corpus := costMessages(tag, cfg.Warmup+cfg.Messages, pick)
	for i := range corpus {
		if pick[i%len(pick)].Spam {
			rec.Spam++
		}
	}
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.SMTPAddr())
	}
	load := smtpload.Config{
		Addrs: addrs, Senders: cfg.Senders, From: "load@" + SenderDomain, To: TestUser, Helo: "client." + SenderDomain,
		BodySize: 4096, Sources: min(cfg.Senders, 254), Attempts: 10, Duration: 5 * time.Minute,
		Messages: cfg.Messages, Corpus: corpus,
	}
	before, err := mailboxSizes(c.Nodes()[0].IMAPAddr())
	if err != nil {
		return rec, err
	}
	res, serverCPU, err := smtpload.RunTimed(ctx, load, cfg.Warmup, c.Nodes())
	if err != nil {
		return rec, err
	}
	res.Label = "classifier " + string(m)
	rec.Started, rec.SMTP, rec.ServerCPU = res.Started, res, serverCPU
	if res.Accepted > 0 {
		rec.ServerCPUMsPerMsg = rec.ServerCPU * 1000 / float64(res.Accepted)
	}
	if _, err := proc.Within(ctx, 2*time.Minute, c.WaitConverged); err != nil {
		return rec, err
	}
	after, err := mailboxSizes(c.Nodes()[0].IMAPAddr())
	if err != nil {
		return rec, err
	}
	rec.Junked = after["Junk"] - before["Junk"]
	rec.Filed = after["INBOX"] + after["Junk"] - before["INBOX"] - before["Junk"]
	if rec.Filed != cfg.Warmup+cfg.Messages {
		return rec, fmt.Errorf("%d messages filed in INBOX and Junk, %d accepted", rec.Filed, cfg.Warmup+cfg.Messages)
	}
	if m == Off && rec.Junked > 0 {
		return rec, fmt.Errorf("classifier off, yet %d messages filed in Junk", rec.Junked)
	}
	if m == On && rec.Spam > 0 && rec.Junked == 0 {
		return rec, fmt.Errorf("classifier on, %d spam messages sent, none filed in Junk", rec.Spam)
	}
	rec.Checked, err = checkCostStored(c.Nodes()[0].IMAPAddr(), tag, m == On)
	return rec, err
}

// mailboxSizes is the message count of the test user's INBOX and Junk.
func mailboxSizes(addr string) (map[string]int, error) {
	cl, err := imapload.Conn{Addr: addr, StartTLS: true, Password: password}.Dial(TestUser)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	out := map[string]int{}
	for _, mbox := range []string{"INBOX", "Junk"} {
		st, err := cl.Status(mbox, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			return nil, fmt.Errorf("STATUS %s: %w", mbox, err)
		}
		if st.NumMessages != nil {
			out[mbox] = int(*st.NumMessages)
		}
	}
	return out, nil
}

// checkedPerMailbox is how many of the newest messages of INBOX and of
// Junk checkCostStored reads.
const checkedPerMailbox = 10

// checkCostStored reads the newest messages of INBOX and Junk: those of
// the round (X-Bench-Seq names tag) carry exactly one X-Spam-Status when
// the classifier is on, none when it is off. At least one must be found.
func checkCostStored(addr, tag string, on bool) (int, error) {
	cl, err := imapload.Conn{Addr: addr, StartTLS: true, Password: password}.Dial(TestUser)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader,
		HeaderFields: []string{"X-Bench-Seq", "X-Spam-Status"}, Peek: true}
	checked := 0
	for _, mbox := range []string{"INBOX", "Junk"} {
		sel, err := cl.Select(mbox, nil).Wait()
		if err != nil {
			return 0, fmt.Errorf("SELECT %s: %w", mbox, err)
		}
		if sel.NumMessages == 0 {
			continue
		}
		var set imap.SeqSet
		set.AddRange(max(sel.NumMessages, checkedPerMailbox)-checkedPerMailbox+1, sel.NumMessages)
		msgs, err := cl.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return 0, fmt.Errorf("FETCH %s %v: %w", mbox, set, err)
		}
		for _, msg := range msgs {
			h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg.FindBodySection(section)))).ReadMIMEHeader()
			if err != nil && len(h) == 0 {
				return 0, fmt.Errorf("%s message %d: %w", mbox, msg.SeqNum, err)
			}
			if !strings.HasPrefix(h.Get("X-Bench-Seq"), tag+" ") {
				continue
			}
			n := len(h.Values("X-Spam-Status"))
			if on && n != 1 || !on && n != 0 {
				return 0, fmt.Errorf("%s message %d has %d X-Spam-Status fields with the classifier %s", mbox, msg.SeqNum, n, map[bool]string{true: "on", false: "off"}[on])
			}
			checked++
		}
	}
	if checked == 0 {
		return 0, fmt.Errorf("none of the newest stored messages is of this round (%s)", tag)
	}
	return checked, nil
}

// ReadCost reads CostRecords, one a line.
func ReadCost(r io.Reader) ([]CostRecord, error) {
	var recs []CostRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var rec CostRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}

// CostSummary is the rounds of a cost run, on against off.
type CostSummary struct {
	smtpload.OnOff
}

// SummariseCost collects the rounds.
func SummariseCost(recs []CostRecord) CostSummary {
	var s CostSummary
	for _, r := range recs {
		if r.Kind != "round" || r.SMTP == nil {
			continue
		}
		s.Add(r.Mode == On, r.SMTP.AcceptedPerS, r.ServerCPUMsPerMsg)
	}
	return s
}

// WriteCostMarkdown writes the cost report; gobench, when not empty, is
// the output of the classifier's Go benchmarks (training apply time, model
// size), quoted as it is.
func WriteCostMarkdown(w io.Writer, recs []CostRecord, machine, gobench string) {
	s := SummariseCost(recs)
	fmt.Fprintf(w, "# Spam filtering cost: SMTP ingest with the classifier on and off\n\n%s\n\n", machine)
	fmt.Fprintf(w, "Three real `surat serve` nodes; the global model first learns the whole SpamAssassin corpus "+
		"(`surat spam train`); then rounds alternate between the same nodes (same data, same ports) restarted with "+
		"`--spam-classifier=true` and `--spam-classifier=false`. Each round sends corpus messages of 3 to 5 KiB, "+
		"each made distinct by a first X-Bench-Seq field, from 32 senders (bench/smtpload, a new connection per "+
		"message) to one user over the three MX. Target: on ≥ %.2f× off. bench/spamcorpus describes the method; "+
		"`make bench-spam` runs it.\n\n", TargetCostRatio)
	if len(s.On) > 0 && len(s.Off) > 0 {
		verdict := "not met"
		if s.Ratio() >= TargetCostRatio {
			verdict = "**met**"
		}
		fmt.Fprintf(w, "| | value |\n|---|---:|\n")
		fmt.Fprintf(w, "| msgs/s off → on (medians) | %.0f → %.0f |\n", smtpload.Median(s.Off), smtpload.Median(s.On))
		fmt.Fprintf(w, "| on / off (target ≥ %.2f) | **%.2f** (%s) |\n", TargetCostRatio, s.Ratio(), verdict)
		fmt.Fprintf(w, "| on / off, median of round pairs | %.2f |\n", s.PairedRatio())
		fmt.Fprintf(w, "| server CPU per message off / on | %.2f / %.2f ms (ratio %.2f) |\n\n",
			smtpload.Median(s.CPUOff), smtpload.Median(s.CPUOn), s.CPURatio())
	}
	fmt.Fprintf(w, "| round | classifier | msgs/s | p50 | p99 | server CPU/msg | filed in Junk (spam sent) | load before | other CPU | checked |\n")
	fmt.Fprintf(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range recs {
		if r.Kind != "round" || r.SMTP == nil {
			continue
		}
		fmt.Fprintf(w, "| %d | %s | %.0f | %.1f ms | %.1f ms | %.2f ms | %d of %d (%d) | %.2f | %.1f s | %d |\n", r.Round, r.Mode,
			r.SMTP.AcceptedPerS, r.SMTP.P50Ms, r.SMTP.P99Ms, r.ServerCPUMsPerMsg, r.Junked, r.Filed, r.Spam, r.SMTP.Load1Before, r.SMTP.OtherCPUS, r.Checked)
	}
	for _, r := range recs {
		if r.Kind == "round" && r.Mode == On {
			fmt.Fprintf(w, "\nMessages: %d distinct corpus messages of 3 to 5 KiB (mean %d bytes) in turn, %d timed a round after %d untimed.\n",
				r.Distinct, r.MeanBytes, r.SMTP.Attempted, r.Warmup)
			break
		}
	}
	for _, r := range recs {
		if r.Kind == "train" {
			fmt.Fprintf(w, "\nTraining before the rounds: %d messages through `surat spam train` in %.1f s (%.2f ms a message, "+
				"end to end: reading, tokenizing, the admin API, replication), applied on every node %.1f s after it returned.\n",
				r.TrainMessages, r.TrainS, r.TrainS*1000/float64(max(r.TrainMessages, 1)), r.ConvergeS)
			if r.Status != "" {
				fmt.Fprintf(w, "\n`surat spam status` then:\n\n```\n%s\n```\n", r.Status)
			}
		}
	}
	if gobench = strings.TrimSpace(gobench); gobench != "" {
		fmt.Fprintf(w, "\n## The classifier's Go benchmarks\n\nTraining apply time per message (target ≤ 1 ms) and "+
			"the model's size for 100k tokens, as `go test -bench` printed them:\n\n```\n%s\n```\n", gobench)
	}
}
