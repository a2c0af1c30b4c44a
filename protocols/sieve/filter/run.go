package filter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// run is one message's Sieve run.
type run struct {
	c     *Check
	env   pipeline.Envelope
	plans []plan // the recipients that have something to run, in RCPT order
	body  bool   // some script may test the body
	cap   *capture
	// filtered is set once the SMTP server wrapped the stored stream with
	// Filter: the capture then reads that stream, and Write is ignored.
	filtered bool
}

var (
	_ pipeline.Follower = (*run)(nil)
	_ pipeline.Filter   = (*run)(nil)
)

// Write is fed the message as the client sent it; it is captured only when
// the stored stream is not (see Filter).
func (r *run) Write(p []byte) (int, error) {
	if !r.filtered {
		_, _ = r.cap.Write(p)
	}
	return len(p), nil
}

// Filter captures the stream as it goes into the log, after every earlier
// check's filter (the spam classifier's removal of forged X-Spam-Status
// fields): the scripts see the header fields that are stored. It changes
// nothing.
func (r *run) Filter(in io.Reader) io.Reader {
	r.filtered = true
	// What Write took so far (an earlier filter that reads ahead) is
	// read again through in.
	r.cap = newCapture(r.cap.maxHead, r.cap.maxBody)
	return teeReader{r: in, c: r.cap}
}

// Abort drops the capture.
func (r *run) Abort() { r.cap = newCapture(0, 0) }

// Finish is FinishAfter with nothing before it.
func (r *run) Finish(ctx context.Context) (pipeline.Outcome, error) {
	return r.FinishAfter(ctx, pipeline.Result{})
}

// FinishAfter runs every recipient's scripts and maps what they decided
// (package doc). It never fails: a script that cannot decide keeps the
// message.
func (r *run) FinishAfter(ctx context.Context, earlier pipeline.Result) (pipeline.Outcome, error) {
	now := r.c.cfg.Now()
	own := r.cap.Header()
	results := make([]decided, 0, len(r.plans))
	rejects := 0
	for _, p := range r.plans {
		prepend, action := earlier.For(p.rcpt)
		d := r.runPlan(ctx, p, prepend, own, r.sieveEnv(p.rcpt, prepend, earlier, now))
		d.action = action
		if d.reject != nil {
			rejects++
		}
		results = append(results, d)
	}
	// RFC 5429 §2.1.1: reject in the SMTP transaction when it can be
	// done for the whole message: every local recipient rejects and
	// none is remote. Nothing is stored or recorded.
	if rejects == len(r.env.Local) && len(r.env.Remote) == 0 {
		reason := results[0].reject.Reason
		r.c.log.Info("sieve rejected the message", "from", r.env.From, "rcpt", len(r.env.Local), "reason", oneLine(reason, 200))
		return pipeline.Outcome{
			Action: pipeline.Refuse,
			Reply:  &pipeline.Reply{Code: 550, Enhanced: [3]int{5, 7, 1}, Text: rejectText(reason)},
			Note:   "sieve=reject",
		}, nil
	}
	var o pipeline.Outcome
	budget := maxReplyBytes
	var notes []string
	for _, d := range results {
		ro, changed := d.outcome(own)
		if changed {
			if o.Recipients == nil {
				o.Recipients = make(map[string]pipeline.RecipientOutcome)
			}
			o.Recipients[d.rcpt] = ro
		}
		o.Events = append(o.Events, r.events(d, now, &budget)...)
		notes = append(notes, d.note())
	}
	o.Note = summarize(notes)
	return o, nil
}

// sieveEnv is the interpreter's view of the envelope and of the store for
// one recipient.
func (r *run) sieveEnv(rcpt string, prepend []byte, earlier pipeline.Result, now time.Time) sieve.Env {
	to := rcpt
	if orig, ok := r.env.RcptTo[rcpt]; ok && orig != "" {
		to = orig
	}
	env := sieve.Env{From: r.env.From, To: to, User: rcpt, Auth: r.env.User, Now: now,
		Addresses: r.addresses(rcpt, to), Environment: r.environment(rcpt)}
	if score, percent, ok := spamScore(prepend); ok {
		env.SpamScore, env.SpamPercent = &score, &percent
	}
	if v, ok := virusScore(earlier); ok {
		env.VirusScore = &v
	}
	if mb := r.c.cfg.Mailboxes; mb != nil {
		env.MailboxExists = func(name string) bool {
			ok, err := mb.MailboxExists(rcpt, name)
			if err != nil {
				r.c.log.Warn("sieve mailboxexists", "user", rcpt, "mailbox", name, "err", err)
			}
			return ok
		}
	} else {
		env.MailboxExists = func(string) bool { return false }
	}
	if rec := r.c.cfg.Records; rec != nil {
		env.Duplicate = func(id []byte) bool {
			seen, err := rec.DuplicateSeen(rcpt, id, now)
			if err != nil {
				r.c.log.Warn("sieve duplicate", "user", rcpt, "err", err)
			}
			return seen
		}
	} else {
		env.Duplicate = func([]byte) bool { return false }
	}
	return env
}

// environment is what the environment extension (RFC 5183 §4) reads
// beyond what the interpreter knows itself.
func (r *run) environment(rcpt string) map[string]string {
	env := map[string]string{"domain": domainOf(rcpt), "remote-ip": r.env.RemoteIP}
	if h := r.c.cfg.Hostname; h != "" {
		env["host"] = h
	}
	return env
}

// addresses are the recipient's own addresses: its canonical one, the one
// it was given as, and its aliases.
func (r *run) addresses(rcpt, to string) []string {
	out := []string{rcpt}
	if !strings.EqualFold(to, rcpt) {
		out = append(out, to)
	}
	if mb := r.c.cfg.Mailboxes; mb != nil {
		as, err := mb.Addresses(rcpt)
		if err != nil {
			r.c.log.Warn("sieve aliases", "user", rcpt, "err", err)
		}
		for _, a := range as {
			if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, a) }) {
				out = append(out, a)
			}
		}
	}
	return out
}

// decided is what one recipient's scripts decided together.
type decided struct {
	rcpt   string
	action pipeline.Action // the earlier checks' (Junk: keep files into Junk)
	header []byte          // what the scripts saw (the earlier checks' fields on top)
	prep   []byte          // those fields

	keep       bool
	keepFlags  []string
	fileinto   []sieve.FileInto
	redirects  []string
	reject     *sieve.Reject
	vacation   *sieve.Vacation
	edited     []byte // the header block as editheader left it; nil: unchanged
	dups       [][]byte
	dupExpires time.Duration
	actions    []string // for the log line
	failed     int      // scripts that failed or did not compile
}

// runPlan runs one recipient's scripts in sequence (package doc: the
// administrators' scripts, the forwarding, the user's), each on the header
// the one before left.
func (r *run) runPlan(ctx context.Context, p plan, prepend, own []byte, env sieve.Env) decided {
	hdr := make([]byte, 0, len(prepend)+len(own))
	hdr = append(append(hdr, prepend...), own...)
	d := decided{rcpt: p.rcpt, header: hdr, prep: prepend, keep: true}
	msg := sieve.Message{Header: hdr, Size: r.cap.size + int64(len(prepend))}
	if r.body {
		msg.Body = r.cap.Body
	}
	step := func(l *loaded) {
		if !d.keep {
			return // the sequence ends once the implicit keep is cancelled
		}
		log := r.c.log.With("rcpt", p.rcpt, "user", l.owner, "script", l.name)
		if l.err != nil {
			d.failed++
			r.c.count(outcomeInvalid)
			log.Warn("sieve script does not compile; the message is kept", "err", l.err)
			return
		}
		res, err := l.prog.Execute(ctx, msg, env)
		if err == nil && res == nil {
			err = errors.New("no result")
		}
		if err != nil {
			d.failed++
			outcome := outcomeFailed
			if ctx.Err() != nil {
				outcome = outcomeTimeout
			}
			r.c.count(outcome)
			log.Warn("sieve script failed; the message is kept", "result", outcome, "err", err)
			return
		}
		r.c.count(outcomeOK)
		d.add(res, r.c.limits.MaxRedirects)
		if res.Header != nil {
			msg.Header = res.Header
			d.edited = res.Header
		}
	}
	for _, l := range p.before {
		step(l)
	}
	if f := p.forward; f != nil && d.keep {
		// `surat user forward`: redirect, or redirect :copy with keep.
		d.redirects = append(d.redirects, f.to...)
		d.keep = f.keep
		d.actions = append(d.actions, "forward")
	}
	if p.user != nil {
		step(p.user)
	}
	return d
}

// add adds one script's result.
func (d *decided) add(res *sieve.Result, maxRedirects int) {
	d.keep = res.Keep
	d.keepFlags = res.KeepFlags
	d.fileinto = append(d.fileinto, res.FileInto...)
	for _, a := range res.Redirects {
		if maxRedirects > 0 && len(d.redirects) >= maxRedirects {
			d.actions = append(d.actions, "redirect-limit")
			break
		}
		d.redirects = append(d.redirects, a)
	}
	if res.Reject != nil {
		d.reject = res.Reject
	}
	if res.Vacation != nil && d.vacation == nil {
		d.vacation = res.Vacation
	}
	if len(res.Duplicates) > 0 {
		d.dups = append(d.dups, res.Duplicates...)
		d.dupExpires = max(d.dupExpires, res.DuplicateExpires)
	}
	d.actions = append(d.actions, res.Log...)
}

// outcome maps the decision to the recipient's RecipientOutcome; changed
// is false when it is the plain implicit keep.
func (d decided) outcome(own []byte) (ro pipeline.RecipientOutcome, changed bool) {
	if d.reject != nil {
		// RFC 5429 §2.1: reject cancels the implicit keep; the sender
		// gets an MDN instead (events).
		return pipeline.RecipientOutcome{Discard: true}, true
	}
	if d.edited != nil {
		if h := ownHeader(d.edited, d.prep); string(h) != string(own) {
			ro.Header, changed = h, true
		}
	}
	if len(d.redirects) > 0 {
		ro.Redirects, changed = dedupeAddresses(d.redirects), true
	}
	var filings []pipeline.Filing
	if d.keep {
		filings = append(filings, pipeline.Filing{Flags: d.keepFlags})
	}
	for _, f := range d.fileinto {
		filing := pipeline.Filing{Mailbox: f.Mailbox, Create: f.Create, Flags: f.Flags}
		// RFC 5228 §2.10.3: the same mailbox twice is one copy. keep is
		// INBOX unless an earlier check junked the message.
		i := slices.IndexFunc(filings, func(x pipeline.Filing) bool {
			return sameMailbox(x.Mailbox, f.Mailbox) || (x.Mailbox == "" && d.action != pipeline.Junk && isInbox(f.Mailbox))
		})
		if i < 0 {
			filings = append(filings, filing)
			continue
		}
		filings[i].Flags = unionFlags(filings[i].Flags, f.Flags)
		filings[i].Create = filings[i].Create || f.Create
	}
	switch {
	case len(filings) == 0:
		ro.Discard, changed = true, true
	case len(filings) == 1 && filings[0].Mailbox == "" && len(filings[0].Flags) == 0:
		// The implicit keep: where the copy goes anyway.
	default:
		ro.Filings, changed = filings, true
	}
	return ro, changed
}

// note is the recipient's part of the delivery's log line.
func (d decided) note() string {
	var parts []string
	switch {
	case d.reject != nil:
		parts = append(parts, "reject")
	case !d.keep && len(d.fileinto) == 0 && len(d.redirects) == 0:
		parts = append(parts, "discard")
	case d.keep:
		parts = append(parts, "keep")
	}
	for _, f := range d.fileinto {
		parts = append(parts, "fileinto:"+oneLine(f.Mailbox, 40))
	}
	if n := len(d.redirects); n > 0 {
		parts = append(parts, fmt.Sprintf("redirect:%d", n))
	}
	if d.vacation != nil {
		parts = append(parts, "vacation")
	}
	if d.failed > 0 {
		parts = append(parts, fmt.Sprintf("failed:%d", d.failed))
	}
	return strings.Join(parts, ",")
}

// summarize is the check's note: the only recipient's actions, or how
// many did what.
func summarize(notes []string) string {
	if len(notes) == 1 {
		return "sieve=" + notes[0]
	}
	const shown = 3
	out := "sieve=" + strings.Join(notes[:min(shown, len(notes))], "/")
	if len(notes) > shown {
		out += fmt.Sprintf("/+%d", len(notes)-shown)
	}
	return out
}

func sameMailbox(a, b string) bool {
	if isInbox(a) && isInbox(b) {
		return true // RFC 9051 §5.1: INBOX is case-insensitive
	}
	return a == b && a != ""
}

func isInbox(name string) bool { return strings.EqualFold(name, "INBOX") }

func unionFlags(a, b []string) []string {
	out := slices.Clone(a)
	for _, f := range b {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, f) }) {
			out = append(out, f)
		}
	}
	return out
}

// dedupeAddresses drops repeated addresses (case-insensitively), keeping
// the first spelling.
func dedupeAddresses(as []string) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, a) }) {
			out = append(out, a)
		}
	}
	return out
}

// oneLine makes s fit a log line or an SMTP reply: printable ASCII, no
// line breaks, at most n bytes.
func oneLine(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			break
		}
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
		case r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// rejectText is the reply text of a rejection at the end of DATA (RFC
// 5429 §2.1.1; RFC 5321 §4.2: text, one line here).
func rejectText(reason string) string {
	if t := oneLine(reason, 200); t != "" {
		return t
	}
	return "Message rejected by the recipient's filter"
}
