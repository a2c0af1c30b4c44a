package report

import "flag"

// OnOffFlags are the flags the benchmarks that measure a server feature
// on against off over three real nodes (bench/authload, bench/sieveload)
// take alike; each adds its own (-rounds, -body, -dir, -keep, …).
type OnOffFlags struct {
	Bin, First, Results, Rev, Repo *string
	Messages, Warmup, Senders      *int
	ReportOnly                     *bool
}

// NewOnOffFlags defines the flags on fs; name is the report's file name
// without its .jsonl and .md extensions.
func NewOnOffFlags(fs *flag.FlagSet, name string) OnOffFlags {
	return OnOffFlags{
		Bin:        fs.String("bin", "bin/surat", "the surat binary"),
		First:      fs.String("first", "on", "the mode of the first round: on or off"),
		Messages:   fs.Int("messages", 6000, "timed messages per round"),
		Warmup:     fs.Int("warmup", 200, "untimed messages per round, sent first"),
		Senders:    fs.Int("senders", 32, "concurrent SMTP senders"),
		Results:    fs.String("results", "bench/results", "write "+name+".jsonl and "+name+".md to this `DIR`"),
		Rev:        fs.String("rev", "", "what to call the measured binary's source (default: the git commit of -repo)"),
		Repo:       fs.String("repo", ".", "the git checkout the binary was built from"),
		ReportOnly: fs.Bool("report-only", false, "measure nothing: write "+name+".md again from the "+name+".jsonl in -results"),
	}
}
