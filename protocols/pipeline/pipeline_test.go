package pipeline

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

type fixed struct {
	name    string
	outcome Outcome
	err     error
	skip    bool
	fed     *bytes.Buffer
	aborted *int
}

func (f fixed) Name() string { return f.name }

func (f fixed) Start(context.Context, Envelope) (Run, error) {
	if f.skip {
		return nil, nil
	}
	return &fixedRun{f}, nil
}

type fixedRun struct{ f fixed }

func (r *fixedRun) Write(p []byte) (int, error) {
	if r.f.fed != nil {
		r.f.fed.Write(p)
	}
	return 0, errors.New("a run's write error must not stop the stream")
}
func (r *fixedRun) Finish(context.Context) (Outcome, error) { return r.f.outcome, r.f.err }
func (r *fixedRun) Abort() {
	if r.f.aborted != nil {
		*r.f.aborted++
	}
}

// TestFinishCombines: fields in check order, the strongest action with
// the first refusal's reply, every event; skipped checks take no part.
func TestFinishCombines(t *testing.T) {
	reject := &Reply{Code: 550, Enhanced: [3]int{5, 7, 1}, Text: "first"}
	checks := []Check{
		fixed{name: "a", outcome: Outcome{Prepend: []byte("A: 1\r\n"), Action: Junk, Note: "a"}},
		fixed{name: "skipped", skip: true, outcome: Outcome{Action: Refuse}},
		fixed{name: "b", outcome: Outcome{Prepend: []byte("B: 2\r\n"), Action: Refuse, Reply: reject}},
		fixed{name: "c", outcome: Outcome{Action: Refuse, Reply: &Reply{Code: 451, Text: "second"}}},
	}
	rs, err := Start(context.Background(), checks, Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rs.Reader(strings.NewReader("Subject: x\r\n\r\nbody\r\n"))); err != nil {
		t.Fatalf("stream stopped: %v", err)
	}
	res, err := rs.Finish(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Prepend) != "A: 1\r\nB: 2\r\n" || res.Action != Refuse || res.Reply != reject || len(res.Notes) != 1 {
		t.Fatalf("combined %+v", res)
	}
}

// TestFinishFailure: a run's error, or a refusal without a reply, fails
// the whole message (the caller answers 451), naming the check.
func TestFinishFailure(t *testing.T) {
	for _, c := range []Check{
		fixed{name: "dns", err: errors.New("timeout")},
		fixed{name: "careless", outcome: Outcome{Action: Refuse}},
	} {
		rs, err := Start(context.Background(), []Check{fixed{name: "ok"}, c}, Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rs.Finish(context.Background()); err == nil || !strings.Contains(err.Error(), c.Name()) {
			t.Fatalf("%s: error %v", c.Name(), err)
		}
	}
}

// TestAbort: runs that were started are aborted once, also when a later
// check refuses to start.
func TestAbort(t *testing.T) {
	var aborted int
	failing := startFails{}
	_, err := Start(context.Background(), []Check{fixed{name: "a", aborted: &aborted}, failing}, Envelope{})
	if err == nil || aborted != 1 {
		t.Fatalf("err %v, %d aborted", err, aborted)
	}
	rs, _ := Start(context.Background(), []Check{fixed{name: "a", aborted: &aborted}}, Envelope{})
	rs.Abort()
	rs.Abort()
	if aborted != 2 {
		t.Fatalf("%d aborts, want 2", aborted)
	}
}

type startFails struct{}

func (startFails) Name() string { return "fails" }
func (startFails) Start(context.Context, Envelope) (Run, error) {
	return nil, &Reply{Code: 550, Enhanced: [3]int{5, 7, 1}, Text: "no"}
}
