package spamcorpus

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// BogofilterCutoff describes the setting bogofilter classifies with: its
// built-in defaults (-C: no configuration file is read), spam at a
// spamicity of 0.99 and above, ham below 0.45, unsure between (filed in
// INBOX, as a mail filter using bogofilter's verdict does).
const BogofilterCutoff = "spam_cutoff=0.99 (defaults, no config file)"

// BogofilterResult is one fold on bogofilter.
type BogofilterResult struct {
	Verdicts []Verdict
	Unsure   int
	TrainS   float64 // registering the nine training folds
	TestS    float64 // classifying the test fold
}

// RunBogofilter trains a fresh bogofilter wordlist (in a directory under
// work) on every fold but test, registering each message once (-s / -n,
// as `surat spam train` does), and classifies the test fold's files
// (-T: fixed terse output, one "FILE C SPAMICITY" line a message, C being
// S, H or U).
func RunBogofilter(ctx context.Context, bin, work string, l Layout, msgs []Message, test int) (BogofilterResult, error) {
	var res BogofilterResult
	dir, err := os.MkdirTemp(work, fmt.Sprintf("bogofilter-fold%02d-", test+1))
	if err != nil {
		return res, fmt.Errorf("bogofilter: %w", err)
	}
	defer os.RemoveAll(dir)
	ham, spam := l.TrainDirs(test)
	start := time.Now()
	for _, t := range []struct {
		flag string
		dirs []string
	}{{"-s", spam}, {"-n", ham}} {
		var files []string
		for _, d := range t.dirs {
			names, err := filepath.Glob(filepath.Join(d, "*.eml"))
			if err != nil {
				return res, err
			}
			files = append(files, names...)
		}
		if _, err := bogo(ctx, bin, files, "-C", "-d", dir, t.flag, "-b"); err != nil {
			return res, err
		}
	}
	res.TrainS = time.Since(start).Seconds()

	byFile := map[string]Message{}
	var files []string
	for _, i := range l.Folds[test] {
		p := l.File(test, msgs[i])
		byFile[p] = msgs[i]
		files = append(files, p)
	}
	start = time.Now()
	out, err := bogo(ctx, bin, files, "-C", "-d", dir, "-T", "-b")
	if err != nil {
		return res, err
	}
	res.TestS = time.Since(start).Seconds()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		v, class, file, err := parseBogoLine(sc.Text(), byFile)
		if err != nil {
			return res, err
		}
		if class == "U" {
			res.Unsure++
		}
		res.Verdicts = append(res.Verdicts, v)
		delete(byFile, file)
	}
	if len(byFile) > 0 {
		return res, fmt.Errorf("bogofilter: %d test messages not classified", len(byFile))
	}
	return res, nil
}

// parseBogoLine reads one line of -T -b output: FILE CLASS SPAMICITY.
func parseBogoLine(line string, byFile map[string]Message) (v Verdict, class, file string, err error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return v, "", "", fmt.Errorf("bogofilter: unexpected output line %q", line)
	}
	m, ok := byFile[f[0]]
	if !ok {
		return v, "", "", fmt.Errorf("bogofilter: output line for a file not asked (or twice): %q", line)
	}
	score, err := strconv.ParseFloat(f[2], 64)
	if err != nil || math.IsNaN(score) {
		return v, "", "", fmt.Errorf("bogofilter: spamicity in %q: %v", line, err)
	}
	switch f[1] {
	case "S", "H", "U":
	default:
		return v, "", "", fmt.Errorf("bogofilter: class in %q", line)
	}
	return Verdict{Index: m.Index, Spam: m.Spam, Junk: f[1] == "S", Score: score}, f[1], f[0], nil
}

// bogo runs bogofilter with args and the file names on standard input
// (streaming bulk mode, -b). Its exit status in bulk mode is that of the
// last message (0 spam, 1 ham, 2 unsure): only 3 is an error.
func bogo(ctx context.Context, bin string, files []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(strings.Join(files, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() <= 2 {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("bogofilter %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
