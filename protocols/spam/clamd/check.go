package clamd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/spam/internal/feed"
	"github.com/surat-mail/surat/protocols/spam/internal/unscanned"
)

// Check is the pipeline.Check that scans every message arriving on the MX
// port with clamd. Make it with NewCheck. It is a prometheus.Collector of
// its one counter, surat_unscanned_deliveries_total{check="clamd"}.
type Check struct {
	client    *Client
	unscanned *unscanned.Policy // a missing verdict; its counter is the Check's
}

// NewCheck returns the check scanning with client. acceptUnscanned is
// --clamd-failure accept: a message clamd could not scan is delivered
// (with an X-Virus-Scan: unavailable field, a warning and the counter)
// instead of getting 451 4.7.0.
func NewCheck(client *Client, acceptUnscanned bool, logger *slog.Logger) *Check {
	return &Check{client: client, unscanned: unscanned.New("clamd", "X-Virus-Scan", "scanned", acceptUnscanned, logger)}
}

// Name is the check's name in logs and metrics.
func (*Check) Name() string { return "clamd" }

// Describe implements prometheus.Collector.
func (c *Check) Describe(ch chan<- *prometheus.Desc) { c.unscanned.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Check) Collect(ch chan<- prometheus.Metric) { c.unscanned.Collect(ch) }

// Start begins scanning one message; submitted mail is not scanned.
func (c *Check) Start(ctx context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if env.Submission {
		return nil, nil
	}
	return &run{c: c, scan: c.client.Start(ctx), env: env}, nil
}

type run struct {
	c    *Check
	scan *Scan
	env  pipeline.Envelope
}

func (r *run) Write(p []byte) (int, error) { return r.scan.Write(p) }

func (r *run) Abort() { r.scan.Abort() }

// Finish returns the verdict: 554 5.7.1 for a virus, a temporary failure
// (or, with acceptUnscanned, a delivery marked unscanned) when there is
// no verdict.
func (r *run) Finish(ctx context.Context) (pipeline.Outcome, error) {
	res, err := r.scan.Finish(ctx)
	if err != nil {
		return r.c.unscanned.Outcome(r.env, failure(err), err)
	}
	if res.Infected {
		// RFC 3463 X.7.1: delivery not authorized, message refused; the
		// signature's name tells the sender what was found.
		return pipeline.Outcome{
			Action: pipeline.Refuse,
			Reply:  &pipeline.Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "Message refused: virus found: " + res.Signature},
			Note:   "clamd=infected (" + res.Signature + ")", Facts: []string{"clamd=infected"},
		}, nil
	}
	return pipeline.Outcome{Note: "clamd=clean", Facts: []string{"clamd=clean"}}, nil
}

// failure says in a few words why there is no verdict.
func failure(err error) string {
	var ne net.Error
	var re *ReplyError
	switch {
	case errors.Is(err, ErrSizeLimit):
		return "message larger than clamd's StreamMaxLength"
	case errors.Is(err, feed.ErrStalled):
		return "clamd stopped reading"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &re):
		return "clamd error"
	case errors.Is(err, os.ErrNotExist), isDialError(err):
		return "clamd unreachable"
	}
	return "connection failed"
}

func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}
