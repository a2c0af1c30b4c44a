package main

import (
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
