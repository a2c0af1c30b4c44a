package mailauth

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dkim"
)

// Envelope is what the SMTP transaction says about a message.
type Envelope struct {
	RemoteIP net.IP
	HELO     string // the EHLO/HELO argument as sent
	// MailFrom is the reverse-path address ("" for the null path <>).
	MailFrom string
	// RecipientDomains are the domains of the accepted recipients.
	RecipientDomains []string
}

// maxAuthorDomains bounds the From domains evaluated (RFC 7489 §6.6.1).
const maxAuthorDomains = 4

// errConsumerDone closes a verification pipe whose reader has finished.
var errConsumerDone = errors.New("mailauth: verifier done reading")

// errHeaderCost is the DKIM result of a header section too costly to give
// to go-msgauth (maxUnfoldCost).
var errHeaderCost = errors.New("header section folded into too many lines to verify")

// ErrFinished is returned by Write after Finish or Abort.
var ErrFinished = errors.New("mailauth: message already finished")

// Message is the evaluation of one message in progress: an io.Writer for
// the message as it streams in (header section and body, dot-unstuffed,
// CRLF line endings), ended by Finish or Abort. Write and Finish are called
// from one goroutine.
type Message struct {
	c      *Checker
	env    Envelope
	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time

	spfDone chan struct{}
	spf     SPFResult
	helo    *SPFResult

	head     []byte // the header section while it is read
	scan     int    // where the search for its end resumes
	headDone bool
	tooBig   bool
	size     int64

	fields  []field
	sigs    []sigTags
	authors []string
	lookups []*policyLookup
	pipes   []*io.PipeWriter

	dkimDone chan struct{}
	verifs   []*dkim.Verification
	dkimErr  error

	arcRun  ARCRun
	arcDone chan struct{}
	arc     ARCResult

	finished bool
}

// Start begins the evaluation of a message: at the end of DATA's
// preliminaries (or at MAIL FROM: SPF needs only the envelope). ctx bounds
// every look-up the message makes; cancelling it abandons them.
func (c *Checker) Start(ctx context.Context, env Envelope) *Message {
	ctx, cancel := context.WithCancel(ctx)
	m := &Message{c: c, env: env, ctx: ctx, cancel: cancel, start: c.now(), spfDone: make(chan struct{})}
	go m.runSPF()
	return m
}

// runSPF checks the MAIL FROM identity and, separately, the HELO identity
// (RFC 7208 §2.3). For the null path the MAIL FROM identity is
// postmaster@HELO (§2.4), which is then the same check.
func (m *Message) runSPF() {
	defer close(m.spfDone)
	helo := heloDomain(m.env.HELO)
	ip := m.env.RemoteIP
	if m.c.spfPolicy == SPFPolicyNone {
		m.spf = SPFResult{Scope: ScopeMailFrom, Sender: m.env.MailFrom, Result: spf.None, Reason: "not checked (--spf-policy none)"}
		if _, d, ok := strings.Cut(m.env.MailFrom, "@"); ok {
			m.spf.Domain = strings.ToLower(d)
		}
		return
	}
	if m.env.MailFrom == "" {
		if helo == "" {
			m.spf = SPFResult{Scope: ScopeHELO, Result: spf.None, Reason: "null path and no HELO domain"}
			return
		}
		m.spf = m.c.checkSPF(m.ctx, ip, helo, "postmaster@"+helo, ScopeHELO)
		return
	}
	var heloRes SPFResult
	heloDone := make(chan struct{})
	if helo != "" {
		go func() {
			defer close(heloDone)
			heloRes = m.c.checkSPF(m.ctx, ip, helo, "postmaster@"+helo, ScopeHELO)
		}()
	} else {
		close(heloDone)
	}
	sender := m.env.MailFrom
	if at := strings.LastIndexByte(sender, '@'); at >= 0 {
		sender = sender[:at+1] + strings.ToLower(sender[at+1:])
	}
	m.spf = m.c.checkSPF(m.ctx, ip, helo, sender, ScopeMailFrom)
	<-heloDone
	if helo != "" {
		m.helo = &heloRes
	}
}

// Write feeds the next bytes of the message. It never fails for what the
// message holds: a message that cannot be verified gets that as its
// result.
func (m *Message) Write(p []byte) (int, error) {
	if m.finished {
		return 0, ErrFinished
	}
	m.size += int64(len(p))
	if m.headDone {
		m.feed(p)
		return len(p), nil
	}
	if m.tooBig {
		return len(p), nil
	}
	m.head = append(m.head, p...)
	end, next := headerEnd(m.head, m.scan)
	m.scan = next
	if end < 0 {
		if len(m.head) > m.c.maxHeader {
			m.tooBig = true
			m.head = nil
		}
		return len(p), nil
	}
	if end > m.c.maxHeader {
		m.tooBig = true
		m.head = nil
		return len(p), nil
	}
	m.headerRead(m.head[:end])
	buffered := m.head
	m.head = nil
	m.feed(buffered)
	return len(p), nil
}

// feed writes p to every verifier still reading.
func (m *Message) feed(p []byte) {
	if m.arcRun != nil {
		m.arcRun.Write(p)
	}
	for i, pw := range m.pipes {
		if pw == nil {
			continue
		}
		if _, err := pw.Write(p); err != nil {
			m.pipes[i] = nil // the verifier stopped reading: it has its result
		}
	}
}

// headerRead starts what needs the header section: the DMARC record
// look-ups, and DKIM and ARC verification when the message has
// signatures or seals.
func (m *Message) headerRead(h []byte) {
	m.headDone = true
	m.fields = parseFields(h)
	m.sigs = dkimSignatures(m.fields)
	m.authors, _ = authorDomains(m.fields)
	if len(m.authors) > maxAuthorDomains {
		m.authors = m.authors[:maxAuthorDomains]
	}
	for _, d := range m.authors {
		l := &policyLookup{domain: d, done: make(chan struct{})}
		m.lookups = append(m.lookups, l)
		go m.c.discover(m.ctx, l)
	}
	if len(m.sigs) > 0 && unfoldCost(m.fields) > maxUnfoldCost {
		m.dkimErr = errHeaderCost
	} else if len(m.sigs) > 0 {
		m.dkimDone = make(chan struct{})
		pr, pw := io.Pipe()
		m.pipes = append(m.pipes, pw)
		go func() {
			defer close(m.dkimDone)
			m.verifs, m.dkimErr = m.c.verifyDKIM(m.ctx, pr)
			pr.CloseWithError(errConsumerDone)
		}()
	}
	if m.c.arc != nil && hasField(m.fields, "ARC-Seal") {
		// ARC verification takes the stream without blocking (it hashes
		// as it goes); its key look-ups wait for Finish.
		m.arcRun = m.c.arc.Start()
	}
}

// Abort abandons the message (the transaction was reset or the client
// left): every look-up and verifier stops.
func (m *Message) Abort() {
	if m.finished {
		return
	}
	m.finished = true
	m.cancel()
	for _, pw := range m.pipes {
		if pw != nil {
			pw.CloseWithError(context.Canceled)
		}
	}
}

// Finish ends the message and returns the verdict, waiting for the
// look-ups and verifiers at most until ctx is done; a check that has not
// finished by then makes the verdict a temporary failure (451 4.4.3).
func (m *Message) Finish(ctx context.Context) (*Verdict, error) {
	if m.finished {
		return nil, ErrFinished
	}
	if !m.headDone && !m.tooBig {
		// A message without a body: all of it is header section.
		m.headerRead(m.head)
		buffered := m.head
		m.head = nil
		m.feed(buffered)
	}
	for _, pw := range m.pipes {
		if pw != nil {
			pw.Close()
		}
	}
	m.finished = true
	defer m.cancel()
	if m.arcRun != nil {
		m.arcDone = make(chan struct{})
		go func() {
			defer close(m.arcDone)
			m.arc = m.arcRun.Finish(m.ctx)
		}()
	}

	v := &Verdict{}
	if m.tooBig {
		v.Action, v.Reply = Reject, replyHead
		v.Domains = map[string]Action{}
		select {
		case <-m.spfDone:
			m.fillSPF(v)
		case <-ctx.Done():
			v.SPF = SPFResult{Scope: ScopeMailFrom, Result: spf.TempError, Reason: "not finished"}
		}
		v.Header = authResults(m.c.authservID, v, m.env.RemoteIP)
		m.logVerdict(v)
		return v, nil
	}
	if !m.wait(ctx) {
		m.cancel()
		for _, pw := range m.pipes {
			if pw != nil {
				pw.CloseWithError(context.Canceled)
			}
		}
		v.Action, v.Reply = TempFail, replyTemp
		v.Domains = map[string]Action{}
		for _, d := range m.env.RecipientDomains {
			v.Domains[strings.ToLower(d)] = TempFail
		}
		m.c.log.Warn("mailauth: checks did not finish in time", "remote", m.env.RemoteIP.String(), "err", ctx.Err())
		return v, nil
	}
	m.fillSPF(v)
	v.DKIM = dkimResults(m.sigs, m.verifs, m.dkimErr, m.c.maxSigs)
	if m.arcDone != nil {
		a := m.arc
		v.ARC = &a
	}
	// The np= existence look-ups happen here: bounded by Finish's ctx too.
	ectx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	for _, l := range m.lookups {
		v.DMARC = append(v.DMARC, m.c.evaluate(ectx, l, v.SPF, v.DKIM, v.ARC))
	}
	m.decide(v)
	v.Records = m.records(v)
	v.Header = authResults(m.c.authservID, v, m.env.RemoteIP)
	m.logVerdict(v)
	return v, nil
}

func (m *Message) fillSPF(v *Verdict) {
	v.SPF, v.HELO = m.spf, m.helo
}

// wait waits for every check; false when ctx ended first.
func (m *Message) wait(ctx context.Context) bool {
	chans := []chan struct{}{m.spfDone, m.dkimDone, m.arcDone}
	for _, l := range m.lookups {
		chans = append(chans, l.done)
	}
	for _, ch := range chans {
		if ch == nil {
			continue
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

func (m *Message) logVerdict(v *Verdict) {
	attrs := []any{
		"remote", m.env.RemoteIP.String(),
		"result", v.Action.String(),
		"checks", note(v),
		"duration", m.c.now().Sub(m.start),
		"size", m.size,
	}
	if v.Action == Reject || v.Action == TempFail {
		attrs = append(attrs, "reply", v.Reply.Text)
	}
	m.c.log.Info("mailauth: verdict", attrs...)
}
