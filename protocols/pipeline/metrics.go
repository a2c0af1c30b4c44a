package pipeline

import (
	"context"
	"errors"
	"io"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what every check decided, by check name and outcome:
// deliver, junk, refuse (a refusal: a virus, a DNSBL listing, a DMARC
// reject), tempfail (a Reply with a 4xx code: greylisting, a scanner
// that asked to try later) and error (the check could not decide; the
// message got 451). Operators see from it how much mail each filter
// stops, and when a scanner is failing.
type Metrics struct {
	outcomes *prometheus.CounterVec
}

// NewMetrics registers the counters with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surat_check_outcomes_total",
		Help: "Messages judged by each pipeline check (and connections by each connection check), by outcome: deliver, junk, refuse, tempfail, error.",
	}, []string{"check", "outcome"})}
	if err := reg.Register(m.outcomes); err != nil {
		return nil, err
	}
	return m, nil
}

// Count wraps c so that its outcomes are counted. A nil Metrics returns c.
func (m *Metrics) Count(c Check) Check {
	if m == nil {
		return c
	}
	return countedCheck{Check: c, m: m}
}

// CountConn wraps a connection check likewise.
func (m *Metrics) CountConn(c ConnCheck) ConnCheck {
	if m == nil {
		return c
	}
	return countedConn{ConnCheck: c, m: m}
}

func (m *Metrics) add(check string, o Outcome, err error) {
	m.outcomes.WithLabelValues(check, outcomeLabel(o, err)).Inc()
}

// outcomeLabel names an outcome (or an error) for the counter.
func outcomeLabel(o Outcome, err error) string {
	var r *Reply
	switch {
	case errors.As(err, &r) && r.Code/100 == 4:
		return "tempfail"
	case errors.As(err, &r):
		return "refuse"
	case err != nil:
		return "error"
	case o.Action == Refuse && o.Reply != nil && o.Reply.Code/100 == 4:
		return "tempfail"
	case o.Action == Refuse:
		return "refuse"
	case o.Action == Junk:
		return "junk"
	}
	for _, ro := range o.Recipients {
		if ro.Action == Junk {
			return "junk"
		}
	}
	return "deliver"
}

type countedCheck struct {
	Check
	m *Metrics
}

func (c countedCheck) Start(ctx context.Context, env Envelope) (Run, error) {
	r, err := c.Check.Start(ctx, env)
	if err != nil {
		c.m.add(c.Name(), Outcome{}, err)
		return nil, err
	}
	if r == nil {
		return nil, nil
	}
	return wrapRun(r, c.Name(), c.m), nil
}

// wrapRun keeps the optional interfaces (Filter, Follower) of r visible.
func wrapRun(r Run, name string, m *Metrics) Run {
	cr := &countedRun{Run: r, name: name, m: m}
	f, isFilter := r.(Filter)
	fo, isFollower := r.(Follower)
	switch {
	case isFilter && isFollower:
		return filteringFollower{followingRun{cr, fo}, f}
	case isFilter:
		return filteringRun{cr, f}
	case isFollower:
		return followingRun{cr, fo}
	}
	return cr
}

type filteringRun struct {
	*countedRun
	f Filter
}

func (r filteringRun) Filter(in io.Reader) io.Reader { return r.f.Filter(in) }

type followingRun struct {
	*countedRun
	f Follower
}

func (r followingRun) FinishAfter(ctx context.Context, earlier Result) (Outcome, error) {
	o, err := r.f.FinishAfter(ctx, earlier)
	r.m.add(r.name, o, err)
	return o, err
}

type filteringFollower struct {
	followingRun
	f Filter
}

func (r filteringFollower) Filter(in io.Reader) io.Reader { return r.f.Filter(in) }

type countedRun struct {
	Run
	name string
	m    *Metrics
}

func (r *countedRun) Finish(ctx context.Context) (Outcome, error) {
	o, err := r.Run.Finish(ctx)
	r.m.add(r.name, o, err)
	return o, err
}

type countedConn struct {
	ConnCheck
	m *Metrics
}

func (c countedConn) CheckConn(ctx context.Context, cl Client) error {
	err := c.ConnCheck.CheckConn(ctx, cl)
	c.m.add(c.Name(), Outcome{}, err)
	return err
}
