package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Outcome is what an SMTP delivery attempt tells about the message.
type Outcome int

// Outcomes of a delivery attempt.
const (
	// Refused: the attempt failed before the end of DATA was sent (a
	// reply to MAIL, RCPT or DATA, or the connection lost before the final
	// dot). The server never had the whole message: it must not exist.
	Refused Outcome = iota
	// Acked: 250 after DATA. The message must exist, exactly once, for
	// every recipient (docs/DESIGN.md invariant 1).
	Acked
	// TempFailed: a 4xx reply after DATA. Not acknowledged; the proposal
	// may still have been committed, so it may exist (at most once).
	TempFailed
	// PermFailed: a 5xx reply after DATA. Under faults a storage failure
	// must be 4xx, never 5xx (it would bounce mail): a 5xx is reported.
	PermFailed
	// Unknown: the connection was lost after the final dot was sent,
	// before a reply. It may exist, at most once.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Refused:
		return "refused"
	case Acked:
		return "acked"
	case TempFailed:
		return "4xx"
	case PermFailed:
		return "5xx"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// SentMessage is one delivery attempt of one unique message.
type SentMessage struct {
	MessageID string
	Round     int
	Rcpts     []string
	Node      string // the node the attempt went to
	Outcome   Outcome
	Stage     string // the command whose reply or failure decided the outcome
	Code      int    // the SMTP reply code at Stage; 0 if there was none
	Reply     string // the server's reply or the error
}

// Ledger records every delivery attempt, safe for concurrent use.
type Ledger struct {
	mu   sync.Mutex
	msgs map[string]*SentMessage
	// dialFailures counts connections that failed before any message
	// (a node down), per round.
	dialFailures map[int]int
	// problems are replies that should not happen under these faults
	// (5xx for valid, well-formed mail), with their rounds.
	problems []roundProblem
}

type roundProblem struct {
	round int
	text  string
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{msgs: map[string]*SentMessage{}, dialFailures: map[int]int{}}
}

func (l *Ledger) record(m SentMessage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs[m.MessageID] = &m
	if m.Code >= 500 {
		l.problems = append(l.problems, roundProblem{m.Round, fmt.Sprintf("%s to %s via %s: %s reply at %s: %s",
			m.MessageID, strings.Join(m.Rcpts, ","), m.Node, m.Outcome, m.Stage, m.Reply)})
	}
}

func (l *Ledger) dialFailed(round int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dialFailures[round]++
}

// Lookup returns the attempt for a Message-ID.
func (l *Ledger) Lookup(messageID string) (SentMessage, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.msgs[messageID]
	if !ok {
		return SentMessage{}, false
	}
	return *m, true
}

// Messages returns every attempt.
func (l *Ledger) Messages() []SentMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SentMessage, 0, len(l.msgs))
	for _, m := range l.msgs {
		out = append(out, *m)
	}
	return out
}

// Problems lists the replies of a round that should never happen (5xx for
// valid mail); round < 0: of every round.
func (l *Ledger) Problems(round int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, p := range l.problems {
		if round < 0 || p.round == round {
			out = append(out, p.text)
		}
	}
	return out
}

// Counts are one round's attempts by outcome.
type Counts struct {
	Acked, Refused, TempFailed, PermFailed, Unknown, DialFailures int
}

func (c Counts) String() string {
	return fmt.Sprintf("acked %d, 4xx %d, unknown %d, refused %d, 5xx %d, connect failures %d",
		c.Acked, c.TempFailed, c.Unknown, c.Refused, c.PermFailed, c.DialFailures)
}

// Counts tallies the attempts of a round.
func (l *Ledger) Counts(round int) Counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := Counts{DialFailures: l.dialFailures[round]}
	for _, m := range l.msgs {
		if m.Round != round {
			continue
		}
		switch m.Outcome {
		case Acked:
			c.Acked++
		case Refused:
			c.Refused++
		case TempFailed:
			c.TempFailed++
		case PermFailed:
			c.PermFailed++
		case Unknown:
			c.Unknown++
		}
	}
	return c
}

// SMTPLoad sends unique messages to the MX listeners of the live nodes
// from several concurrent connections, recording each attempt's outcome in
// a Ledger. No TLS, no AUTH: the plain MX port, local recipients only.
type SMTPLoad struct {
	// Targets returns the listeners to send to; called for every new
	// connection, so a node killed or restarted drops out or comes back.
	Targets func() []Target
	// Recipients are local addresses; each message goes to one, every
	// MultiRcptEvery-th to two (one delivery event for both).
	Recipients     []string
	MultiRcptEvery int
	// Senders is the number of concurrent connections (default 4).
	Senders int
	// PerConnection is how many messages a connection sends before the
	// sender moves on to the next node (default 10), so every node gets
	// load whatever the connection lifetimes.
	PerConnection int
	Ledger        *Ledger
	Round         int
	// RunID makes Message-IDs unique across runs and rounds.
	RunID string
	// Timeout bounds each SMTP command and the wait for the reply to DATA
	// (default 30 s).
	Timeout time.Duration
}

// Run sends until ctx is done; attempts in flight then complete (their
// outcome is recorded) before it returns.
func (l *SMTPLoad) Run(ctx context.Context) {
	senders := l.Senders
	if senders <= 0 {
		senders = 4
	}
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.sender(ctx, s)
		}()
	}
	wg.Wait()
}

func (l *SMTPLoad) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return 30 * time.Second
}

func (l *SMTPLoad) sender(ctx context.Context, s int) {
	per := l.PerConnection
	if per <= 0 {
		per = 10
	}
	seq, conn := 0, s
	for ctx.Err() == nil {
		targets := l.Targets()
		if len(targets) == 0 {
			sleepCtx(ctx, 50*time.Millisecond)
			continue
		}
		t := targets[conn%len(targets)]
		conn++
		c, err := l.dial(ctx, t)
		if err != nil {
			l.Ledger.dialFailed(l.Round)
			sleepCtx(ctx, 20*time.Millisecond)
			continue
		}
		for i := 0; i < per && ctx.Err() == nil; i++ {
			seq++
			m := l.message(s, seq, t.Node)
			if !l.send(c, &m) {
				break
			}
		}
		_ = c.Quit()
		c.Close()
	}
}

func (l *SMTPLoad) dial(ctx context.Context, t Target) (*smtp.Client, error) {
	conn, err := t.Connect(ctx, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = l.timeout()
	c.SubmissionTimeout = l.timeout()
	if err := c.Hello("load.faults.test"); err != nil {
		c.Close()
		return nil, fmt.Errorf("EHLO %s: %w", t.Node, err)
	}
	return c, nil
}

func (l *SMTPLoad) message(s, seq int, node string) SentMessage {
	n := len(l.Recipients)
	k := s*7919 + seq // spreads senders over recipients
	rcpts := []string{l.Recipients[k%n]}
	if l.MultiRcptEvery > 0 && n > 1 && seq%l.MultiRcptEvery == 0 {
		rcpts = append(rcpts, l.Recipients[(k+1)%n])
	}
	return SentMessage{
		MessageID: fmt.Sprintf("<%s.r%03d.s%02d.%06d@load.faults.test>", l.RunID, l.Round, s, seq),
		Round:     l.Round,
		Rcpts:     rcpts,
		Node:      node,
	}
}

// send makes one delivery attempt and records it; false if the
// connection is no longer usable.
func (l *SMTPLoad) send(c *smtp.Client, m *SentMessage) bool {
	usable := true
	fail := func(stage string, err error) {
		m.Outcome, m.Stage, m.Reply = Refused, stage, errorReply(err)
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			m.Code = se.Code
		}
		if m.Code == 0 || m.Code == 421 {
			usable = false // the connection is gone or closing
		}
	}
	defer func() { l.Ledger.record(*m) }()
	if err := c.Mail("load@sender.faults.test", nil); err != nil {
		fail("MAIL", err)
		return usable && c.Reset() == nil
	}
	for _, r := range m.Rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			fail("RCPT", err)
			return usable && c.Reset() == nil
		}
	}
	w, err := c.Data()
	if err != nil {
		fail("DATA", err)
		return usable && c.Reset() == nil
	}
	if _, err := w.Write(l.body(m)); err != nil {
		// The final dot is written only by Close: the server cannot have
		// the whole message.
		fail("body", err)
		return false
	}
	_, err = w.CloseWithResponse()
	m.Stage = "end of DATA"
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		m.Code = se.Code
	}
	switch {
	case err == nil:
		m.Outcome, m.Code, m.Reply = Acked, 250, "250"
	case errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
		m.Outcome, m.Reply = TempFailed, errorReply(err)
		usable = se.Code != 421
	case errors.As(err, &se):
		m.Outcome, m.Reply = PermFailed, errorReply(err)
	default:
		// Lost while the dot or the reply was in flight.
		m.Outcome, m.Reply = Unknown, err.Error()
		usable = false
	}
	return usable
}

func (l *SMTPLoad) body(m *SentMessage) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Load <load@sender.faults.test>\r\n")
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(m.Rcpts, ", "))
	fmt.Fprintf(&b, "Subject: faults round %d %s\r\n", m.Round, m.MessageID)
	fmt.Fprintf(&b, "Message-ID: %s\r\n", m.MessageID)
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "\r\n")
	fmt.Fprintf(&b, "Sent by the faults load generator to %s via %s.\r\n", strings.Join(m.Rcpts, ", "), m.Node)
	for i := range 8 {
		fmt.Fprintf(&b, "Line %d of a small body, so that the message has some size.\r\n", i)
	}
	return []byte(b.String())
}

// errorReply renders an SMTP error as "CODE x.y.z text", or any other
// error as its text.
func errorReply(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
	}
	return err.Error()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
