package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseServeAutoBan(t *testing.T) {
	base := baseArgs(filepath.Join(t.TempDir(), "data"))
	c, err := parseServe(base, envOf(nil))
	if err != nil || c.AutoBan != nil {
		t.Fatalf("default: %+v, %v; want off", c.AutoBan, err)
	}
	c, err = parseServe(with(base, "--auto-ban", "10,10m,1h", "--auto-ban-exempt", "192.0.2.0/24, 2001:db8::5,198.51.100.7/16"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::5/128"), netip.MustParsePrefix("198.51.0.0/16")}
	if p := c.AutoBan; p == nil || p.Count != 10 || p.Window != 10*time.Minute || p.Duration != time.Hour || !slices.Equal(p.Exempt, want) {
		t.Fatalf("--auto-ban 10,10m,1h: %+v", p)
	}
	for _, bad := range [][]string{
		{"--auto-ban", "10"}, {"--auto-ban", "10,10m"}, {"--auto-ban", "0,10m,1h"}, {"--auto-ban", "x,10m,1h"},
		{"--auto-ban", "10,10,1h"}, {"--auto-ban", "10,10m,1s"}, {"--auto-ban", "10,10m,1h,2"},
		{"--auto-ban", "10,10m,1h", "--auto-ban-exempt", "example.test"},
	} {
		_, err := parseServe(with(base, bad...), envOf(nil))
		if err == nil || !strings.Contains(err.Error(), bad[len(bad)-2]) {
			t.Errorf("%v: %v, want a usage error naming the flag", bad, err)
		}
	}
}

// TestAutoBanSparesLoopback runs `surat serve` with --auto-ban at its
// strictest (one lockout bans) and locks a loopback client out of POP3
// logins: the wiring counts the lockout, and loopback, where a local
// webmail or proxy sits, is not banned. (Every socket a test can open is
// on loopback, so a ban through the wiring cannot be shown here; the
// policy's bans across a real cluster are tested in protocols/bans.)
func TestAutoBanSparesLoopback(t *testing.T) {
	nodes := startServeCluster(t, 1, "--auto-ban", "1,1m,1h")
	n := nodes[0]
	const user = "autoban@example.test"
	if r := runCLI(t, nil, "right password\n", "user", "add", user, "--password-stdin", "--server", n.url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	locked := false
	for conn := 0; conn < 20 && !locked; conn++ {
		c, err := tls.Dial("tcp", n.pop3s, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReader(c)
		line := func() string { l, _ := r.ReadString('\n'); return strings.TrimRight(l, "\r\n") }
		if g := line(); !strings.HasPrefix(g, "+OK") {
			c.Close()
			if strings.HasPrefix(g, "-ERR [SYS/TEMP] Too many failed logins") {
				locked = true // refused at connect: a lockout too
				break
			}
			t.Fatalf("greeting: %q", g)
		}
		for range 3 {
			fmt.Fprintf(c, "USER %s\r\n", user)
			line()
			fmt.Fprintf(c, "PASS guess\r\n")
			if l := line(); strings.HasPrefix(l, "-ERR [SYS/TEMP] Too many failed logins") {
				locked = true
				break
			} else if l == "" {
				break
			}
		}
		c.Close()
	}
	if !locked {
		t.Fatal("loopback client never locked out")
	}
	time.Sleep(500 * time.Millisecond) // a ban, were one proposed, commits meanwhile
	if r := runCLI(t, nil, "", "ban", "list", "--server", n.url()); r.code != 0 || r.stdout != "" {
		t.Fatalf("ban list after loopback lockouts: %+v", r)
	}
	if got := greetingLine(t, "127.0.0.1", n.smtp, false); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("loopback refused on SMTP: %q", got)
	}
	resp, err := http.Get(n.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "\nsurat_auto_bans_total 0\n") {
		t.Fatal("/metrics lacks surat_auto_bans_total 0")
	}
}
