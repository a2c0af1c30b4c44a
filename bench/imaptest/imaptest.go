// Package imaptest runs Dovecot's imaptest (MIT; built from the copy in
// ../shared/imaptest by its build.sh) against IMAP servers and reads its
// output: the compliance scripts (test=DIR: one group per script, each a
// scripted session whose responses must match) and the random stress mode
// (many clients doing random commands while imaptest tracks the mailbox
// state every client has seen and reports any inconsistency as an
// "Error:" line).
//
// bench/cmd/imaptest is the command (`make imaptest`): it starts three
// Surat nodes serving --imaps and runs both modes against them. The
// package never asserts a time.
package imaptest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Build runs build.sh (../shared/imaptest/build.sh: it apt-installs
// dovecot-dev and builds imaptest into dest, or does nothing when it is
// built) and returns the imaptest binary's path.
func Build(ctx context.Context, script, dest string) (string, error) {
	args := []string{script}
	if dest != "" {
		args = append(args, dest)
	}
	cmd := exec.CommandContext(ctx, "bash", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("imaptest: %s: %w\n%s", script, err, errb.String())
	}
	lines := strings.Fields(strings.TrimSpace(out.String()))
	if len(lines) == 0 {
		return "", fmt.Errorf("imaptest: %s printed no path", script)
	}
	bin := lines[len(lines)-1]
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("imaptest: %w", err)
	}
	return bin, nil
}

// Target is one server to test: imaptest connects to Host:Port, over
// implicit TLS when TLS (ssl=any-cert: self-signed certificates are
// accepted).
type Target struct {
	Host string
	Port int
	TLS  bool
}

// args are imaptest's connection settings for t.
func (t Target) args() []string {
	a := []string{"host=" + t.Host, "port=" + strconv.Itoa(t.Port)}
	if t.TLS {
		a = append(a, "ssl=any-cert")
	}
	return a
}

// Command is an imaptest run with args; its output goes to out. Debian's
// dovecot-dev libraries live in /usr/lib/dovecot.
func Command(ctx context.Context, bin string, args []string, out io.Writer) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH=/usr/lib/dovecot")
	cmd.Stdout, cmd.Stderr = out, out
	return cmd
}

// ComplianceOptions is one compliance run.
type ComplianceOptions struct {
	Bin        string // imaptest
	Target     Target
	User, Pass string
	// Tests is imaptest's src/tests directory.
	Tests string
	// Only, when set, runs these scripts alone (their names in Tests);
	// Scratch is the directory they are copied into.
	Only    []string
	Scratch string
	// Log, when set, receives imaptest's whole output as it comes.
	Log io.Writer
}

// Compliance runs the compliance scripts and parses what imaptest said.
func Compliance(ctx context.Context, o ComplianceOptions) (*Result, error) {
	dir := o.Tests
	if len(o.Only) > 0 {
		var err error
		if dir, err = selectTests(o.Tests, o.Scratch, o.Only); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	w := io.Writer(&out)
	if o.Log != nil {
		w = io.MultiWriter(&out, o.Log)
	}
	args := append(o.Target.args(), "user="+o.User, "pass="+o.Pass, "test="+dir)
	err := Command(ctx, o.Bin, args, w).Run()
	res, perr := Parse(&out)
	if perr != nil {
		return nil, perr
	}
	if err != nil && res.Groups == 0 {
		return res, fmt.Errorf("imaptest: %w\n%s", err, tail(out.String(), 20))
	}
	return res, nil
}

// selectTests copies the scripts named only (and their .mbox files) from
// tests into a fresh directory under scratch.
func selectTests(tests, scratch string, only []string) (string, error) {
	dir, err := os.MkdirTemp(scratch, "imaptest-only-")
	if err != nil {
		return "", err
	}
	for _, name := range only {
		for _, f := range []string{name, name + ".mbox"} {
			b, err := os.ReadFile(filepath.Join(tests, f))
			if os.IsNotExist(err) && f != name {
				continue
			}
			if err != nil {
				return "", fmt.Errorf("imaptest: test %s: %w", name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "default.mbox")); os.IsNotExist(err) {
		if b, err := os.ReadFile(filepath.Join(tests, "default.mbox")); err == nil {
			if err := os.WriteFile(filepath.Join(dir, "default.mbox"), b, 0o644); err != nil {
				return "", err
			}
		}
	}
	return dir, nil
}

// Result is what a compliance run reported.
type Result struct {
	Groups, FailedGroups, SkippedGroups int
	BaseFailed, BaseTotal               int
	ExtFailed, ExtTotal                 int
	// Failures are the failed commands, in the order reported.
	Failures []Failure
	// Errors are imaptest's "Error:" lines (protocol violations it saw
	// outside a script's expectations, such as a keyword in FETCH FLAGS
	// that no untagged FLAGS announced).
	Errors []string
	// Summary is true when the closing summary lines were read.
	Summary bool
}

// Failure is one "*** Test" block: the script, the command group, its
// line in the script, why, and the lines that followed (the command and
// the responses imaptest expected or got).
type Failure struct {
	Test   string   `json:"test"`
	Group  string   `json:"group,omitempty"` // "3/12"; empty for an initialization failure
	Line   int      `json:"line,omitempty"`
	Reason string   `json:"reason"`
	Detail []string `json:"detail,omitempty"`
}

// FailedTests are the names of the scripts with a failure, sorted.
func (r *Result) FailedTests() []string {
	var out []string
	for _, f := range r.Failures {
		if !slices.Contains(out, f.Test) {
			out = append(out, f.Test)
		}
	}
	slices.Sort(out)
	return out
}

var (
	reTest    = regexp.MustCompile(`^\*\*\* Test (\S+) command (\d+/\d+) \(line (\d+)\)`)
	reInit    = regexp.MustCompile(`^\*\*\* Test (\S+) initialization failed: (.*)$`)
	reGroups  = regexp.MustCompile(`(\d+) test groups: (\d+) failed, (\d+) skipped`)
	reBase    = regexp.MustCompile(`base protocol: (\d+)/(\d+) individual commands failed`)
	reExt     = regexp.MustCompile(`extensions: (\d+)/(\d+) individual commands failed`)
	reFailed  = regexp.MustCompile(`^ - failed: (.*)$`)
	maxDetail = 40
)

// Parse reads imaptest's compliance output.
func Parse(r io.Reader) (*Result, error) {
	res := &Result{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	var cur *Failure
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if m := reTest.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[3])
			res.Failures = append(res.Failures, Failure{Test: m[1], Group: m[2], Line: n})
			cur = &res.Failures[len(res.Failures)-1]
			continue
		}
		if m := reInit.FindStringSubmatch(line); m != nil {
			res.Failures = append(res.Failures, Failure{Test: m[1], Reason: "initialization failed: " + m[2]})
			cur = nil
			continue
		}
		if m := reGroups.FindStringSubmatch(line); m != nil {
			res.Groups, res.FailedGroups, res.SkippedGroups = atoi(m[1]), atoi(m[2]), atoi(m[3])
			res.Summary = true
			cur = nil
			continue
		}
		if m := reBase.FindStringSubmatch(line); m != nil {
			res.BaseFailed, res.BaseTotal = atoi(m[1]), atoi(m[2])
			continue
		}
		if m := reExt.FindStringSubmatch(line); m != nil {
			res.ExtFailed, res.ExtTotal = atoi(m[1]), atoi(m[2])
			continue
		}
		if i := strings.Index(line, "Error: "); i >= 0 {
			res.Errors = append(res.Errors, clip(line[i+len("Error: "):]))
		}
		if cur == nil {
			continue
		}
		if line == "" {
			if cur.Reason != "" {
				cur = nil
			}
			continue
		}
		if m := reFailed.FindStringSubmatch(line); m != nil && cur.Reason == "" {
			cur.Reason = m[1]
			continue
		}
		if len(cur.Detail) < maxDetail {
			cur.Detail = append(cur.Detail, clip(line))
		}
	}
	return res, sc.Err()
}

// maxLine is the longest output line kept whole (imaptest echoes
// commands, and its id script sends a 30 KB one).
const maxLine = 300

// clip shortens a line past maxLine.
func clip(s string) string {
	if len(s) <= maxLine {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:maxLine], len(s))
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
