package main

import (
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
