package filter

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// A script that fails at run time, passes a limit or does not compile is
// taken as if it had done nothing: the message is kept (never lost), the
// scripts before it still count, and the failure is counted.
func TestFailingScriptsKeep(t *testing.T) {
	const alice = "alice@example.com"
	for _, tc := range []struct {
		name    string
		src     string
		outcome string
	}{
		{"runtime error", "fails", outcomeFailed},
		{"step limit", "loops", outcomeFailed},
		{"does not compile", "if true {", outcomeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if err := prometheus.NewPedanticRegistry().Register(h.check); err != nil {
				t.Fatal(err)
			}
			m := h.check
			h.interp.def("fails", func(sieve.Message, sieve.Env) (*sieve.Result, error) { return nil, errBoom })
			h.interp.def("loops", func(sieve.Message, sieve.Env) (*sieve.Result, error) {
				return nil, errors.New("sieve: more than 100000 steps")
			})
			h.interp.result("global", sieve.Result{Keep: true, FileInto: []sieve.FileInto{{Mailbox: "Audit"}}})
			h.store.put(GlobalOwner, "g", "global")
			h.store.put(alice, "u", tc.src)
			res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
			if err != nil {
				t.Fatalf("a failing script failed the delivery: %v", err)
			}
			got := res.Recipients[alice]
			if got.Discard || len(got.Filings) != 2 || got.Filings[0].Mailbox != "" || got.Filings[1].Mailbox != "Audit" {
				t.Fatalf("outcome %+v: want the keep and the global script's fileinto", got)
			}
			if n := testutil.ToFloat64(m.runs.WithLabelValues(tc.outcome)); n != 1 {
				t.Fatalf("%s counted %v times", tc.outcome, n)
			}
			if n := testutil.ToFloat64(m.runs.WithLabelValues(outcomeOK)); n != 1 {
				t.Fatalf("ok counted %v times", n)
			}
			if !strings.Contains(res.Notes[0], "failed:1") {
				t.Fatalf("note %q", res.Notes)
			}
		})
	}
}

// Out of time: the scripts not run yet keep the message; the check still
// answers.
func TestTimeoutKeeps(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	h.interp.result("discard", sieve.Result{Discarded: true})
	h.store.put(alice, "u", "discard")
	runs, err := pipeline.Start(t.Context(), []pipeline.Check{h.check}, mxEnv("s@remote.test", alice))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = runs.Reader(strings.NewReader(testMessage)).Read(make([]byte, 1<<10))
	ctx, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	res, err := runs.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Recipients[alice]; ok {
		t.Fatalf("a timed-out script decided %+v", res.Recipients[alice])
	}
}

// A script store that cannot be read is a temporary failure: the client
// sends the message again rather than have it delivered unfiltered.
func TestStoreFailureIsTemporary(t *testing.T) {
	h := newHarness(t)
	h.store.fail = errBoom
	_, err := h.deliver(t, mxEnv("s@remote.test", "alice@example.com"), testMessage)
	if !errors.Is(err, errBoom) {
		t.Fatalf("err %v", err)
	}
	var r *pipeline.Reply
	if errors.As(err, &r) {
		t.Fatalf("a store failure refused the message: %v", r)
	}
}
