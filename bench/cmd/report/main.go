// Command report writes bench/results/summary.md and summary.png from the
// JSON lines the benchmarks left in bench/results (bench/report), and
// scale.md when scale.jsonl is there.
//
//	report -results bench/results [-rev COMMIT] [-repo .]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/surat-mail/surat/bench/report"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		dir   = flag.String("results", "bench/results", "the directory with the JSON lines; the report is written there")
		rev   = flag.String("rev", "", "what to call the measured binary's source (default: the git commit of -repo)")
		repo  = flag.String("repo", ".", "the git checkout the binary was built from")
		scale = flag.Bool("scale", false, "write only scale.md (from scale.jsonl)")
	)
	flag.Parse()
	in, err := report.Load(*dir)
	if err != nil {
		return err
	}
	m := report.ReadMachine(*repo, *rev)
	if *scale {
		if len(in.Scale) == 0 {
			return fmt.Errorf("no %s in %s", report.ScaleFile, *dir)
		}
		var b bytes.Buffer
		report.WriteScale(&b, in.Scale, m)
		return write(filepath.Join(*dir, "scale.md"), b.Bytes())
	}
	if len(in.SMTP) == 0 && len(in.IMAP) == 0 && len(in.Failover) == 0 {
		return fmt.Errorf("no records in %s (%s, %s, %s)", *dir, report.SMTPFile, report.IMAPFile, report.FailoverFile)
	}
	var png bytes.Buffer
	chart := "summary.png"
	if err := report.WriteChart(&png, report.Rows(in), in.Failover); err != nil {
		return err
	}
	if err := write(filepath.Join(*dir, chart), png.Bytes()); err != nil {
		return err
	}
	var md bytes.Buffer
	report.WriteSummary(&md, in, m, chart)
	if err := write(filepath.Join(*dir, "summary.md"), md.Bytes()); err != nil {
		return err
	}
	os.Stdout.Write(md.Bytes())
	return nil
}

// write replaces path atomically, so a reader never sees half a report.
func write(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "wrote", path)
	return nil
}
