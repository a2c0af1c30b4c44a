package clamd

import (
	"context"
	"encoding/base64"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/pipeline"
)

func base64Lines(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	return b.String() + enc + "\r\n"
}

var mx = pipeline.Envelope{RemoteIP: "192.0.2.1", Helo: "mx.example.com", From: "a@example.com", Local: []string{"b@example.org"}}

// runCheck passes msg through the check as the SMTP server does.
func runCheck(t *testing.T, c pipeline.Check, env pipeline.Envelope, msg string) (pipeline.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runs, err := pipeline.Start(ctx, []pipeline.Check{c}, env)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := io.Copy(io.Discard, runs.Reader(strings.NewReader(msg))); err != nil {
		t.Fatal(err)
	}
	return runs.Finish(ctx)
}

// TestCheckVerdicts: clean passes with its fact; EICAR gets 554 5.7.1
// naming the signature; submission is not scanned.
func TestCheckVerdicts(t *testing.T) {
	f := startFake(t)
	c := NewCheck(f.client(), false, nil)
	res, err := runCheck(t, c, mx, testMessage("hello"))
	if err != nil || res.Action != pipeline.Deliver || len(res.Prepend) != 0 {
		t.Fatalf("clean: %+v, %v", res, err)
	}
	if v, _ := res.Fact("clamd"); v != "clean" {
		t.Fatalf("clean: fact clamd=%q", v)
	}
	res, err = runCheck(t, c, mx, testMessage(eicar))
	if err != nil || res.Action != pipeline.Refuse || res.Reply == nil {
		t.Fatalf("EICAR: %+v, %v", res, err)
	}
	if r := res.Reply; r.Code != 554 || r.Enhanced != [3]int{5, 7, 1} || !strings.Contains(r.Text, "Eicar-Test-Signature") {
		t.Fatalf("EICAR reply: %v", r)
	}
	scans := f.scanCount()
	sub := mx
	sub.Submission = true
	if res, err = runCheck(t, c, sub, testMessage(eicar)); err != nil || res.Action != pipeline.Deliver {
		t.Fatalf("submission: %+v, %v", res, err)
	}
	if f.scanCount() != scans {
		t.Fatal("a submitted message was scanned")
	}
}

// TestCheckFailurePolicy: without clamd, a message is a temporary failure
// (the SMTP server answers 451 4.7.0); with --clamd-failure accept it is
// delivered with X-Virus-Scan: unavailable, and counted.
func TestCheckFailurePolicy(t *testing.T) {
	f := startFake(t)
	f.stop()
	res, err := runCheck(t, NewCheck(f.client(), false, nil), mx, testMessage("hello"))
	if err == nil {
		t.Fatalf("clamd down: %+v and no error", res)
	}
	c := NewCheck(f.client(), true, nil)
	res, err = runCheck(t, c, mx, testMessage(eicar))
	if err != nil || res.Action != pipeline.Deliver {
		t.Fatalf("clamd down, accept: %+v, %v", res, err)
	}
	if !strings.HasPrefix(string(res.Prepend), "X-Virus-Scan: unavailable;") || !strings.HasSuffix(string(res.Prepend), "\r\n") {
		t.Fatalf("clamd down, accept: fields %q", res.Prepend)
	}
	if n := testutil.ToFloat64(c); n != 1 {
		t.Fatalf("surat_unscanned_deliveries_total = %v, want 1", n)
	}
}

// TestRealClamdCheck: with Debian's clamd, EICAR is refused with 554
// 5.7.1; clamd killed in the middle of a message gives a temporary
// failure (never a pass), and with accept, a delivery marked unscanned.
func TestRealClamdCheck(t *testing.T) {
	d := startClamd(t)
	check := NewCheck(d.client, false, nil)
	res, err := runCheck(t, check, mx, testMessage("The file follows.\r\n"+eicar))
	if err != nil || res.Action != pipeline.Refuse || res.Reply.Code != 554 || !strings.Contains(res.Reply.Text, "Eicar-Test-Signature") {
		t.Fatalf("EICAR through the check: %+v, %v", res, err)
	}
	if res, err = runCheck(t, check, mx, testMessage("clean")); err != nil || res.Action != pipeline.Deliver {
		t.Fatalf("clean through the check: %+v, %v", res, err)
	}

	// Killed mid-message: half the message is in, clamd dies, the rest
	// follows.
	ctx := context.Background()
	for _, accept := range []bool{false, true} {
		if accept {
			d = startClamd(t)
		}
		c := NewCheck(d.client, accept, nil)
		runs, err := pipeline.Start(ctx, []pipeline.Check{c}, mx)
		if err != nil {
			t.Fatal(err)
		}
		msg := testMessage(strings.Repeat("line of text\r\n", 20000)) // ~280 KiB
		r := runs.Reader(strings.NewReader(msg))
		if _, err := io.CopyN(io.Discard, r, int64(len(msg)/2)); err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // let it die (the outcome holds either way)
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatal(err)
		}
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		res, err := runs.Finish(fctx)
		cancel()
		switch {
		case !accept && err == nil:
			t.Fatalf("clamd killed mid-message: %+v with no error: the message would pass unscanned", res)
		case accept && (err != nil || !strings.HasPrefix(string(res.Prepend), "X-Virus-Scan: unavailable")):
			t.Fatalf("clamd killed mid-message, accept: %+v, %v", res, err)
		}
	}
}
