package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

func TestParseServeDNSBLAndGreylist(t *testing.T) {
	base := baseArgs(filepath.Join(t.TempDir(), "data"))
	c, err := parseServe(base, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.DNSBL) != 0 || c.Greylist != 0 {
		t.Errorf("defaults: dnsbl %v, greylist %v (want off)", c.DNSBL, c.Greylist)
	}
	c, err = parseServe(with(base, "--resolver", "127.0.0.1:5353", "--dnsbl", "Zen.Spamhaus.org., bl.test", "--greylist", "5m"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.DNSBL, []string{"zen.spamhaus.org", "bl.test"}) || c.Greylist != 5*time.Minute {
		t.Errorf("dnsbl %v, greylist %v", c.DNSBL, c.Greylist)
	}
	checks, err := connChecks(c, nil, slog.New(slog.DiscardHandler))
	if err != nil || len(checks) != 1 || checks[0].Name() != "dnsbl" {
		t.Errorf("connChecks = %v, %v", checks, err)
	}
	for _, bad := range [][]string{
		with(base, "--resolver", "127.0.0.1:5353", "--dnsbl", "bl..test"),
		with(base, "--dnsbl", "bl.test"), // --resolver none
		with(base, "--greylist", "5"),
		with(base, "--greylist", "-1m"),
		with(base, "--greylist", "48h"),
	} {
		if _, err := parseServe(bad, envOf(nil)); err == nil || !strings.Contains(err.Error(), "--dnsbl") && !strings.Contains(err.Error(), "--greylist") {
			t.Errorf("%v: %v", bad[len(bad)-2:], err)
		}
	}
}

// TestServeGreylistAndDNSBL: through the real serve wiring, a first
// message gets 451 4.7.1 and its retry after --greylist passes; a client
// listed under --dnsbl is refused at EHLO naming the zone, and let in once
// de-listed.
func TestServeGreylistAndDNSBL(t *testing.T) {
	dnsSrv := dnstest.Start(t)
	dnsSrv.SetTTL(1)
	dnsSrv.SetNegativeTTL(1)
	nodes := startServeCluster(t, 1, "--greylist", "1s", "--resolver", dnsSrv.Addr(), "--dnsbl", "bl.test")
	n := nodes[0]
	if r := runCLI(t, nil, "pw-bob-1\n", "user", "add", "bob@example.test", "--password-stdin", "--server", n.url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	send := func() *gosmtp.SMTPError {
		cl, err := gosmtp.Dial(n.smtp)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		msg := "From: a@remote.test\r\nTo: bob@example.test\r\nSubject: grey\r\n\r\nhello\r\n"
		err = cl.SendMail("a@remote.test", []string{"bob@example.test"}, strings.NewReader(msg))
		var se *gosmtp.SMTPError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("not an SMTP reply: %v", err)
		}
		return se
	}
	se := send()
	if se == nil || se.Code != 451 || se.EnhancedCode != (gosmtp.EnhancedCode{4, 7, 1}) || !strings.Contains(se.Message, "Greylisted") {
		t.Fatalf("first message: %v, want 451 4.7.1 Greylisted", se)
	}
	deadline := time.Now().Add(15 * time.Second)
	for se = send(); se != nil; se = send() {
		if se.Code != 451 || time.Now().After(deadline) {
			t.Fatalf("retry: %v", se)
		}
		time.Sleep(200 * time.Millisecond)
	}

	dnsSrv.Add("1.0.0.127.bl.test", "A", "127.0.0.2")
	deadline = time.Now().Add(15 * time.Second)
	for se = send(); se == nil || se.Code != 554; se = send() {
		if time.Now().After(deadline) {
			t.Fatalf("listed client: %v, want 554", se)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(se.Message, "blocked using bl.test") {
		t.Errorf("refusal %q does not name the zone", se.Message)
	}
	dnsSrv.Remove("1.0.0.127.bl.test", "A")
	deadline = time.Now().Add(15 * time.Second)
	for se = send(); se != nil; se = send() {
		if time.Now().After(deadline) {
			t.Fatalf("de-listed client: %v", se)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
