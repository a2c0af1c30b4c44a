// Package proccluster starts and drives real `surat serve` processes on
// loopback for the benchmarks: a cluster of N nodes with free ports, each
// with its own data directory and log file, and the operations a benchmark
// needs from the outside (who leads, SIGKILL and restart a node, wait until
// every node reports the same /v1/digest, a node's RSS and on-disk size).
//
// It talks to the nodes only as an operator would (the flags and the HTTP
// endpoints of docs/OPERATING.md: /readyz, /v1/cluster, /v1/digest), so
// it measures the binary it is given, whatever its source. It is never
// imported by the server.
package proccluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/surat-mail/surat/cluster/clustertest"
)

// Options describe a cluster to start.
type Options struct {
	Bin    string // the surat binary
	Dir    string // data directories and logs go here (n1/, n1.log, ...)
	Size   int    // nodes; default 3
	Domain string // --domain; default example.test
	// Protocol listeners to open on every node, on free loopback ports.
	SMTP, IMAP, POP3 bool
	LogLevel         string   // --log-level; default warn
	ExtraArgs        []string // appended to every node's serve flags
	// Env is added to every node's environment (e.g. GOGC=50).
	Env []string
}

// Node is one `surat serve` process and the flags to restart it with.
type Node struct {
	ID                 string
	Args               []string
	Data               string // --data
	HTTP, Raft, Gossip string // host:port
	SMTP, IMAP, POP3   string // host:port, "" when not opened
	Log                string // stdout and stderr, appended across restarts
	bin                string
	env                []string
	mu                 sync.Mutex
	cmd                *exec.Cmd
	done               chan struct{} // closed once cmd has exited and been waited for
}

// Cluster is a set of nodes started together.
type Cluster struct {
	Nodes []*Node
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

// Start launches the nodes (the first with --bootstrap-expect) and waits
// until every node is ready and all name the same leader. On an error every
// process already started is killed.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Size == 0 {
		o.Size = 3
	}
	if o.Domain == "" {
		o.Domain = "example.test"
	}
	if o.LogLevel == "" {
		o.LogLevel = "warn"
	}
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("proccluster: the surat binary: %w", err)
	}
	perNode := 3
	for _, on := range []bool{o.SMTP, o.IMAP, o.POP3} {
		if on {
			perNode++
		}
	}
	ports, err := clustertest.Ports(perNode * o.Size)
	if err != nil {
		return nil, err
	}
	addr := func(p int) string { return "127.0.0.1:" + strconv.Itoa(p) }
	c := &Cluster{}
	for i := range o.Size {
		p := ports[i*perNode : (i+1)*perNode]
		n := &Node{ID: fmt.Sprintf("n%d", i+1), Raft: addr(p[0]), Gossip: addr(p[1]), HTTP: addr(p[2]), bin: o.Bin, env: o.Env}
		k := 3
		take := func(on bool, dst *string) {
			if on {
				*dst = addr(p[k])
				k++
			}
		}
		take(o.SMTP, &n.SMTP)
		take(o.IMAP, &n.IMAP)
		take(o.POP3, &n.POP3)
		n.Data = filepath.Join(o.Dir, n.ID)
		n.Log = filepath.Join(o.Dir, n.ID+".log")
		c.Nodes = append(c.Nodes, n)
	}
	for i, n := range c.Nodes {
		var join []string
		for j, m := range c.Nodes {
			if j != i {
				join = append(join, m.Gossip)
			}
		}
		n.Args = []string{"serve", "--id", n.ID, "--data", n.Data, "--raft", n.Raft, "--gossip", n.Gossip,
			"--http", n.HTTP, "--join", strings.Join(join, ","), "--domain", o.Domain,
			"--resolver", "none", "--log-level", o.LogLevel}
		for _, l := range []struct{ flag, addr string }{{"--smtp", n.SMTP}, {"--imap", n.IMAP}, {"--pop3", n.POP3}} {
			if l.addr != "" {
				n.Args = append(n.Args, l.flag, l.addr)
			}
		}
		if i == 0 {
			n.Args = append(n.Args, "--bootstrap-expect", strconv.Itoa(o.Size))
		}
		n.Args = append(n.Args, o.ExtraArgs...)
		if err := n.Start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	if _, err := c.Settle(ctx, 60*time.Second); err != nil {
		err = fmt.Errorf("%w\n%s", err, c.LogTails(15))
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close kills every node (SIGKILL) and waits for them; it leaves the data.
func (c *Cluster) Close() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// Start (re)starts the node's process with its flags, on its data.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		select {
		case <-n.done:
		default:
			return fmt.Errorf("proccluster: %s is already running", n.ID)
		}
	}
	out, err := os.OpenFile(n.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("proccluster: log of %s: %w", n.ID, err)
	}
	cmd := exec.Command(n.bin, n.Args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), n.env...)
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("proccluster: start %s: %w", n.ID, err)
	}
	done := make(chan struct{})
	n.cmd, n.done = cmd, done
	go func() {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}()
	return nil
}

// Running reports whether the process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// PID is the running process's id, 0 when stopped.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || n.cmd.Process == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Signal sends sig to the running process.
func (n *Node) Signal(sig syscall.Signal) error {
	n.mu.Lock()
	cmd := n.cmd
	n.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("proccluster: %s was never started", n.ID)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("proccluster: signal %s: %w", n.ID, err)
	}
	return nil
}

// Wait waits until the process has exited, at most timeout, and returns
// its exit code (-1 when killed by a signal).
func (n *Node) Wait(timeout time.Duration) (int, error) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return 0, nil
	}
	select {
	case <-done:
		return cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("proccluster: %s still running %v later", n.ID, timeout)
	}
}

// Kill sends SIGKILL and waits for the exit; safe on a stopped node.
func (n *Node) Kill() {
	if n.Running() {
		_ = n.Signal(syscall.SIGKILL)
		_, _ = n.Wait(time.Minute)
	}
}

func (n *Node) get(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.HTTP+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), err
}

// View is the part of GET /v1/cluster the benchmarks read.
type View struct {
	Leader  string `json:"leader"`
	Self    string `json:"self"`
	Members []struct {
		ID           string `json:"id"`
		State        string `json:"state"`
		AppliedIndex uint64 `json:"applied_index"`
	} `json:"members"`
}

// View asks the node for its view of the cluster.
func (n *Node) View(ctx context.Context) (View, error) {
	var v View
	code, body, err := n.get(ctx, "/v1/cluster")
	if err != nil {
		return v, fmt.Errorf("%s: GET /v1/cluster: %w", n.ID, err)
	}
	if code != http.StatusOK {
		return v, fmt.Errorf("%s: GET /v1/cluster: %d", n.ID, code)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("%s: GET /v1/cluster: %w", n.ID, err)
	}
	return v, nil
}

// Ready is GET /readyz == 200.
func (n *Node) Ready(ctx context.Context) bool {
	code, _, err := n.get(ctx, "/readyz")
	return err == nil && code == http.StatusOK
}

// Digest is GET /v1/digest.
type Digest struct {
	AppliedIndex uint64 `json:"applied_index"`
	Digest       string `json:"digest"`
}

// Digest asks the node for its applied index and state digest.
func (n *Node) Digest(ctx context.Context) (Digest, error) {
	var d Digest
	code, body, err := n.get(ctx, "/v1/digest")
	if err != nil {
		return d, fmt.Errorf("%s: GET /v1/digest: %w", n.ID, err)
	}
	if code != http.StatusOK {
		return d, fmt.Errorf("%s: GET /v1/digest: %d", n.ID, code)
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return d, fmt.Errorf("%s: GET /v1/digest: %w", n.ID, err)
	}
	return d, nil
}

// MetricsURL is the node's Prometheus endpoint.
func (n *Node) MetricsURL() string { return "http://" + n.HTTP + "/metrics" }

// AdminURL is the node's admin API base URL.
func (n *Node) AdminURL() string { return "http://" + n.HTTP }

// Settle waits (at most timeout) until every node runs, is ready and names
// the same leader, which it returns.
func (c *Cluster) Settle(ctx context.Context, timeout time.Duration) (*Node, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		leader, err := c.agreedLeader(ctx)
		if err == nil {
			return leader, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("proccluster: the cluster did not settle within %v: %w", timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) agreedLeader(ctx context.Context) (*Node, error) {
	var leader string
	for _, n := range c.Nodes {
		if !n.Running() {
			return nil, fmt.Errorf("%s exited", n.ID)
		}
		if !n.Ready(ctx) {
			return nil, fmt.Errorf("%s not ready", n.ID)
		}
		v, err := n.View(ctx)
		if err != nil {
			return nil, err
		}
		if v.Leader == "" || (leader != "" && v.Leader != leader) {
			return nil, fmt.Errorf("no agreed leader (%s names %q)", n.ID, v.Leader)
		}
		leader = v.Leader
	}
	if n := c.Node(leader); n != nil {
		return n, nil
	}
	return nil, fmt.Errorf("leader %q is not one of the nodes", leader)
}

// Node returns the node with this id, or nil.
func (c *Cluster) Node(id string) *Node {
	for _, n := range c.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// WaitNewLeader polls the nodes other than old every poll interval until
// one names a leader other than old, and returns that leader's id. It is
// how long a client is without a known leader after old stopped.
func (c *Cluster) WaitNewLeader(ctx context.Context, old *Node, poll time.Duration) (string, error) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		for _, n := range c.Nodes {
			if n == old {
				continue
			}
			if v, err := n.View(ctx); err == nil && v.Leader != "" && v.Leader != old.ID {
				return v.Leader, nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return "", fmt.Errorf("proccluster: no leader other than %s: %w", old.ID, ctx.Err())
		}
	}
}

// WaitDigests waits (at most timeout) until every node reports the same
// applied index and digest, and returns it. Nodes that differ at the same
// index are an error at once: the replicas diverged.
func (c *Cluster) WaitDigests(ctx context.Context, timeout time.Duration) (Digest, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last []Digest
	for {
		var ds []Digest
		for _, n := range c.Nodes {
			d, err := n.Digest(ctx)
			if err != nil {
				break
			}
			ds = append(ds, d)
		}
		if len(ds) == len(c.Nodes) {
			same := true
			for _, d := range ds[1:] {
				if d.AppliedIndex != ds[0].AppliedIndex {
					same = false
				} else if d.Digest != ds[0].Digest {
					return Digest{}, fmt.Errorf("proccluster: nodes diverged at applied index %d: %+v", d.AppliedIndex, ds)
				}
			}
			if same {
				return ds[0], nil
			}
		}
		last = ds
		select {
		case <-ctx.Done():
			return Digest{}, fmt.Errorf("proccluster: digests did not converge within %v (last %+v)", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LogTails returns the last lines of every node's log, for error reports.
func (c *Cluster) LogTails(lines int) string {
	var b strings.Builder
	for _, n := range c.Nodes {
		out, err := os.ReadFile(n.Log)
		if err != nil {
			continue
		}
		all := strings.Split(strings.TrimSpace(string(out)), "\n")
		fmt.Fprintf(&b, "--- %s log tail:\n%s\n", n.ID, strings.Join(all[max(0, len(all)-lines):], "\n"))
	}
	return b.String()
}

// RSSBytes is the resident set of a process (VmRSS from /proc).
func RSSBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("proccluster: rss of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("proccluster: rss of %d: %w", pid, err)
				}
				return kb << 10, nil
			}
		}
	}
	return 0, fmt.Errorf("proccluster: no VmRSS for %d", pid)
}

// DirBytes is the apparent size of the regular files under dir (Pebble's
// checkpoints and hard links counted once per name, as du --apparent-size
// -l would; a store's checkpoints share files with it). A directory
// that does not exist (yet) is 0 bytes.
func DirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a file removed while walking (compaction)
			}
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("proccluster: size of %s: %w", dir, err)
	}
	return total, nil
}
