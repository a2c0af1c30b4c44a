package report

import (
	"flag"
	"strings"
	"testing"
)

func TestOnOffFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c := NewOnOffFlags(fs, "x-ingest")
	if err := fs.Parse([]string{"-first", "off", "-senders", "4", "-report-only"}); err != nil {
		t.Fatal(err)
	}
	if *c.First != "off" || *c.Senders != 4 || !*c.ReportOnly || *c.Bin != "bin/surat" || *c.Messages != 6000 {
		t.Errorf("parsed %q %d %v %q %d", *c.First, *c.Senders, *c.ReportOnly, *c.Bin, *c.Messages)
	}
	if u := fs.Lookup("results").Usage; !strings.Contains(u, "x-ingest.jsonl and x-ingest.md") {
		t.Errorf("-results usage %q", u)
	}
}
