// Package pipeline is the one place where a message is judged on its way
// into the log: the checks that the node accepting a message runs before
// it proposes the delivery (docs/DESIGN.md, "decisions made before the
// proposal"). SPF, DKIM, DMARC and ARC verdicts on the MX port, From
// alignment and DKIM signing on submission, and later spam and virus
// scanning and Sieve, are each a Check.
//
// A Check is started when DATA (or the first BDAT) begins, with the
// message's Envelope. Its Run is fed the message exactly as the client sent
// it (after dot-unstuffing) while it streams into the log, so a check never
// needs the whole message in memory; when the last byte is in, Finish
// returns the Outcome: header fields to add on top of the stored message,
// where the local copies go, or a refusal in SMTP's terms. The SMTP server
// puts the fields into the same proposal as the delivery (BlobStored.head),
// so apply stays deterministic and a 250 still means committed.
//
// This package holds only the contract and the small helpers every
// front end needs to run checks in order; it does no I/O of its own.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// Envelope is what a check knows of a message before its first byte.
type Envelope struct {
	// Submission is true on the submission ports (an authenticated user
	// sending), false on the MX port.
	Submission bool
	// User is the authenticated user's canonical address, or empty.
	User string
	// RemoteIP is the client's address as text ("192.0.2.1", "::1").
	RemoteIP string
	// Helo is the name the client gave in EHLO or HELO.
	Helo string
	// From is the envelope sender (MAIL FROM), empty for the null
	// reverse-path.
	From string
	// Local are the canonical addresses of the local recipients; Remote
	// the other recipients (relayed, submission only).
	Local, Remote []string
	// RcptTo is the address each local recipient was given as in RCPT TO
	// (the first one), keyed by its canonical address, when the two differ:
	// an alias, a catch-all, or user+tag@domain (RFC 5233). Sieve's
	// envelope test and :detail read it.
	RcptTo map[string]string
	// TLS is true when the session is encrypted.
	TLS bool
	// Received is when the message started to arrive.
	Received time.Time
}

// Action is where a message goes once every check has finished.
type Action int

const (
	// Deliver files the local copies where they would go anyway.
	Deliver Action = iota
	// Junk files the local copies in each recipient's \Junk mailbox
	// (RFC 6154), as for a DMARC p=quarantine failure.
	Junk
	// Refuse answers the client with the Outcome's Reply and stores
	// nothing.
	Refuse
)

func (a Action) String() string {
	switch a {
	case Deliver:
		return "deliver"
	case Junk:
		return "junk"
	case Refuse:
		return "refuse"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Reply is an SMTP reply (RFC 5321 §4.2) with its enhanced status code
// (RFC 3463), as a check wants the client to see it.
type Reply struct {
	Code     int    // 4xx or 5xx
	Enhanced [3]int // e.g. {5, 7, 1}
	Text     string
}

func (r *Reply) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Text)
}

// Outcome is what one check decided about a message.
type Outcome struct {
	// Prepend holds complete header fields, each ending in CRLF, to be
	// added on top of the stored message (Authentication-Results,
	// DKIM-Signature). Folded lines must also end in CRLF.
	Prepend []byte
	// Action is where the message goes; Reply is set when it is Refuse.
	Action Action
	Reply  *Reply
	// Events are proposed with the delivery, in the same entry (records
	// for reports, for example). They must not depend on the entry's
	// other results.
	Events []*evlog.Event
	// Note is a short description for the delivery's log line
	// ("spf=pass dkim=pass dmarc=pass"), or empty.
	Note string
	// Facts are what the check found, as "name=value" words, for the
	// checks after it (Follower) and the spam classifier's features:
	// "spf=pass", "dkim=fail", "dmarc=pass", "dmarc.from=example.com",
	// "arc=pass". Values hold no spaces.
	Facts []string
	// Recipients holds what differs per local recipient, keyed by the
	// canonical address in Envelope.Local: fields added to that
	// recipient's copy only (after Prepend), and its own action (the
	// stronger of it and Action holds for that recipient; Refuse is not
	// allowed here: SMTP has one reply for every recipient). A per-user
	// spam verdict is one. Recipients whose fields differ get copies of
	// their own (BlobStored.copy_of).
	Recipients map[string]RecipientOutcome
}

// RecipientOutcome is one recipient's part of an Outcome.
type RecipientOutcome struct {
	Prepend []byte
	Action  Action // Deliver or Junk
	// Filings, when not nil, say where this recipient's copies go in
	// place of the one implicit copy: one copy per filing (a Sieve
	// script's keep and fileinto, RFC 5228 §4). The last run that sets
	// them decides.
	Filings []Filing
	// Discard files no local copy at all (Sieve's discard, a redirect
	// without keep, a reject); Filings are then empty.
	Discard bool
	// Redirects forwards the message to these addresses through the
	// outbound queue, with the envelope sender rewritten by SRS (Sieve's
	// redirect, RFC 5228 §4.2, and `surat user forward`). Runs' redirects
	// add up.
	Redirects []string
	// Header, when not nil, is the complete header block (ending in the
	// empty line) that this recipient's copies and redirects carry in
	// place of the message's own (Sieve editheader, RFC 5293); Prepend
	// still goes on top of it.
	Header []byte
}

// Filing is one local copy a recipient gets.
type Filing struct {
	// Mailbox is the mailbox's name; empty: where the copy would go
	// without a script (INBOX, or the Junk mailbox when the action is
	// Junk), as for Sieve's keep.
	Mailbox string
	// Create makes the mailbox when it does not exist (fileinto :create,
	// RFC 5490 §3.2); without it a missing mailbox files the copy in INBOX.
	Create bool
	// Flags are set on the copy (imap4flags, RFC 5232).
	Flags []string
}

// Check is one kind of check, configured once per node.
type Check interface {
	// Name names the check in logs and metrics ("mailauth", "dkim-sign").
	Name() string
	// Start begins checking one message. It returns nil, nil when the
	// check does not apply to this envelope. It must not block on the
	// network for long: slow work belongs in Finish or in goroutines the
	// Run owns. A Reply error refuses the message before its body is
	// read; any other error is a temporary failure.
	Start(ctx context.Context, env Envelope) (Run, error)
}

// Run checks one message.
type Run interface {
	// Write is fed the message as the client sent it, in order. It should
	// not fail: a run that cannot use more bytes keeps the reason for
	// Finish and discards them.
	io.Writer
	// Finish is called once after the last byte; ctx bounds it.
	Finish(ctx context.Context) (Outcome, error)
	// Abort is called instead of Finish when the message was refused or
	// the session ended; it releases what the run holds.
	Abort()
}

// Follower is implemented by a Run whose verdict depends on the checks
// before it (a spam score weighs the authentication results and the
// earlier checks' Junk): Runs.Finish calls FinishAfter, with what the
// runs before it decided, instead of Finish.
type Follower interface {
	FinishAfter(ctx context.Context, earlier Result) (Outcome, error)
}

// Client is what a connection check knows: the client before any
// transaction.
type Client struct {
	RemoteIP string // "192.0.2.1", "::1"
	Helo     string // the EHLO or HELO name
	TLS      bool
}

// ConnCheck judges a client before its first transaction (a DNSBL
// look-up, RFC 5782): the SMTP server asks it when the client greets
// (EHLO or HELO) on the MX port. A *Reply error refuses the client with
// that reply; any other error is a temporary failure (421 4.7.0 or 451).
type ConnCheck interface {
	Name() string
	CheckConn(ctx context.Context, c Client) error
}

// Fact returns the value of the first fact called name ("dmarc" gives
// "pass" for "dmarc=pass"), and whether there is one.
func (r Result) Fact(name string) (string, bool) {
	for _, f := range r.Facts {
		if k, v, ok := strings.Cut(f, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// Filter is implemented by a Run that changes what is stored: Filter
// wraps the message stream (as the client sent it) and returns what goes
// into the log, for example without the Authentication-Results fields that
// claim to be ours (RFC 8601 §5).
type Filter interface {
	Filter(r io.Reader) io.Reader
}

// Runs are the runs of one message's checks, in the order of their checks.
type Runs struct {
	names []string
	runs  []Run
}

// Start starts every check for env, in order. On an error it aborts the
// runs already started and returns the error (a *Reply to refuse).
func Start(ctx context.Context, checks []Check, env Envelope) (*Runs, error) {
	rs := &Runs{}
	for _, c := range checks {
		r, err := c.Start(ctx, env)
		if err != nil {
			rs.Abort()
			return nil, fmt.Errorf("%s: %w", c.Name(), err)
		}
		if r != nil {
			rs.names, rs.runs = append(rs.names, c.Name()), append(rs.runs, r)
		}
	}
	return rs, nil
}

// Reader returns what the stored stream reads: r, fed to every run as it
// is read, then through every run's Filter, in order.
func (rs *Runs) Reader(r io.Reader) io.Reader {
	if rs == nil || len(rs.runs) == 0 {
		return r
	}
	ws := make([]io.Writer, len(rs.runs))
	for i, run := range rs.runs {
		ws[i] = lenient{run}
	}
	r = io.TeeReader(r, io.MultiWriter(ws...))
	for _, run := range rs.runs {
		if f, ok := run.(Filter); ok {
			r = f.Filter(r)
		}
	}
	return r
}

// lenient keeps one run's Write failing from stopping the stream: the run
// reports its trouble in Finish.
type lenient struct{ w io.Writer }

func (l lenient) Write(p []byte) (int, error) {
	_, _ = l.w.Write(p) // Run.Write does not fail by contract; see Finish
	return len(p), nil
}

// Result is the combined outcome of a message's runs.
type Result struct {
	Prepend []byte
	Action  Action
	Reply   *Reply
	Events  []*evlog.Event
	Notes   []string
	Facts   []string // every run's, in check order
	// Recipients: per recipient, the runs' RecipientOutcome fields in
	// check order and the strongest of their actions.
	Recipients map[string]RecipientOutcome
}

// For is what one recipient's copy gets: the whole message's fields then
// the recipient's own, and the stronger of the two actions.
func (r Result) For(rcpt string) (prepend []byte, action Action) {
	own := r.Recipients[rcpt]
	prepend = r.Prepend
	if len(own.Prepend) > 0 {
		prepend = append(append([]byte(nil), r.Prepend...), own.Prepend...)
	}
	return prepend, max(r.Action, own.Action)
}

// Finish finishes every run in order and combines their outcomes: fields
// in check order, the strongest action (Refuse over Junk over Deliver; the
// first refusal's reply), every event — except after a temporary (4xx)
// refusal, when only the refusing run's events are kept. An error from a run is a temporary
// failure of the whole message: a check that could not decide must not
// let the message through unjudged, nor refuse it for good.
func (rs *Runs) Finish(ctx context.Context) (Result, error) {
	var res Result
	if rs == nil {
		return res, nil
	}
	var errs []error
	for i, run := range rs.runs {
		if res.Action == Refuse {
			// Refused already: the rest need not judge it.
			for _, rest := range rs.runs[i:] {
				rest.Abort()
			}
			break
		}
		var o Outcome
		var err error
		if f, ok := run.(Follower); ok {
			o, err = f.FinishAfter(ctx, res)
		} else {
			o, err = run.Finish(ctx)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rs.names[i], err))
			continue
		}
		if o.Action == Refuse && o.Reply == nil {
			errs = append(errs, fmt.Errorf("%s: refused without a reply", rs.names[i]))
			continue
		}
		bad := false
		for rcpt, ro := range o.Recipients {
			if ro.Action == Refuse {
				errs = append(errs, fmt.Errorf("%s: refused recipient %s alone", rs.names[i], rcpt))
				bad = true
			}
		}
		if bad {
			continue
		}
		for rcpt, ro := range o.Recipients {
			if res.Recipients == nil {
				res.Recipients = make(map[string]RecipientOutcome)
			}
			cur := res.Recipients[rcpt]
			cur.Prepend = append(cur.Prepend, ro.Prepend...)
			cur.Action = max(cur.Action, ro.Action)
			if ro.Filings != nil || ro.Discard {
				cur.Filings, cur.Discard = ro.Filings, ro.Discard
			}
			cur.Redirects = append(cur.Redirects, ro.Redirects...)
			if ro.Header != nil {
				cur.Header = ro.Header
			}
			res.Recipients[rcpt] = cur
		}
		res.Prepend = append(res.Prepend, o.Prepend...)
		res.Events = append(res.Events, o.Events...)
		res.Facts = append(res.Facts, o.Facts...)
		if o.Note != "" {
			res.Notes = append(res.Notes, o.Note)
		}
		if o.Action > res.Action {
			res.Action, res.Reply = o.Action, o.Reply
			if o.Action == Refuse && o.Reply.Code/100 == 4 {
				// A temporary refusal (greylisting, a scanner's "try
				// later"): the client sends the message again, and the
				// earlier checks record it then. Only the refusing
				// check's own events (the greylisting triple) are
				// proposed now, or a DMARC aggregate report would count
				// the message once per attempt.
				res.Events = o.Events
			}
		}
	}
	rs.runs = nil
	return res, errors.Join(errs...)
}

// Abort aborts every run not yet finished.
func (rs *Runs) Abort() {
	if rs == nil {
		return
	}
	for _, run := range rs.runs {
		run.Abort()
	}
	rs.runs = nil
}
