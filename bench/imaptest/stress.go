package imaptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// StressOptions is a stress run: one imaptest process per target, all at
// once, on the same users, so that every mailbox is changed through every
// node while each process checks what its clients see.
type StressOptions struct {
	Bin     string
	Targets []Target
	// User is imaptest's user template ("u%d@example.test"), Users how
	// many (1..Users), Pass their password.
	User  string
	Users int
	Pass  string
	// Clients per process, Duration of the run, Mbox the messages
	// APPENDed (imaptest mbox=).
	Clients  int
	Duration time.Duration
	Mbox     string
	// Extra are more imaptest arguments (e.g. "logout=0").
	Extra []string
	// Log, when set, receives every process's output, each line after
	// the target's address.
	Log io.Writer
}

// StressResult is one process's outcome.
type StressResult struct {
	Target string   `json:"target"`
	Errors []string `json:"errors,omitempty"` // imaptest's "Error:" lines
	// Totals are the last totals line's command counts by column
	// (Logi, Sele, Fetc...), when imaptest printed one.
	Totals map[string]int `json:"totals,omitempty"`
	Exit   string         `json:"exit,omitempty"` // how the process ended, when not cleanly
}

// Stress runs the processes and waits for all of them.
func Stress(ctx context.Context, o StressOptions) ([]StressResult, error) {
	if len(o.Targets) == 0 {
		return nil, fmt.Errorf("imaptest: stress needs a target")
	}
	res := make([]StressResult, len(o.Targets))
	var wg sync.WaitGroup
	var logMu sync.Mutex
	for i, t := range o.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s:%d", t.Host, t.Port)
			args := append(t.args(), "user="+o.User, "users="+strconv.Itoa(o.Users), "pass="+o.Pass,
				"clients="+strconv.Itoa(o.Clients), "secs="+strconv.Itoa(int(o.Duration.Seconds())),
				"mbox="+o.Mbox)
			args = append(args, o.Extra...)
			var out bytes.Buffer
			w := io.Writer(&out)
			if o.Log != nil {
				w = io.MultiWriter(&out, &prefixWriter{prefix: name + " ", w: o.Log, mu: &logMu})
			}
			err := Command(ctx, o.Bin, args, w).Run()
			res[i] = ParseStress(out.String())
			res[i].Target = name
			if err != nil {
				res[i].Exit = err.Error()
			}
		}()
	}
	wg.Wait()
	return res, ctx.Err()
}

// ParseStress reads a stress run's output: its "Error:" lines and the
// table after "Totals:" (a header line of 4-letter command names, lines
// of percentages, then the totals under the names).
func ParseStress(out string) StressResult {
	var r StressResult
	var header []string
	totals := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if i := strings.Index(line, "Error: "); i >= 0 {
			r.Errors = append(r.Errors, clip(line[i+len("Error: "):]))
			continue
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && f[0] == "Totals:":
			totals = true
		case !totals:
		case len(f) > 2 && f[0] == "Logi":
			header = f
		case header != nil && len(f) == len(header):
			nums := make(map[string]int, len(header))
			for j, s := range f {
				n, err := strconv.Atoi(s)
				if err != nil {
					break
				}
				nums[header[j]] = n
			}
			if len(nums) == len(header) {
				r.Totals = nums
			}
		}
	}
	return r
}

// prefixWriter writes each line after prefix, under mu.
type prefixWriter struct {
	prefix string
	w      io.Writer
	mu     *sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}
