package unscanned

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// TestOutcome: without accept, a missing verdict is an error (the SMTP
// server's 451); with it, a delivery marked with the field, and counted.
func TestOutcome(t *testing.T) {
	env := pipeline.Envelope{RemoteIP: "192.0.2.1", From: "a@example.org"}
	down := errors.New("connection refused")

	strict := New("clamd", "X-Virus-Scan", "scanned", false, nil)
	o, err := strict.Outcome(env, "clamd not reachable", down)
	if !errors.Is(err, down) || o.Prepend != nil || o.Action != pipeline.Deliver {
		t.Fatalf("tempfail policy: %+v, %v", o, err)
	}
	if n := testutil.ToFloat64(strict.delivered); n != 0 {
		t.Errorf("a refused message was counted as delivered unscanned (%v)", n)
	}

	lenient := New("rspamd", "X-Spam-Scan", "checked", true, nil)
	o, err = lenient.Outcome(env, "HTTP 500", down)
	if err != nil {
		t.Fatalf("accept policy: %v", err)
	}
	if got, want := string(o.Prepend), "X-Spam-Scan: unavailable; not checked by rspamd (HTTP 500)\r\n"; got != want {
		t.Errorf("field %q, want %q", got, want)
	}
	if len(o.Facts) != 1 || o.Facts[0] != "rspamd=unavailable" {
		t.Errorf("facts %q", o.Facts)
	}
	if n := testutil.ToFloat64(lenient.delivered); n != 1 {
		t.Errorf("counted %v, want 1", n)
	}
}
