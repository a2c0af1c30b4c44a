package bench

import (
	"github.com/surat-mail/surat/cluster/clustertest"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// pollInterval is how often a survivor is asked for its leader.
	pollInterval = 10 * time.Millisecond
	// slowHandOver: a SIGTERM round slower than this is logged.
	slowHandOver = 100 * time.Millisecond
)

// nodeProc is one `bin/surat serve` process and the flags to restart it
// with.
type nodeProc struct {
	id   string
	args []string
	http string
	log  string // stdout and stderr, appended across restarts
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited and been waited for
}

func (p *nodeProc) start(bin string) error {
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, p.args...)
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", p.id, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		out.Close()
		close(done)
	}(p.done)
	return nil
}

func (p *nodeProc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit; safe on a stopped node.
func (p *nodeProc) kill() {
	if p.running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// clusterView is the part of GET /v1/cluster the benchmark reads.
type clusterView struct {
	Leader string `json:"leader"`
	Self   string `json:"self"`
}

var httpClient = &http.Client{Timeout: time.Second}

func (p *nodeProc) get(path string) (int, []byte, error) {
	resp, err := httpClient.Get("http://" + p.http + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), err
}

func (p *nodeProc) view() (clusterView, error) {
	var v clusterView
	code, body, err := p.get("/v1/cluster")
	if err != nil {
		return v, err
	}
	if code != http.StatusOK {
		return v, fmt.Errorf("%s: GET /v1/cluster: %d", p.id, code)
	}
	return v, json.Unmarshal(body, &v)
}

func (p *nodeProc) ready() bool {
	code, _, err := p.get("/readyz")
	return err == nil && code == http.StatusOK
}

// procCluster is three real nodes on loopback.
type procCluster struct {
	bin   string
	nodes []*nodeProc
}

func startProcCluster(b *testing.B, bin string) *procCluster {
	b.Helper()
	const size = 3
	dir := b.TempDir()
	ports := clustertest.FreePorts(b, 3*size)
	addr := func(i, kind int) string { return "127.0.0.1:" + strconv.Itoa(ports[3*i+kind]) }
	c := &procCluster{bin: bin}
	// Registered after TempDir, so every process is gone before the
	// directory is removed, whichever way the benchmark ends.
	b.Cleanup(func() {
		for _, p := range c.nodes {
			p.kill()
		}
	})
	for i := range size {
		var join []string
		for j := range size {
			if j != i {
				join = append(join, addr(j, 1))
			}
		}
		id := fmt.Sprintf("n%d", i+1)
		args := []string{"serve", "--id", id, "--data", filepath.Join(dir, id),
			"--raft", addr(i, 0), "--gossip", addr(i, 1), "--http", addr(i, 2),
			"--join", strings.Join(join, ","), "--domain", "bench.test", "--log-level", "warn"}
		if i == 0 {
			args = append(args, "--bootstrap-expect", strconv.Itoa(size))
		}
		p := &nodeProc{id: id, args: args, http: addr(i, 2), log: filepath.Join(dir, id+".log")}
		c.nodes = append(c.nodes, p)
		if err := p.start(bin); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.settle(30 * time.Second); err != nil {
		c.fatal(b, err)
	}
	return c
}

// settle waits until every node is ready and all name the same leader,
// which it returns.
func (c *procCluster) settle(timeout time.Duration) (*nodeProc, error) {
	deadline := time.Now().Add(timeout)
	for {
		leader, err := c.agreedLeader()
		if err == nil {
			return leader, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("cluster did not settle within %v: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *procCluster) agreedLeader() (*nodeProc, error) {
	var leader string
	for _, p := range c.nodes {
		if !p.running() {
			return nil, fmt.Errorf("%s exited", p.id)
		}
		if !p.ready() {
			return nil, fmt.Errorf("%s not ready", p.id)
		}
		v, err := p.view()
		if err != nil {
			return nil, err
		}
		if v.Leader == "" || (leader != "" && v.Leader != leader) {
			return nil, fmt.Errorf("no agreed leader (%s names %q)", p.id, v.Leader)
		}
		leader = v.Leader
	}
	for _, p := range c.nodes {
		if p.id == leader {
			return p, nil
		}
	}
	return nil, fmt.Errorf("leader %q is not one of the nodes", leader)
}

// fatal ends b with err and the tail of each node's log.
func (c *procCluster) fatal(b *testing.B, err error) {
	b.Helper()
	for _, p := range c.nodes {
		logTail(b, p, 15)
	}
	b.Fatal(err)
}

// logTail logs the last lines of a node's output.
func logTail(b *testing.B, p *nodeProc, lines int) {
	out, err := os.ReadFile(p.log)
	if err != nil {
		return
	}
	all := strings.Split(strings.TrimSpace(string(out)), "\n")
	b.Logf("%s log tail:\n%s", p.id, strings.Join(all[max(0, len(all)-lines):], "\n"))
}

// failover signals the leader and returns how long until a surviving node
// names a different leader, then restarts the old leader on its data and
// returns how long until the whole cluster is ready again.
func (c *procCluster) failover(b *testing.B, sig syscall.Signal) (elected, rejoined time.Duration, err error) {
	old, err := c.settle(30 * time.Second)
	if err != nil {
		return 0, 0, err
	}
	var survivors []*nodeProc
	for _, p := range c.nodes {
		if p != old {
			survivors = append(survivors, p)
		}
	}
	start := time.Now()
	if err := old.cmd.Process.Signal(sig); err != nil {
		return 0, 0, fmt.Errorf("signal %s: %w", old.id, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
poll:
	for {
		for _, p := range survivors {
			if v, err := p.view(); err == nil && v.Leader != "" && v.Leader != old.id {
				elected = time.Since(start)
				break poll
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("no new leader %v after %s of %s", time.Since(start), sig, old.id)
		}
	}
	select {
	case <-old.done:
	case <-time.After(15 * time.Second):
		return 0, 0, fmt.Errorf("%s still running 15 s after %s", old.id, sig)
	}
	if sig == syscall.SIGTERM && old.cmd.ProcessState.ExitCode() != 0 {
		return 0, 0, fmt.Errorf("%s exited with status %d after SIGTERM", old.id, old.cmd.ProcessState.ExitCode())
	}
	if sig == syscall.SIGTERM && elected > slowHandOver {
		// A hand-over should beat an election timeout; say why it did not.
		b.Logf("SIGTERM to %s: new leader only after %v", old.id, elected)
		logTail(b, old, 5)
	}
	restart := time.Now()
	if err := old.start(c.bin); err != nil {
		return 0, 0, err
	}
	if _, err := c.settle(30 * time.Second); err != nil {
		return 0, 0, err
	}
	return elected, time.Since(restart), nil
}

// BenchmarkFailover measures how long a three-process cluster is without a
// known leader after the leader is killed (SIGKILL) or stopped (SIGTERM,
// which hands leadership over). One iteration is one round: signal the
// leader, time the election, restart the old leader on its data and wait
// for the cluster to settle, so ns/op is the whole round and the metrics
// are the median and the worst election of the final run's rounds.
// -benchtime 5x runs exactly five rounds of each.
func BenchmarkFailover(b *testing.B) {
	bin, err := filepath.Abs(filepath.Join("..", "bin", "surat"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(bin); errors.Is(err, os.ErrNotExist) {
		b.Skip("bin/surat is missing: run `make build` (or `make bench`) first")
	}
	c := startProcCluster(b, bin)
	for _, s := range []struct {
		name string
		sig  syscall.Signal
	}{{"signal=KILL", syscall.SIGKILL}, {"signal=TERM", syscall.SIGTERM}} {
		b.Run(s.name, func(b *testing.B) {
			var elections, rejoins []time.Duration
			for range b.N {
				elected, rejoined, err := c.failover(b, s.sig)
				if err != nil {
					c.fatal(b, err)
				}
				elections = append(elections, elected)
				rejoins = append(rejoins, rejoined)
			}
			b.ReportMetric(ms(percentile(elections, 50)), "p50-ms")
			b.ReportMetric(ms(percentile(elections, 100)), "max-ms")
			b.ReportMetric(ms(percentile(rejoins, 50)), "rejoin-p50-ms")
		})
	}
}
