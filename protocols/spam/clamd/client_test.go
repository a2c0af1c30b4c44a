package clamd

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func testMessage(body string) string {
	return "From: a@example.com\r\nTo: b@example.org\r\nSubject: test\r\n\r\n" + body + "\r\n"
}

// TestParse: --clamd's two spellings, and what is not one.
func TestParse(t *testing.T) {
	for spec, want := range map[string]Client{
		"unix:/run/clamav/clamd.ctl": {Network: "unix", Address: "/run/clamav/clamd.ctl"},
		"127.0.0.1:3310":             {Network: "tcp", Address: "127.0.0.1:3310"},
		"[::1]:3310":                 {Network: "tcp", Address: "[::1]:3310"},
		"clamav.internal:3310":       {Network: "tcp", Address: "clamav.internal:3310"},
	} {
		c, err := Parse(spec)
		if err != nil || *c != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", spec, c, err, want)
			continue
		}
		if c.String() != spec {
			t.Errorf("Parse(%q).String() = %q", spec, c.String())
		}
	}
	for _, spec := range []string{"", "unix:", "localhost", "host:", ":3310", "host:99999", "host:x"} {
		if c, err := Parse(spec); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", spec, c)
		}
	}
}

// TestScanVerdicts: clean and infected messages, streamed in pieces.
func TestScanVerdicts(t *testing.T) {
	f := startFake(t)
	c := f.client()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if v, err := c.Version(ctx); err != nil || !strings.HasPrefix(v, "ClamAV") {
		t.Fatalf("Version = %q, %v", v, err)
	}
	res, err := c.Scan(ctx, strings.NewReader(testMessage("hello")))
	if err != nil || res.Infected {
		t.Fatalf("clean message: %+v, %v", res, err)
	}
	// The signature split across two writes is found all the same.
	s := c.Start(ctx)
	msg := testMessage("attachment: " + eicar)
	half := len(msg) - len(eicar)/2
	s.Write([]byte(msg[:half]))
	s.Write(nil)
	s.Write([]byte(msg[half:]))
	res, err = s.Finish(ctx)
	if err != nil || !res.Infected || res.Signature != "Eicar-Test-Signature" {
		t.Fatalf("EICAR: %+v, %v", res, err)
	}
}

// TestScanFailures: every way clamd can fail ends in an error, never in
// a clean verdict.
func TestScanFailures(t *testing.T) {
	ctx := context.Background()
	big := testMessage(strings.Repeat("0123456789abcdef", 1<<12)) // 64 KiB

	t.Run("unreachable", func(t *testing.T) {
		f := startFake(t)
		f.stop()
		_, err := f.client().Scan(ctx, strings.NewReader(testMessage("x")))
		if err == nil || failure(err) != "clamd unreachable" {
			t.Fatalf("err = %v (%s), want unreachable", err, failure(err))
		}
		if err := f.client().Ping(ctx); err == nil {
			t.Fatal("Ping succeeded on a stopped clamd")
		}
	})
	t.Run("size limit", func(t *testing.T) {
		f := startFake(t)
		f.set(func(f *fakeClamd) { f.maxBytes = 1000 })
		_, err := f.client().Scan(ctx, strings.NewReader(big))
		if !errors.Is(err, ErrSizeLimit) {
			t.Fatalf("err = %v, want ErrSizeLimit", err)
		}
	})
	t.Run("hang up after the command", func(t *testing.T) {
		f := startFake(t)
		f.set(func(f *fakeClamd) { f.hangUp = true })
		_, err := f.client().Scan(ctx, strings.NewReader(big))
		if err == nil {
			t.Fatal("no error from a clamd that hung up")
		}
	})
	t.Run("stalled clamd bounded by the caller's context", func(t *testing.T) {
		f := startFake(t)
		f.set(func(f *fakeClamd) { f.hang = true })
		c := f.client()
		s := c.Start(ctx)
		s.Write([]byte(testMessage("x")))
		fctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := s.Finish(fctx)
		if !errors.Is(err, context.DeadlineExceeded) || failure(err) != "timeout" {
			t.Fatalf("err = %v (%s), want the deadline", err, failure(err))
		}
	})
	t.Run("stalled clamd does not hold the writer", func(t *testing.T) {
		// A clamd that accepts and then reads nothing: once the socket's
		// buffers are full, the scan fails, and the message's writer goes
		// on (its pieces dropped) instead of waiting on clamd.
		f := startFake(t)
		f.stop()
		ln, err := net.Listen("unix", f.path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		held := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				held <- c
			}
		}()
		c := &Client{Network: "unix", Address: f.path, Timeout: 20 * time.Millisecond}
		s := c.Start(ctx)
		chunk := []byte(strings.Repeat("x", 32<<10))
		for range 320 { // 10 MiB
			s.Write(chunk)
		}
		_, err = s.Finish(ctx)
		if err == nil {
			t.Fatal("a clamd that read nothing gave a verdict")
		}
		if why := failure(err); why != "timeout" && why != "clamd stopped reading" {
			t.Fatalf("err = %v (%s)", err, why)
		}
		(<-held).Close()
	})
}
