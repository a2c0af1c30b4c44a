package pipeline

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// judge is a check whose every run ends with the outcome and error it
// was given; its runs filter and follow, to show the wrapper keeps both.
type judge struct {
	name string
	o    Outcome
	err  error
}

func (j judge) Name() string { return j.name }
func (j judge) Start(context.Context, Envelope) (Run, error) {
	return &judgeRun{j: j}, nil
}

type judgeRun struct {
	j        judge
	followed bool
}

func (r *judgeRun) Write(p []byte) (int, error) { return len(p), nil }
func (r *judgeRun) Finish(context.Context) (Outcome, error) {
	return r.j.o, r.j.err
}
func (r *judgeRun) FinishAfter(ctx context.Context, _ Result) (Outcome, error) {
	r.followed = true
	return r.Finish(ctx)
}
func (r *judgeRun) Abort() {}
func (r *judgeRun) Filter(in io.Reader) io.Reader {
	return io.MultiReader(strings.NewReader("X: y\r\n"), in)
}

func TestMetricsCountOutcomesAndKeepInterfaces(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	checks := []Check{
		m.Count(judge{name: "junker", o: Outcome{Action: Junk}}),
		m.Count(judge{name: "greylist", o: Outcome{Action: Refuse, Reply: &Reply{Code: 451, Enhanced: [3]int{4, 7, 1}, Text: "later"}}}),
	}
	rs, err := Start(context.Background(), checks, Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(rs.Reader(strings.NewReader("body")))
	if string(stored) != "X: y\r\nX: y\r\nbody" {
		t.Errorf("the wrapped runs did not filter: %q", stored)
	}
	if _, ok := rs.runs[0].(Follower); !ok {
		t.Error("the wrapped run is no longer a Follower")
	}
	res, err := rs.Finish(context.Background())
	if err != nil || res.Action != Refuse {
		t.Fatalf("Finish = %v, %v", res.Action, err)
	}
	if got := testutil.ToFloat64(m.outcomes.WithLabelValues("junker", "junk")); got != 1 {
		t.Errorf("junk counted %v times", got)
	}
	if got := testutil.ToFloat64(m.outcomes.WithLabelValues("greylist", "tempfail")); got != 1 {
		t.Errorf("tempfail counted %v times", got)
	}
	conn := m.CountConn(connJudge{err: &Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "listed"}})
	if err := conn.CheckConn(context.Background(), Client{}); err == nil {
		t.Error("the wrapped connection check lost its refusal")
	}
	if got := testutil.ToFloat64(m.outcomes.WithLabelValues("dnsbl", "refuse")); got != 1 {
		t.Errorf("refuse counted %v times", got)
	}
	if outcomeLabel(Outcome{}, errors.New("down")) != "error" {
		t.Error("an error is not counted as error")
	}
}

type connJudge struct{ err error }

func (connJudge) Name() string                              { return "dnsbl" }
func (c connJudge) CheckConn(context.Context, Client) error { return c.err }
