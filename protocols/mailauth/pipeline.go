package mailauth

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// Check is the pipeline.Check of the MX port: each message arriving there
// gets its verdict, its Authentication-Results field on top, and loses the
// Authentication-Results fields that claim to be ours (Filter). Messages
// on the submission ports are not checked here.
type Check struct {
	Checker *Checker
	// Events turns a verdict (its Records, for aggregate reports) into
	// events proposed with the delivery; nil proposes none.
	Events func(*Verdict) []*evlog.Event
}

// Name is the check's name in logs.
func (Check) Name() string { return "mailauth" }

// Start begins the checks of one message; nil for submission.
func (c Check) Start(ctx context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if env.Submission {
		return nil, nil
	}
	e := Envelope{HELO: env.Helo, MailFrom: env.From}
	if ip, err := netip.ParseAddr(env.RemoteIP); err == nil {
		e.RemoteIP = net.IP(ip.WithZone("").Unmap().AsSlice())
	}
	seen := map[string]bool{}
	for _, rcpt := range env.Local {
		if _, d, ok := strings.Cut(rcpt, "@"); ok && !seen[d] {
			seen[d] = true
			e.RecipientDomains = append(e.RecipientDomains, d)
		}
	}
	return &run{m: c.Checker.Start(ctx, e), id: c.Checker.authservID, events: c.Events}, nil
}

type run struct {
	m      *Message
	id     string
	events func(*Verdict) []*evlog.Event
}

func (r *run) Write(p []byte) (int, error) { return r.m.Write(p) }

func (r *run) Abort() { r.m.Abort() }

// Filter drops incoming Authentication-Results fields with our authserv-id
// from what is stored (RFC 8601 §5).
func (r *run) Filter(in io.Reader) io.Reader { return StripResults(in, r.id) }

func (r *run) Finish(ctx context.Context) (pipeline.Outcome, error) {
	v, err := r.m.Finish(ctx)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	o := pipeline.Outcome{Prepend: []byte(v.Header), Note: note(v), Facts: strings.Fields(note(v))}
	for _, d := range v.DMARC {
		if d.From != "" {
			o.Facts = append(o.Facts, "dmarc.from="+d.From)
		}
	}
	switch v.Action {
	case Accept:
		o.Action = pipeline.Deliver
	case Junk:
		o.Action = pipeline.Junk
	default:
		o.Action = pipeline.Refuse
		o.Reply = &pipeline.Reply{Code: v.Reply.Code, Enhanced: v.Reply.Enhanced, Text: v.Reply.Text}
	}
	if r.events != nil {
		// Set for refusals too, although the SMTP server proposes no
		// delivery then: a rejected message belongs in the aggregate
		// report as much as a delivered one (RFC 7489 §7.2).
		o.Events = r.events(v)
	}
	return o, nil
}

// note is the verdict in a few words for the delivery's log line.
func note(v *Verdict) string {
	s := "spf=" + string(v.SPF.Result)
	if len(v.DKIM) == 0 {
		s += " dkim=none"
	}
	for _, d := range v.DKIM {
		s += " dkim=" + d.Result
	}
	for _, d := range v.DMARC {
		s += " dmarc=" + d.Result
	}
	if v.ARC != nil && v.ARC.Chain != ARCNone {
		s += " arc=" + string(v.ARC.Chain)
	}
	return s
}
