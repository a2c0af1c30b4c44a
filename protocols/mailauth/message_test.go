package mailauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/surat-mail/surat/protocols/dns"
)

// The verdicts of the acceptance checks H3–H8, against the same kind of
// records the suite publishes (its clients connect from 127.0.0.1).
func TestAcceptanceVerdicts(t *testing.T) {
	srv, r := newDNS(t)
	c := newChecker(t, r, nil)
	const spfPass, spfFail = "v=spf1 ip4:127.0.0.1 -all", "v=spf1 ip4:192.0.2.1 -all"
	domain := func(name, spfRec, dmarc string) {
		srv.Add(name, "TXT", spfRec)
		srv.Add(name, "MX", "10 mx."+name+".")
		if dmarc != "" {
			srv.Add("_dmarc."+name, "TXT", "v=DMARC1; p="+dmarc)
		}
	}
	e := func(from string) Envelope { return env("127.0.0.1", "localhost", from) }

	t.Run("H3 all pass", func(t *testing.T) {
		domain("h3.test", spfPass, "reject")
		s := newEd25519(t, srv, "h3.test", "acc")
		v := check(t, c, e("news@h3.test"), s.sign(t, message("news@h3.test")))
		if v.Action != Accept {
			t.Fatalf("action %s %+v", v.Action, v.Reply)
		}
		for _, m := range []string{"spf", "dkim", "dmarc"} {
			if got := resultOf(v.Header, m); got != "pass" {
				t.Errorf("%s=%s: %q", m, got, v.Header)
			}
		}
		if strings.Count(v.Header, "Authentication-Results:") != 1 || !strings.HasPrefix(v.Header, "Authentication-Results: "+testHost+";") {
			t.Errorf("header %q", v.Header)
		}
	})
	t.Run("H4 reject", func(t *testing.T) {
		domain("h4.test", spfFail, "reject")
		v := check(t, c, e("news@h4.test"), message("news@h4.test"))
		if v.Action != Reject || v.Reply.Code != 550 || v.Reply.Enhanced != [3]int{5, 7, 1} {
			t.Fatalf("%s %+v", v.Action, v.Reply)
		}
	})
	t.Run("H5 quarantine", func(t *testing.T) {
		domain("h5.test", spfFail, "quarantine")
		v := check(t, c, e("news@h5.test"), message("news@h5.test"))
		if v.Action != Junk || v.Domains["surat.test"] != Junk {
			t.Fatalf("%s %v", v.Action, v.Domains)
		}
	})
	t.Run("H7 body changed", func(t *testing.T) {
		domain("h7.test", spfPass, "none")
		s := newEd25519(t, srv, "h7.test", "acc")
		signed := s.sign(t, strings.Replace(message("news@h7.test"), "Hello.", "The original body.", 1))
		v := check(t, c, e("news@h7.test"), strings.Replace(signed, "The original body.", "The altered body!!", 1))
		if got := resultOf(v.Header, "dkim"); got != "fail" || v.Action != Accept {
			t.Fatalf("dkim=%s, %s: %q", got, v.Action, v.Header)
		}
	})
	t.Run("H8 SERVFAIL at _dmarc", func(t *testing.T) {
		domain("h8.test", spfFail, "")
		srv.ServFail("_dmarc.h8.test")
		v := check(t, c, e("news@h8.test"), message("news@h8.test"))
		if v.Reply.Code/100 == 5 || v.Action == Reject {
			t.Fatalf("5xx on a temporary DNS failure: %s %+v", v.Action, v.Reply)
		}
		if srv.Count("_dmarc.h8.test", "TXT") == 0 {
			t.Error("_dmarc.h8.test never asked")
		}
	})
}

// The body streams through: a 20 MiB signed message is verified without
// being held (the heap grows by far less than the message).
func TestStreamingLargeMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MiB message")
	}
	srv, r := newDNS(t)
	s := newEd25519(t, srv, "big.test", "k")
	srv.Add("_dmarc.big.test", "TXT", "v=DMARC1; p=reject")
	c := newChecker(t, r, nil)
	head := strings.TrimSuffix(message("a@big.test"), "Hello.\r\n")
	line := bytes.Repeat([]byte("0123456789abcdef"), 4)
	line = append(line, "\r\n"...)
	const lines = 20 << 20 / 66
	body := func(w io.Writer) {
		for range lines {
			if _, err := w.Write(line); err != nil {
				t.Fatal(err)
			}
		}
	}
	signer, err := dkim.NewSigner(&dkim.SignOptions{Domain: "big.test", Selector: "k", Signer: s.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(signer, head)
	body(signer)
	if err := signer.Close(); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	m := c.Start(ctx, env(badIP, "", "a@big.test"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	io.WriteString(m, signer.Signature()+head)
	body(m)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes for a %d-byte message", grown, lines*len(line))
	}
	v, err := m.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.DKIM) != 1 || v.DKIM[0].Result != "pass" || v.Action != Accept {
		t.Fatalf("%s %+v", v.Action, v.DKIM)
	}
}

// A header section over MaxHeaderBytes is refused (552 5.3.4) rather than
// held; the body after a normal header section is not limited.
func TestHeaderTooLarge(t *testing.T) {
	_, r := newDNS(t)
	c := newChecker(t, r, func(cfg *Config) { cfg.MaxHeaderBytes = 4096 })
	big := "X-Filler: " + strings.Repeat("x", 5000) + "\r\n" + message("a@d.test")
	v := check(t, c, env(badIP, "", "a@d.test"), big)
	if v.Action != Reject || v.Reply.Code != 552 || v.Reply.Enhanced != [3]int{5, 3, 4} {
		t.Fatalf("%s %+v", v.Action, v.Reply)
	}
	v = check(t, c, env(badIP, "", "a@d.test"), message("a@d.test")+strings.Repeat("body line\r\n", 1000))
	if v.Action != Accept {
		t.Fatalf("a long body: %s %+v", v.Action, v.Reply)
	}
}

// A message that is all header section (no empty line) is still checked.
func TestNoBody(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=reject")
	c := newChecker(t, r, nil)
	v := check(t, c, env(badIP, "", "a@d.test"), "From: a@d.test\r\nSubject: x\r\n")
	if v.Action != Reject {
		t.Fatalf("%s: %+v", v.Action, v.DMARC)
	}
}

// Finish waits no longer than its context: a look-up that never answers
// gives 451 4.4.3, and the look-ups are abandoned.
func TestFinishTimeout(t *testing.T) {
	srv, r := newDNS(t)
	srv.Drop("_dmarc.d.test")
	c := newChecker(t, r, nil)
	m := c.Start(context.Background(), env(badIP, "", "a@d.test"))
	io.WriteString(m, message("a@d.test"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	v, err := m.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v.Action != TempFail || v.Reply.Code != 451 {
		t.Fatalf("%s %+v", v.Action, v.Reply)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Finish took %v", d)
	}
	if _, err := m.Write([]byte("x")); !errors.Is(err, ErrFinished) {
		t.Errorf("Write after Finish: %v", err)
	}
}

// Abort stops the verifiers even in the middle of the body.
func TestAbort(t *testing.T) {
	srv, r := newDNS(t)
	s := newEd25519(t, srv, "d.test", "k")
	c := newChecker(t, r, nil)
	m := c.Start(context.Background(), env(badIP, "", "a@d.test"))
	signed := s.sign(t, message("a@d.test"))
	io.WriteString(m, signed[:len(signed)-4])
	m.Abort()
	m.Abort()
	if _, err := m.Finish(context.Background()); !errors.Is(err, ErrFinished) {
		t.Errorf("Finish after Abort: %v", err)
	}
}

// With --resolver none every look-up is "not found": results are none or
// permerror, and nothing is refused or deferred for it.
func TestResolverNone(t *testing.T) {
	c := newChecker(t, dns.None{}, nil)
	srv, _ := newDNS(t)
	s := newEd25519(t, srv, "d.test", "k")
	v := check(t, c, env(badIP, "h.d.test", "b@d.test"), s.sign(t, message("a@d.test")))
	if v.Action != Accept || v.SPF.Result != "none" || v.DKIM[0].Result != "permerror" || v.DMARC[0].Result != "none" {
		t.Fatalf("%s spf=%s dkim=%+v dmarc=%+v", v.Action, v.SPF.Result, v.DKIM, v.DMARC)
	}
}

// Every goroutine a message starts ends with Finish or Abort, timed out or
// not. (The resolver may finish an abandoned query on its own; only this
// package's goroutines are counted.)
func TestNoGoroutineLeft(t *testing.T) {
	srv, r := newDNS(t)
	s := newEd25519(t, srv, "d.test", "k")
	srv.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=reject")
	srv.Drop("_dmarc.slow.test")
	c := newChecker(t, r, func(cfg *Config) { cfg.ARC = fakeARC{res: ARCResult{Chain: ARCPass}} })
	msg := "ARC-Seal: i=1; d=x.test\r\n" + s.sign(t, message("a@d.test"))
	for i := range 30 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		from := "a@d.test"
		if i%3 == 1 {
			from = "a@slow.test"
		}
		m := c.Start(context.Background(), env(badIP, "h.d.test", from))
		io.WriteString(m, strings.Replace(msg, "a@d.test", from, 1)[:len(msg)-i%2*5])
		if i%3 == 2 {
			m.Abort()
		} else if _, err := m.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	ours := func() (n int, stacks string) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "surat/protocols/mailauth.") && !strings.Contains(g, "TestNoGoroutineLeft") {
				n++
				stacks += g + "\n\n"
			}
		}
		return n, stacks
	}
	deadline := time.Now().Add(2 * time.Second)
	for n, _ := ours(); n > 0 && time.Now().Before(deadline); n, _ = ours() {
		time.Sleep(10 * time.Millisecond)
	}
	if n, stacks := ours(); n > 0 {
		t.Errorf("%d goroutines of this package left:\n%s", n, stacks)
	}
}
