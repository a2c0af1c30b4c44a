package main

import (
	"path/filepath"
	"testing"
	"time"
)

func TestParseServeReportRetention(t *testing.T) {
	base := baseArgs(filepath.Join(t.TempDir(), "data"))
	c, err := parseServe(base, envOf(nil))
	if err != nil || c.ReportRetention != 7*24*time.Hour {
		t.Fatalf("default retention %v, %v", c.ReportRetention, err)
	}
	if c, err := parseServe(with(base, "--report-retention", "720h"), envOf(nil)); err != nil || c.ReportRetention != 720*time.Hour {
		t.Fatalf("--report-retention 720h: %v, %v", c.ReportRetention, err)
	}
	for _, bad := range []string{"24h", "0", "soon"} {
		if _, err := parseServe(with(base, "--report-retention", bad), envOf(nil)); err == nil {
			t.Errorf("--report-retention %s accepted", bad)
		}
	}
}
