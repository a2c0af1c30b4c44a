package rspamd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/surat-mail/surat/protocols/dns"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/spam/internal/feed"
	"github.com/surat-mail/surat/protocols/spam/internal/unscanned"
)

// Config configures the Check.
type Config struct {
	Client *Client
	// AcceptUnchecked is --rspamd-failure accept: a message rspamd could
	// not check is delivered (with an X-Spam-Scan: unavailable field, a
	// warning and the counter) instead of getting 451 4.7.0.
	AcceptUnchecked bool
	// Resolver, when set, finds the client's forward-confirmed PTR name
	// for the Hostname header ("unknown" without one); nil sends none.
	Resolver dns.Resolver
	// MTAName is our host name (--hostname), sent as MTA-Name.
	MTAName string
	Logger  *slog.Logger
}

// Check is the pipeline.Check that asks rspamd about every message
// arriving on the MX port. Make it with NewCheck. It is a
// prometheus.Collector of its one counter,
// surat_unscanned_deliveries_total{check="rspamd"}.
type Check struct {
	cfg       Config
	unscanned *unscanned.Policy // a missing verdict; its counter is the Check's
}

// NewCheck returns the check.
func NewCheck(cfg Config) *Check {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if _, none := cfg.Resolver.(dns.None); none {
		cfg.Resolver = nil
	}
	return &Check{cfg: cfg, unscanned: unscanned.New("rspamd", "X-Spam-Scan", "checked", cfg.AcceptUnchecked, cfg.Logger)}
}

// Name is the check's name in logs and metrics.
func (*Check) Name() string { return "rspamd" }

// Describe implements prometheus.Collector.
func (c *Check) Describe(ch chan<- *prometheus.Desc) { c.unscanned.Describe(ch) }

// Collect implements prometheus.Collector.
func (c *Check) Collect(ch chan<- prometheus.Metric) { c.unscanned.Collect(ch) }

// Start begins checking one message; submitted mail is not checked.
func (c *Check) Start(ctx context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if env.Submission {
		return nil, nil
	}
	req := Request{
		From: env.From, Rcpt: slices.Clone(env.Local), IP: env.RemoteIP, Helo: env.Helo,
		User: env.User, MTAName: c.cfg.MTAName,
	}
	var prepare func(context.Context, *Request)
	if c.cfg.Resolver != nil && env.RemoteIP != "" {
		prepare = func(ctx context.Context, r *Request) { r.Hostname = verifiedName(ctx, c.cfg.Resolver, r.IP) }
	}
	return &run{c: c, scan: c.cfg.Client.Start(ctx, req, prepare), env: env}, nil
}

// ptrTimeout bounds the PTR and forward look-ups for the Hostname header.
const ptrTimeout = 3 * time.Second

// verifiedName is the first PTR name of ip whose addresses include ip
// (forward-confirmed reverse DNS), or "unknown", as an MTA tells rspamd.
func verifiedName(ctx context.Context, res dns.Resolver, ip string) string {
	ctx, cancel := context.WithTimeout(ctx, ptrTimeout)
	defer cancel()
	want := net.ParseIP(ip)
	names, err := res.LookupAddr(ctx, ip)
	if err != nil || want == nil {
		return "unknown"
	}
	for _, name := range names[:min(len(names), 5)] {
		addrs, err := res.LookupHost(ctx, name)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if got := net.ParseIP(a); got != nil && got.Equal(want) {
				return strings.TrimSuffix(name, ".")
			}
		}
	}
	return "unknown"
}

type run struct {
	c    *Check
	scan *Scan
	env  pipeline.Envelope
}

func (r *run) Write(p []byte) (int, error) { return r.scan.Write(p) }

func (r *run) Abort() { r.scan.Abort() }

// Finish maps rspamd's action to the outcome (see the package doc).
func (r *run) Finish(ctx context.Context) (pipeline.Outcome, error) {
	reply, err := r.scan.Finish(ctx)
	if err != nil {
		return r.c.unscanned.Outcome(r.env, failure(err), err)
	}
	return outcome(reply), nil
}

// outcome maps a reply to the pipeline's terms.
func outcome(reply *Reply) pipeline.Outcome {
	action := strings.ReplaceAll(reply.Action, " ", "_")
	score := strconv.FormatFloat(reply.Score, 'f', 2, 64)
	o := pipeline.Outcome{
		Facts: []string{"rspamd=" + action, "rspamd.score=" + score},
		Note:  "rspamd=" + action + " score=" + score + "/" + strconv.FormatFloat(reply.RequiredScore, 'f', 2, 64),
	}
	if top := reply.top(5); len(top) > 0 {
		o.Note += " " + strings.Join(top, ",")
	}
	refuse := func(code int, enhanced [3]int, text string) {
		if reply.SMTPMessage != "" {
			text = reply.SMTPMessage
		}
		o.Action, o.Reply = pipeline.Refuse, &pipeline.Reply{Code: code, Enhanced: enhanced, Text: text}
	}
	switch reply.Action {
	case ActionReject, ActionDiscard:
		// RFC 3463 X.7.1: delivery not authorized, message refused.
		refuse(550, [3]int{5, 7, 1}, "Spam message rejected")
	case ActionSoftReject:
		// RFC 5321 §4.2.5: a transient refusal; the client retries.
		refuse(451, [3]int{4, 7, 1}, "Try again later")
	case ActionGreylist:
		refuse(451, [3]int{4, 7, 1}, "Greylisted, try again later")
	case ActionAddHeader, ActionRewriteSubject, ActionQuarantine:
		o.Action = pipeline.Junk
	}
	return o
}

// failure says in a few words why there is no verdict.
func failure(err error) string {
	var ne net.Error
	var he *HTTPError
	var oe *net.OpError
	switch {
	case errors.Is(err, feed.ErrStalled):
		return "rspamd stopped reading"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &he):
		return "rspamd error HTTP " + strconv.Itoa(he.Status)
	case errors.As(err, &oe) && oe.Op == "dial":
		return "rspamd unreachable"
	case errors.Is(err, ErrBadReply):
		return "unreadable reply"
	}
	return "connection failed"
}
