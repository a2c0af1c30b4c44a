package reports

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/textproto"
	"slices"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// maxReceivedReport bounds what a node keeps of a message it might read
// as a DMARC aggregate report for one of our domains: real reports are a
// few KiB to a few MiB; a larger message is delivered without a summary.
const maxReceivedReport = 8 << 20

// ReceiveCheck is the pipeline.Check of the MX port that reads DMARC
// aggregate reports other receivers send about our domains (RFC 7489
// §7.2): a message whose Subject is a report's (IsReportSubject) is kept
// while it streams in, and at its end its summary, when it reports on one
// of our domains, is proposed with its delivery (DmarcReportReceived).
// The message itself is always delivered as it would be anyway.
type ReceiveCheck struct {
	// Domains lists our domains (the store's).
	Domains func() ([]string, error)
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
}

// Name names the check in logs.
func (ReceiveCheck) Name() string { return "dmarc-reports" }

// Start reads messages on the MX port only.
func (c ReceiveCheck) Start(_ context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if env.Submission || len(env.Local) == 0 {
		return nil, nil
	}
	return &receiveRun{c: c}, nil
}

type receiveRun struct {
	c       ReceiveCheck
	buf     bytes.Buffer
	decided bool // the header was read: keep is final
	keep    bool // the Subject is a report's
	over    bool // past maxReceivedReport
}

// Write keeps the header until the Subject is known, then the rest only
// for a report.
func (r *receiveRun) Write(p []byte) (int, error) {
	if r.over || (r.decided && !r.keep) {
		return len(p), nil
	}
	if r.buf.Len()+len(p) > maxReceivedReport {
		r.over, r.keep = true, false
		r.buf = bytes.Buffer{}
		return len(p), nil
	}
	r.buf.Write(p)
	if !r.decided {
		if i := bytes.Index(r.buf.Bytes(), []byte("\r\n\r\n")); i >= 0 {
			r.decided = true
			r.keep = IsReportSubject(subject(r.buf.Bytes()[:i+4]))
			if !r.keep {
				r.buf = bytes.Buffer{}
			}
		}
	}
	return len(p), nil
}

// subject is the Subject field of a header section.
func subject(header []byte) string {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return ""
	}
	return h.Get("Subject")
}

func (r *receiveRun) Abort() { r.buf = bytes.Buffer{} }

// Finish never fails the message: a report it cannot read is only logged.
func (r *receiveRun) Finish(context.Context) (pipeline.Outcome, error) {
	defer r.Abort()
	if !r.keep || r.over {
		return pipeline.Outcome{}, nil
	}
	log := r.c.Logger
	if log == nil {
		log = slog.Default()
	}
	s, err := ParseAggregate(bytes.NewReader(r.buf.Bytes()))
	if errors.Is(err, ErrNotAReport) {
		return pipeline.Outcome{}, nil
	}
	if err != nil {
		log.Info("DMARC report not read", "err", err)
		return pipeline.Outcome{}, nil
	}
	ours, err := r.c.Domains()
	if err != nil {
		log.Warn("DMARC report not recorded: local domains unknown", "domain", s.Domain, "err", err)
		return pipeline.Outcome{}, nil
	}
	if !slices.Contains(ours, strings.ToLower(s.Domain)) {
		return pipeline.Outcome{}, nil // about someone else's domain
	}
	now := time.Now
	if r.c.Now != nil {
		now = r.c.Now
	}
	return pipeline.Outcome{Events: []*evlog.Event{ReceivedEvent(s, now())}, Note: "dmarc-report=" + s.Domain}, nil
}
