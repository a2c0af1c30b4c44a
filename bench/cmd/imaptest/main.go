// Command imaptest runs Dovecot's imaptest against a fresh three-node
// Surat cluster over implicit TLS (--imaps, ssl=any-cert): first the
// compliance scripts (test=…/src/tests) against node n1, printing every
// failed group with its reason, then the random stress mode against all
// three nodes at once (one imaptest process per node, the same users),
// printing every inconsistency imaptest reports. It exits 1 when a group
// failed or the stress run reported an error (bench/imaptest).
//
//	imaptest -bin bin/surat -build ../shared/imaptest/build.sh [-only select,search-flags] [-stress 30s]
//
// `make imaptest` runs it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/surat-mail/surat/bench/imapext"
	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/imaptest"
	"github.com/surat-mail/surat/bench/report"
	"github.com/surat-mail/surat/cluster/faults/proc"
)

var logf = report.Logf

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imaptest:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

const pass = "imaptest-pass"

func run() (int, error) {
	var (
		bin        = flag.String("bin", "bin/surat", "the surat binary")
		build      = flag.String("build", "../shared/imaptest/build.sh", "imaptest's build script (it builds once into -imaptest-dir)")
		itDir      = flag.String("imaptest-dir", "", "where imaptest is built (default: the build script's default)")
		tests      = flag.String("tests", "", "the compliance scripts' directory (default: src/tests beside the imaptest binary)")
		only       = flag.String("only", "", "comma-separated compliance scripts to run alone (default: all)")
		compliance = flag.Bool("compliance", true, "run the compliance scripts")
		stress     = flag.Duration("stress", 30*time.Second, "stress run length (0: none)")
		clients    = flag.Int("clients", 10, "stress clients per node")
		users      = flag.Int("users", 20, "stress users u1..uN@example.test (shared by the three processes)")
		logout     = flag.Bool("logout", true, "stress clients log out and in again (imaptest's default); false: logout=0")
		dir        = flag.String("dir", "", "where the cluster's data go (default: the system's temporary directory)")
		keep       = flag.Bool("keep", false, "keep the data directory, node logs and imaptest's output")
		jsonOut    = flag.String("json", "", "also write the results as JSON to this `FILE`")
		verbose    = flag.Bool("v", false, "copy imaptest's output to stderr")
	)
	flag.Parse()
	binPath, err := report.BinPath(*bin)
	if err != nil {
		return 0, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logf("building imaptest (%s)", *build)
	it, err := imaptest.Build(ctx, *build, *itDir)
	if err != nil {
		return 0, err
	}
	if *tests == "" {
		*tests = filepath.Join(filepath.Dir(it), "tests")
	}
	work, err := os.MkdirTemp(*dir, "imaptest-")
	if err != nil {
		return 0, err
	}
	if *keep {
		logf("data, logs and imaptest output kept in %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	var names []string
	for i := 1; i <= max(*users, 2); i++ {
		names = append(names, fmt.Sprintf("u%d@example.test", i))
	}
	logf("starting three Surat nodes with --imaps, %d users", len(names))
	s, err := imapext.StartSurat(ctx, binPath, filepath.Join(work, "cluster"), names, pass)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	targets := make([]imaptest.Target, len(s.IMAPS))
	for i, a := range s.IMAPS {
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		targets[i] = imaptest.Target{Host: host, Port: p, TLS: true}
	}
	out := struct {
		Compliance *imaptest.Result        `json:"compliance,omitempty"`
		Stress     []imaptest.StressResult `json:"stress,omitempty"`
	}{}
	code := 0
	if *compliance {
		logf("compliance scripts (%s) against n1 (%s)", *tests, s.IMAPS[0])
		logFile, err := os.Create(filepath.Join(work, "compliance.log"))
		if err != nil {
			return 0, err
		}
		defer logFile.Close()
		o := imaptest.ComplianceOptions{Bin: it, Target: targets[0], User: names[0], Pass: pass,
			Tests: *tests, Scratch: work, Log: logFile}
		if *only != "" {
			o.Only = strings.Split(*only, ",")
		}
		if *verbose {
			o.Log = io.MultiWriter(logFile, os.Stderr)
		}
		res, err := imaptest.Compliance(ctx, o)
		if err != nil {
			return 0, err
		}
		out.Compliance = res
		printCompliance(res)
		if res.FailedGroups > 0 || !res.Summary {
			code = 1
		}
	}
	if *stress > 0 {
		mbox := filepath.Join(work, "stress.mbox")
		if err := writeMbox(mbox, 100); err != nil {
			return 0, err
		}
		extra := []string{}
		if !*logout {
			extra = append(extra, "logout=0")
		}
		logf("stress: one imaptest per node (%s), %d clients each, users u1..u%d, %s", strings.Join(s.IMAPS, ", "),
			*clients, *users, *stress)
		logFile, err := os.Create(filepath.Join(work, "stress.log"))
		if err != nil {
			return 0, err
		}
		defer logFile.Close()
		o := imaptest.StressOptions{Bin: it, Targets: targets, User: "u%d@example.test", Users: *users, Pass: pass,
			Clients: *clients, Duration: *stress, Mbox: mbox, Extra: extra, Log: logFile}
		if *verbose {
			o.Log = io.MultiWriter(logFile, os.Stderr)
		}
		res, err := imaptest.Stress(ctx, o)
		if err != nil {
			return 0, err
		}
		out.Stress = res
		if printStress(res) {
			code = 1
		}
		if _, err := proc.Within(ctx, 60*time.Second, s.WaitConverged); err != nil {
			fmt.Printf("the nodes did not converge after the stress run: %v\n", err)
			code = 1
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return 0, err
		}
	}
	return code, nil
}

func printCompliance(r *imaptest.Result) {
	if !r.Summary {
		fmt.Println("compliance: imaptest printed no summary (it stopped early; see its output with -v or -keep)")
	} else {
		fmt.Printf("compliance: %d test groups: %d failed, %d skipped; base protocol %d/%d commands failed, extensions %d/%d\n",
			r.Groups, r.FailedGroups, r.SkippedGroups, r.BaseFailed, r.BaseTotal, r.ExtFailed, r.ExtTotal)
	}
	for _, name := range r.FailedTests() {
		fmt.Printf("FAILED %s\n", name)
		for _, f := range r.Failures {
			if f.Test != name {
				continue
			}
			where := ""
			if f.Group != "" {
				where = fmt.Sprintf(" command %s (line %d)", f.Group, f.Line)
			}
			fmt.Printf("   %s: %s\n", strings.TrimPrefix(where, " "), f.Reason)
			for _, d := range f.Detail {
				fmt.Printf("      %s\n", d)
			}
		}
	}
	if len(r.Errors) > 0 {
		fmt.Printf("compliance: %d protocol errors reported:\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Printf("   %s\n", e)
		}
	}
}

// printStress prints each process's totals and errors; true if any is an
// inconsistency. A LOGIN refused as temporarily unavailable (the node's
// login path shedding load: NO [UNAVAILABLE]) is shown apart and does not
// fail the run: it is the server declining work, not a wrong answer.
func printStress(rs []imaptest.StressResult) bool {
	bad := false
	for _, r := range rs {
		var wrong, refused []string
		for _, e := range r.Errors {
			if strings.Contains(e, "LOGIN failed") && strings.Contains(e, "[UNAVAILABLE]") {
				refused = append(refused, e)
			} else {
				wrong = append(wrong, e)
			}
		}
		fmt.Printf("stress %s: %d errors, %d logins refused as unavailable, totals %v%s\n", r.Target, len(wrong), len(refused), r.Totals, exitNote(r.Exit))
		for i, e := range append(wrong, refused...) {
			if i == 20 {
				fmt.Printf("   ... %d more\n", len(wrong)+len(refused)-20)
				break
			}
			fmt.Printf("   %s\n", e)
		}
		if len(wrong) > 0 || r.Exit != "" {
			bad = true
		}
	}
	return bad
}

func exitNote(s string) string {
	if s == "" {
		return ""
	}
	return " (exit: " + s + ")"
}

// writeMbox writes n bench messages (bench/imapload.Message) as imaptest's
// source mbox.
func writeMbox(path string, n int) error {
	msgs := make([][]byte, n)
	for i := range msgs {
		msgs[i] = imapload.Message("imaptest@example.test", i)
	}
	var b bytes.Buffer
	if err := imaptest.WriteMbox(&b, msgs); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
