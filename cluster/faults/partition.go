package faults

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Pieces for partition tests: the load generator's Ledger says what
// happened to each message, a Prober also says when, and RaftEvents reads
// what Raft did, and when, from a node's log.

// ProbeAttempt is one timed delivery attempt of a Prober.
type ProbeAttempt struct {
	SentMessage
	// Sent is when the end of DATA (the final dot) was about to be
	// written; zero if the attempt ended before it. The dot left later.
	Sent time.Time
	// Answered is when the outcome was known (the reply read, or the
	// failure seen). The reply arrived earlier.
	Answered time.Time
}

// Latency is the time from the end of DATA to its reply, or 0 when the
// attempt never reached the end of DATA.
func (a ProbeAttempt) Latency() time.Duration {
	if a.Sent.IsZero() {
		return 0
	}
	return a.Answered.Sub(a.Sent)
}

// Prober delivers one message at a time to one node's MX listener,
// whether or not the node is reachable, and records each attempt in a
// Ledger (so CheckMail checks its messages like the load's) and, with its
// times, in its own list. A partition test uses the times to tell an
// acknowledgement given while a node was cut off from the quorum from one
// given before or after.
type Prober struct {
	Target Target
	// Rcpt is the recipient of every probe message.
	Rcpt   string
	Ledger *Ledger
	Round  int
	// RunID makes Message-IDs unique across runs and rounds.
	RunID string
	// Timeout bounds connecting, each command and the wait for the reply
	// to DATA (default 30 s).
	Timeout time.Duration
	// Pause is the wait between attempts (default 20 ms), so probes
	// sample the node over time rather than load it.
	Pause time.Duration

	mu       sync.Mutex
	attempts []ProbeAttempt
}

func (p *Prober) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 30 * time.Second
}

func (p *Prober) pause() time.Duration {
	if p.Pause > 0 {
		return p.Pause
	}
	return 20 * time.Millisecond
}

// Attempts returns every attempt so far, in the order they were made.
func (p *Prober) Attempts() []ProbeAttempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProbeAttempt(nil), p.attempts...)
}

// Run probes until ctx is done; an attempt in flight then completes (its
// outcome is recorded) before it returns.
func (p *Prober) Run(ctx context.Context) {
	var c *smtp.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	seq := 0
	for ctx.Err() == nil {
		if c == nil {
			var err error
			if c, err = p.dial(ctx); err != nil {
				c = nil
				p.Ledger.dialFailed(p.Round)
				sleepCtx(ctx, p.pause())
				continue
			}
		}
		seq++
		if !p.send(c, seq) {
			c.Close()
			c = nil
		}
		sleepCtx(ctx, p.pause())
	}
	if c != nil {
		_ = c.Quit()
	}
}

func (p *Prober) dial(ctx context.Context) (*smtp.Client, error) {
	conn, err := p.Target.Connect(ctx, p.timeout())
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = p.timeout()
	c.SubmissionTimeout = p.timeout()
	if err := c.Hello("probe.faults.test"); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO %s: %w", p.Target.Node, err)
	}
	return c, nil
}

// send makes one attempt and records it; false if the connection is no
// longer usable. The outcomes are the load generator's (see Outcome).
func (p *Prober) send(c *smtp.Client, seq int) bool {
	a := ProbeAttempt{SentMessage: SentMessage{
		MessageID: fmt.Sprintf("<%s.r%03d.probe-%s.%06d@probe.faults.test>", p.RunID, p.Round, p.Target.Node, seq),
		Round:     p.Round,
		Rcpts:     []string{p.Rcpt},
		Node:      p.Target.Node,
	}}
	usable := true
	fail := func(stage string, err error) {
		a.Outcome, a.Stage, a.Reply = Refused, stage, errorReply(err)
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			a.Code = se.Code
		}
		if a.Code == 0 || a.Code == 421 {
			usable = false
		}
	}
	defer func() {
		a.Answered = time.Now()
		p.Ledger.record(a.SentMessage)
		p.mu.Lock()
		p.attempts = append(p.attempts, a)
		p.mu.Unlock()
	}()
	if err := c.Mail("probe@sender.faults.test", nil); err != nil {
		fail("MAIL", err)
		return usable && c.Reset() == nil
	}
	if err := c.Rcpt(p.Rcpt, nil); err != nil {
		fail("RCPT", err)
		return usable && c.Reset() == nil
	}
	w, err := c.Data()
	if err != nil {
		fail("DATA", err)
		return usable && c.Reset() == nil
	}
	body := fmt.Sprintf("From: probe@sender.faults.test\r\nTo: %s\r\nMessage-ID: %s\r\nSubject: probe %d of %s\r\n\r\nA timed probe.\r\n",
		p.Rcpt, a.MessageID, seq, p.Target.Node)
	if _, err := w.Write([]byte(body)); err != nil {
		fail("body", err)
		return false
	}
	a.Sent = time.Now()
	_, err = w.CloseWithResponse()
	a.Stage = "end of DATA"
	var se *smtp.SMTPError
	switch {
	case err == nil:
		a.Outcome, a.Code, a.Reply = Acked, 250, "250"
	case errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
		a.Outcome, a.Code, a.Reply = TempFailed, se.Code, errorReply(err)
		usable = se.Code != 421
	case errors.As(err, &se):
		a.Outcome, a.Code, a.Reply = PermFailed, se.Code, errorReply(err)
	default:
		a.Outcome, a.Reply = Unknown, err.Error()
		usable = false
	}
	return usable
}

// RaftEventKind is a Raft state change a node logs.
type RaftEventKind string

// The Raft state changes RaftEvents recognises, by hashicorp/raft's log
// message (v1.7).
const (
	// RaftCandidate: "entering candidate state", with the term the
	// node would campaign for. With pre-vote the term is not yet taken.
	RaftCandidate RaftEventKind = "candidate"
	// RaftPreVoteFailed: the pre-vote found no majority; the term stays.
	RaftPreVoteFailed RaftEventKind = "pre-vote failed"
	// RaftElection: the pre-vote passed and a real election starts: the
	// node's term goes up.
	RaftElection RaftEventKind = "election"
	// RaftWon: "election won", with the new term.
	RaftWon RaftEventKind = "won"
	// RaftLeader: "entering leader state".
	RaftLeader RaftEventKind = "leader"
	// RaftFollower: "entering follower state".
	RaftFollower RaftEventKind = "follower"
	// RaftSteppedDown: a leader that lost contact with a quorum for its
	// lease stepped down.
	RaftSteppedDown RaftEventKind = "stepped down"
	// RaftNewerTerm: a leader stepped down for a newer leader.
	RaftNewerTerm RaftEventKind = "stepped down for a newer leader"
)

// raftMessages maps each kind to the start of its log message.
var raftMessages = []struct {
	prefix string
	kind   RaftEventKind
}{
	{"raft: entering candidate state", RaftCandidate},
	{"raft: pre-vote campaign failed", RaftPreVoteFailed},
	{"raft: pre-vote successful, starting election", RaftElection},
	{"raft: election won", RaftWon},
	{"raft: entering leader state", RaftLeader},
	{"raft: entering follower state", RaftFollower},
	{"raft: failed to contact quorum of nodes, stepping down", RaftSteppedDown},
	{"raft: new leader elected, stepping down", RaftNewerTerm},
}

// RaftEvent is one Raft state change read from a node's log.
type RaftEvent struct {
	Time time.Time
	Node string
	Kind RaftEventKind
	// Term is the term the message names, 0 if none.
	Term uint64
	Line string
}

// RaftEvents reads the node's log and returns its Raft state changes at
// or after since, in log order.
func RaftEvents(n *Node, since time.Time) ([]RaftEvent, error) {
	f, err := os.Open(n.LogPath())
	if err != nil {
		return nil, fmt.Errorf("%s: raft events: %w", n.ID(), err)
	}
	defer f.Close()
	var out []RaftEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		ev, ok := ParseRaftEvent(n.ID(), sc.Text())
		if ok && !ev.Time.Before(since) {
			out = append(out, ev)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: raft events: read %s: %w", n.ID(), n.LogPath(), err)
	}
	return out, nil
}

// ParseRaftEvent recognises a Raft state change in one line of a node's
// log in the text format (--log-format text: `time=… level=… msg="[INFO]
// raft: election won: term=3 tally=2" node=n1 …`).
func ParseRaftEvent(node, line string) (RaftEvent, bool) {
	ts, ok := strings.CutPrefix(line, "time=")
	if !ok {
		return RaftEvent{}, false
	}
	ts, _, _ = strings.Cut(ts, " ")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return RaftEvent{}, false
	}
	// hashicorp/raft's messages come through hclog: msg="[INFO]  raft: …".
	_, msg, ok := strings.Cut(line, ` msg="`)
	if !ok {
		return RaftEvent{}, false
	}
	if strings.HasPrefix(msg, "[") {
		if _, rest, ok := strings.Cut(msg, "]"); ok {
			msg = strings.TrimLeft(rest, " ")
		}
	}
	// The message ends at the first unescaped quote; its term=N, if any,
	// is inside it.
	for j := 0; j < len(msg); j++ {
		if msg[j] == '\\' {
			j++ // an escaped character, such as \" inside the message
			continue
		}
		if msg[j] == '"' {
			msg = msg[:j]
			break
		}
	}
	for _, m := range raftMessages {
		if !strings.HasPrefix(msg, m.prefix) {
			continue
		}
		ev := RaftEvent{Time: at, Node: node, Kind: m.kind, Line: line}
		if _, rest, ok := strings.Cut(msg, " term="); ok {
			digits := rest
			if end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); end >= 0 {
				digits = rest[:end]
			}
			ev.Term, _ = strconv.ParseUint(digits, 10, 64)
		}
		return ev, true
	}
	return RaftEvent{}, false
}

// ProbeTally counts probe attempts by outcome, with the latencies of the
// acknowledged ones.
type ProbeTally struct {
	Counts    map[Outcome]int
	Latencies []time.Duration // from the end of DATA to the 250
}

// Add counts one attempt.
func (t *ProbeTally) Add(a ProbeAttempt) {
	if t.Counts == nil {
		t.Counts = map[Outcome]int{}
	}
	t.Counts[a.Outcome]++
	if a.Outcome == Acked {
		t.Latencies = append(t.Latencies, a.Latency())
	}
}

func (t ProbeTally) String() string {
	if len(t.Counts) == 0 {
		return "none"
	}
	var parts []string
	for _, o := range []Outcome{Acked, TempFailed, Unknown, Refused, PermFailed} {
		if t.Counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, t.Counts[o]))
		}
	}
	if len(t.Latencies) > 0 {
		s := slices.Clone(t.Latencies)
		slices.Sort(s)
		q := func(f float64) time.Duration { return s[int(f*float64(len(s)-1))].Round(100 * time.Microsecond) }
		parts = append(parts, fmt.Sprintf("250 latency min %v p50 %v p90 %v max %v", q(0), q(0.5), q(0.9), q(1)))
	}
	return strings.Join(parts, ", ")
}

// DescribeRaftEvents summarises Raft state changes in time order:
// elections (with their terms), step-downs, and how often each node was a
// candidate and for which terms (with pre-vote, a node that cannot win
// campaigns again and again for the same term). at renders a time.
func DescribeRaftEvents(events []RaftEvent, at func(time.Time) string) string {
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b RaftEvent) int { return a.Time.Compare(b.Time) })
	type candidacy struct {
		count int
		terms []uint64
	}
	cands := map[string]*candidacy{}
	var parts []string
	for _, ev := range events {
		switch ev.Kind {
		case RaftWon:
			parts = append(parts, fmt.Sprintf("%s won term %d at %s", ev.Node, ev.Term, at(ev.Time)))
		case RaftElection:
			parts = append(parts, fmt.Sprintf("%s started an election for term %d at %s", ev.Node, ev.Term, at(ev.Time)))
		case RaftSteppedDown:
			parts = append(parts, fmt.Sprintf("%s stepped down (no quorum within its lease) at %s", ev.Node, at(ev.Time)))
		case RaftNewerTerm:
			parts = append(parts, fmt.Sprintf("%s stepped down for a newer leader at %s", ev.Node, at(ev.Time)))
		case RaftCandidate:
			c := cands[ev.Node]
			if c == nil {
				c = &candidacy{}
				cands[ev.Node] = c
			}
			c.count++
			if !slices.Contains(c.terms, ev.Term) {
				c.terms = append(c.terms, ev.Term)
			}
		}
	}
	nodes := make([]string, 0, len(cands))
	for n := range cands {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		parts = append(parts, fmt.Sprintf("%s was candidate %d times (terms %s)", n, cands[n].count, describeTerms(cands[n].terms)))
	}
	if len(parts) == 0 {
		return "no elections, no step-downs"
	}
	return strings.Join(parts, "; ")
}

// describeTerms renders ascending terms compactly: "3", "5-25 (20 terms)".
func describeTerms(terms []uint64) string {
	switch len(terms) {
	case 0:
		return "none"
	case 1:
		return strconv.FormatUint(terms[0], 10)
	}
	return fmt.Sprintf("%d-%d (%d terms)", slices.Min(terms), slices.Max(terms), len(terms))
}

// ElectionsWon returns the elections won in events, in time order.
func ElectionsWon(events []RaftEvent) []RaftEvent {
	var out []RaftEvent
	for _, ev := range events {
		if ev.Kind == RaftWon {
			out = append(out, ev)
		}
	}
	slices.SortStableFunc(out, func(a, b RaftEvent) int { return a.Time.Compare(b.Time) })
	return out
}
