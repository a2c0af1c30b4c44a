// Package proc starts and drives real `surat serve` processes: a cluster
// of N nodes, each with its own --data directory, ports and log file,
// started, signalled, killed, stopped and restarted with the same flags;
// the agreed leader, readiness and /v1/digest convergence, read over each
// node's admin API as an operator would (docs/OPERATING.md), so it
// measures whatever binary it is given. A node may listen on a host other
// than 127.0.0.1 (its admin API then over TLS, the CLI verifying it with
// --ca-file) and run under a command prefix such as `ip netns exec h1`.
// It also reads what the benchmarks record: a process's RSS and a
// directory's size.
//
// It is the one real-process cluster driver: the fault suite
// (cluster/faults, which ties a cluster's life to a test) and the bench
// tools (bench/failover, bench/scale, bench/loginflood) use it. It does
// not depend on package testing, and nothing in the server imports it.
package proc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/surat-mail/surat/cluster/clustertest"
)

// Options configure a Cluster. Zero values give three nodes on loopback
// with free ports, serving example.test.
type Options struct {
	// Bin is the surat binary; empty: $SURAT_BIN.
	Bin string
	// Size is the number of nodes (default 3); every node gets
	// --bootstrap-expect Size.
	Size int
	// Dir holds each node's --data directory and log file (required).
	Dir string
	// Domain is --domain (default example.test).
	Domain string
	// LogLevel is --log-level (default info).
	LogLevel string
	// ClusterKey, when set, is passed to every node as SURAT_CLUSTER_KEY.
	// Nodes refuse to start without one when Raft or gossip are not on
	// loopback: a fresh key is made then if none is given.
	ClusterKey string
	// AdminToken, when set, is passed to every node as SURAT_ADMIN_TOKEN
	// and sent by the driver's admin API calls and CLI runs. Nodes refuse
	// a non-loopback --http without one: a random token is made then if
	// none is given.
	AdminToken string
	// Node, when set, customises node i (0-based): where it listens and how
	// it is launched. Unset fields keep their defaults.
	Node func(i int) NodeSpec
	// ExtraArgs are appended to every node's serve command line.
	ExtraArgs []string
	// KeepLogsDir, when set, receives a copy of every node's log file from
	// Report (a test's ArtifactDir, say), since Dir is usually removed.
	KeepLogsDir string
	// LogTailLines is how many lines of each node's log Report gives
	// (default 40).
	LogTailLines int
	// Dial, when set, makes every connection the driver and the targets
	// it hands out open (admin API, SMTP, IMAP): for a test process that
	// reaches the nodes from a network namespace of its own. Default: a
	// plain net.Dialer.
	Dial DialFunc
}

// DialFunc opens a connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// NodeSpec is how one node listens and is launched.
type NodeSpec struct {
	// ID is --id (default n1, n2, ...).
	ID string
	// Host is the address every listener binds (default 127.0.0.1): a
	// node in a network namespace listens on that namespace's address.
	Host string
	// Ports are the node's listener ports; a zero Ports takes free
	// loopback ports (which suits any host in a namespace of its own).
	Ports Ports
	// Prefix runs the node under a command, e.g. ip netns exec h1. The
	// prefix must exec the server (as ip netns exec does) or keep it in
	// its process group: Kill and Stop signal the whole group.
	Prefix []string
	// Env is extra KEY=VALUE environment for the node and for CLI runs
	// against it.
	Env []string
	// ExtraArgs are appended to this node's serve command line.
	ExtraArgs []string
}

// Ports are one node's listener ports.
type Ports struct {
	Raft, Gossip, SMTP, IMAP, POP3, HTTP int
}

func (p Ports) zero() bool { return p == Ports{} }

// portsPerNode is the number of fields in Ports.
const portsPerNode = 6

// Timeouts of the driver's own calls. Generous: the machine may be busy.
const (
	apiTimeout     = 3 * time.Second  // one admin API call
	killWait       = 30 * time.Second // a SIGKILLed process to be reaped
	stopWait       = 60 * time.Second // StopAll: the nodes to shut down cleanly
	pollEvery      = 10 * time.Millisecond
	settlePollTime = 25 * time.Millisecond
)

// Cluster is a set of real `surat serve` processes.
type Cluster struct {
	opts  Options
	dir   string
	nodes []*Node
}

// Node is one `surat serve` process and the flags it is restarted with.
type Node struct {
	id      string
	host    string
	ports   Ports
	bin     string
	prefix  []string // command the node runs under, e.g. ip netns exec h1
	argv    []string // prefix, binary and serve arguments
	env     []string // extra environment, appended to os.Environ
	dataDir string
	logPath string
	dial    DialFunc // nil: net.Dialer
	api     *apiClient

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed once cmd has exited and been reaped
	exitErr  error         // cmd.Wait's result, valid once done is closed
	starts   int
	expectUp bool // started by the driver and not killed or stopped since
}

// New lays out a cluster without starting it. Close kills its processes.
func New(opts Options) (*Cluster, error) {
	if opts.Bin == "" {
		opts.Bin = os.Getenv("SURAT_BIN")
	}
	if opts.Bin == "" {
		return nil, errors.New("proc: no surat binary: set Options.Bin or SURAT_BIN")
	}
	if opts.Dir == "" {
		return nil, errors.New("proc: no directory for the nodes' data: set Options.Dir")
	}
	bin, err := filepath.Abs(opts.Bin)
	if err != nil {
		return nil, fmt.Errorf("proc: binary path: %w", err)
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("proc: binary: %w", err)
	}
	if opts.Size <= 0 {
		opts.Size = 3
	}
	if opts.Domain == "" {
		opts.Domain = "example.test"
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	if opts.LogTailLines <= 0 {
		opts.LogTailLines = 40
	}
	c := &Cluster{opts: opts, dir: opts.Dir}
	specs := make([]NodeSpec, opts.Size)
	needPorts := 0
	for i := range specs {
		if opts.Node != nil {
			specs[i] = opts.Node(i)
		}
		if specs[i].ID == "" {
			specs[i].ID = fmt.Sprintf("n%d", i+1)
		}
		if specs[i].Host == "" {
			specs[i].Host = "127.0.0.1"
		}
		if specs[i].Ports.zero() {
			needPorts += portsPerNode
		}
	}
	if err := secretsForNetwork(bin, specs, &opts); err != nil {
		return nil, err
	}
	c.opts = opts
	free := []int{}
	if needPorts > 0 {
		if free, err = clustertest.Ports(needPorts); err != nil {
			return nil, err
		}
	}
	for i := range specs {
		if specs[i].Ports.zero() {
			p := free[:portsPerNode]
			free = free[portsPerNode:]
			specs[i].Ports = Ports{Raft: p[0], Gossip: p[1], SMTP: p[2], IMAP: p[3], POP3: p[4], HTTP: p[5]}
		}
	}
	for i, s := range specs {
		n := &Node{
			id: s.ID, host: s.Host, ports: s.Ports, bin: bin,
			dataDir: filepath.Join(c.dir, s.ID),
			logPath: filepath.Join(c.dir, s.ID+".log"),
		}
		var join []string
		for j, o := range specs {
			if j != i {
				join = append(join, net.JoinHostPort(o.Host, strconv.Itoa(o.Ports.Gossip)))
			}
		}
		args := []string{"serve",
			"--id", s.ID,
			"--data", n.dataDir,
			"--raft", n.addr(s.Ports.Raft),
			"--gossip", n.addr(s.Ports.Gossip),
			"--join", strings.Join(join, ","),
			"--bootstrap-expect", strconv.Itoa(opts.Size),
			"--domain", opts.Domain,
			"--smtp", n.addr(s.Ports.SMTP),
			"--imap", n.addr(s.Ports.IMAP),
			"--pop3", n.addr(s.Ports.POP3),
			"--http", n.addr(s.Ports.HTTP),
			"--resolver", "none",
			"--log-level", opts.LogLevel,
		}
		args = append(args, opts.ExtraArgs...)
		args = append(args, s.ExtraArgs...)
		n.prefix = append([]string{}, s.Prefix...)
		n.argv = append(append(append([]string{}, n.prefix...), bin), args...)
		n.env = append([]string{}, s.Env...)
		if opts.ClusterKey != "" {
			n.env = append(n.env, "SURAT_CLUSTER_KEY="+opts.ClusterKey)
		}
		if opts.AdminToken != "" {
			n.env = append(n.env, "SURAT_ADMIN_TOKEN="+opts.AdminToken)
		}
		n.dial = opts.Dial
		n.api = newAPIClient(n.HTTPURL(), opts.AdminToken, opts.Dial)
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// secretsForNetwork fills in the cluster key (from `surat cluster
// keygen`) and admin token that nodes listening off loopback require, when
// the caller gave none.
func secretsForNetwork(bin string, specs []NodeSpec, opts *Options) error {
	offLoopback := slices.ContainsFunc(specs, func(s NodeSpec) bool {
		ip := net.ParseIP(s.Host)
		return ip == nil || !ip.IsLoopback()
	})
	if !offLoopback {
		return nil
	}
	if opts.ClusterKey == "" {
		out, err := exec.Command(bin, "cluster", "keygen").Output()
		if err != nil {
			return fmt.Errorf("proc: surat cluster keygen: %w", err)
		}
		opts.ClusterKey = strings.TrimSpace(string(out))
	}
	if opts.AdminToken == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("proc: admin token: %w", err)
		}
		opts.AdminToken = hex.EncodeToString(b[:])
	}
	return nil
}

// Start lays out and starts a cluster and waits (at most ready) until
// every node is ready and all agree on a leader. On an error every process
// already started is killed.
func Start(ctx context.Context, opts Options, ready time.Duration) (*Cluster, error) {
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	if err := c.StartAll(); err != nil {
		c.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, ready)
	defer cancel()
	if _, err := c.WaitReady(ctx); err != nil {
		err = fmt.Errorf("proc: the cluster did not come up: %w\n%s", err, c.LogTails(15))
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close kills every node (SIGKILL to its process group) and waits until
// each is reaped; it leaves the data.
func (c *Cluster) Close() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Kill())
	}
	return errors.Join(errs...)
}

// Report gives the tail of every node's log (Options.LogTailLines lines,
// leaving out per-message lines) to logf and copies the full logs to
// Options.KeepLogsDir when set: what a failed run leaves behind.
func (c *Cluster) Report(logf func(format string, args ...any)) {
	logf("node logs (last %d lines each):\n%s", c.opts.LogTailLines, c.LogTails(c.opts.LogTailLines))
	if c.opts.KeepLogsDir == "" {
		return
	}
	for _, n := range c.nodes {
		dst := filepath.Join(c.opts.KeepLogsDir, n.id+".log")
		if err := copyFile(n.logPath, dst); err != nil {
			logf("keep %s's log: %v", n.id, err)
			continue
		}
		logf("%s's full log: %s", n.id, dst)
	}
}

// StartAll starts every node that is not running.
func (c *Cluster) StartAll() error {
	for _, n := range c.nodes {
		if n.Running() {
			continue
		}
		if err := n.Start(); err != nil {
			return err
		}
	}
	return nil
}

// StopAll stops every node with SIGTERM, all at once, and waits for them
// to exit (Node.Stop), at most stopWait; the error joins every node's.
func (c *Cluster) StopAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, stopWait)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, n := range c.nodes {
		wg.Go(func() {
			if err := n.Stop(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WithArgs lays out another cluster on c's nodes (the same IDs, ports and
// --data directories) whose serve flags are extraArgs in place of c's
// Options.ExtraArgs: a benchmark compares two configurations of the same
// nodes by stopping one cluster and starting the other (Alternation).
// Only one of the two may run at a time.
func (c *Cluster) WithArgs(extraArgs []string) (*Cluster, error) {
	opts := c.opts
	opts.ExtraArgs = extraArgs
	nodes, node := c.nodes, c.opts.Node
	opts.Node = func(i int) NodeSpec {
		var spec NodeSpec
		if node != nil {
			spec = node(i)
		}
		spec.ID, spec.Ports = nodes[i].ID(), nodes[i].Ports()
		return spec
	}
	return New(opts)
}

// Alternation runs one at a time of clusters laid out on the same nodes
// (WithArgs). The zero value has none running.
type Alternation struct {
	running *Cluster
}

// Switch stops the running cluster's nodes (StopAll), starts c's and
// waits at most ready until they are ready; what names c in the error.
// When stopping fails, the running cluster stays the running one.
func (a *Alternation) Switch(ctx context.Context, c *Cluster, what string, ready time.Duration) error {
	if a.running != nil {
		if err := a.running.StopAll(ctx); err != nil {
			return err
		}
	}
	a.running = c
	if err := c.StartAll(); err != nil {
		return err
	}
	if _, err := Within(ctx, ready, c.WaitReady); err != nil {
		return fmt.Errorf("nodes (%s) not ready: %w\n%s", what, err, c.LogTails(15))
	}
	return nil
}

// Running is the cluster last switched to (nil before the first Switch).
func (a *Alternation) Running() *Cluster { return a.running }

// Close kills the running cluster's nodes (Cluster.Close).
func (a *Alternation) Close() {
	if a.running != nil {
		a.running.Close()
	}
}

// Nodes returns every node, in ID order n1, n2, ...
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Node returns the node with id, or nil.
func (c *Cluster) Node(id string) *Node {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// Up returns the nodes the driver has started and not killed or stopped
// since (whether or not they are still running: see Node.Err).
func (c *Cluster) Up() []*Node {
	var up []*Node
	for _, n := range c.nodes {
		if n.ExpectUp() {
			up = append(up, n)
		}
	}
	return up
}

// SMTPTargets lists the MX listeners of the nodes that are up.
func (c *Cluster) SMTPTargets() []Target {
	var out []Target
	for _, n := range c.Up() {
		out = append(out, n.SMTPTarget())
	}
	return out
}

// IMAPTargets lists the IMAP listeners of the nodes that are up.
func (c *Cluster) IMAPTargets() []Target {
	var out []Target
	for _, n := range c.Up() {
		out = append(out, n.IMAPTarget())
	}
	return out
}

// Dir is the directory holding the nodes' data and logs.
func (c *Cluster) Dir() string { return c.dir }

// Leader asks every node that should be up for its view once and returns
// the leader they all name; an error if any is down unexpectedly, cannot
// answer, or they disagree.
func (c *Cluster) Leader(ctx context.Context) (*Node, error) {
	return c.LeaderAmong(ctx, c.Up())
}

// LeaderAmong is Leader over some nodes only: one side of a partition,
// say. The leader they name must be up, not necessarily among them.
func (c *Cluster) LeaderAmong(ctx context.Context, nodes []*Node) (*Node, error) {
	if len(nodes) == 0 {
		return nil, errors.New("no node to ask")
	}
	var leader string
	for _, n := range nodes {
		if err := n.Err(); err != nil {
			return nil, err
		}
		st, err := n.Status(ctx)
		if err != nil {
			return nil, err
		}
		if st.Leader == "" {
			return nil, fmt.Errorf("%s knows no leader", n.id)
		}
		if leader != "" && st.Leader != leader {
			return nil, fmt.Errorf("no agreed leader: %s names %s, another names %s", n.id, st.Leader, leader)
		}
		leader = st.Leader
	}
	l := c.Node(leader)
	if l == nil {
		return nil, fmt.Errorf("leader %q is not a node of this cluster", leader)
	}
	if !l.ExpectUp() {
		return nil, fmt.Errorf("the nodes still name %s, which is down, as leader", leader)
	}
	return l, nil
}

// WaitLeader polls until every node that should be up names the same
// leader, which is up.
func (c *Cluster) WaitLeader(ctx context.Context) (*Node, error) {
	return poll(ctx, pollEvery, func() (*Node, error) { return c.Leader(ctx) }, exited)
}

// WaitLeaderAmong polls until nodes agree on a leader that is up.
func (c *Cluster) WaitLeaderAmong(ctx context.Context, nodes []*Node) (*Node, error) {
	return poll(ctx, pollEvery, func() (*Node, error) { return c.LeaderAmong(ctx, nodes) }, exited)
}

// ErrExited marks the error of a node that should be up but whose process
// has exited: waits end at once instead of running out their time.
var ErrExited = errors.New("exited unexpectedly")

func exited(err error) bool { return errors.Is(err, ErrExited) }

// WaitReady polls until every node that should be up answers /readyz with
// 200 and all agree on a leader, which it returns.
func (c *Cluster) WaitReady(ctx context.Context) (*Node, error) {
	return poll(ctx, settlePollTime, func() (*Node, error) {
		for _, n := range c.Up() {
			if err := n.Err(); err != nil {
				return nil, err
			}
			ok, err := n.Ready(ctx)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("%s is not ready", n.id)
			}
		}
		return c.Leader(ctx)
	}, exited)
}

// WaitNewLeader polls the nodes other than old every poll interval until
// one names a leader other than old, and returns that leader's id: how long
// a client is without a known leader after old stopped.
func (c *Cluster) WaitNewLeader(ctx context.Context, old *Node, poll time.Duration) (string, error) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		for _, n := range c.nodes {
			if n == old {
				continue
			}
			if st, err := n.Status(ctx); err == nil && st.Leader != "" && st.Leader != old.id {
				return st.Leader, nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return "", fmt.Errorf("proc: no leader other than %s: %w", old.id, ctx.Err())
		}
	}
}

// Digest is one node's GET /v1/digest.
type Digest struct {
	Node         string
	AppliedIndex uint64
	Digest       string
}

// DigestMismatchError reports nodes that applied the same index but project
// different states: a broken determinism invariant (docs/DESIGN.md invariant 2).
type DigestMismatchError struct {
	Digests []Digest
}

func (e *DigestMismatchError) Error() string {
	var b strings.Builder
	b.WriteString("digest mismatch at equal applied index:")
	for _, d := range e.Digests {
		fmt.Fprintf(&b, " %s@%d=%s", d.Node, d.AppliedIndex, d.Digest)
	}
	return b.String()
}

// WaitConverged polls until every node that should be up reports the same
// applied index, and returns their (equal) digest. Two nodes at the same
// index with different digests fail it at once with a
// *DigestMismatchError; a deadline passing returns the last digests seen.
func (c *Cluster) WaitConverged(ctx context.Context) (Digest, error) {
	var last []Digest
	d, err := poll(ctx, settlePollTime, func() (Digest, error) {
		last = last[:0]
		for _, n := range c.Up() {
			if err := n.Err(); err != nil {
				return Digest{}, err
			}
			d, err := n.Digest(ctx)
			if err != nil {
				return Digest{}, err
			}
			last = append(last, d)
		}
		if len(last) == 0 {
			return Digest{}, errors.New("no node is up")
		}
		// Any two nodes at the same index must agree, even while a third
		// is still catching up.
		for i, a := range last {
			for _, b := range last[i+1:] {
				if a.AppliedIndex == b.AppliedIndex && a.Digest != b.Digest {
					return Digest{}, &DigestMismatchError{Digests: append([]Digest(nil), last...)}
				}
			}
		}
		for _, d := range last[1:] {
			if d.AppliedIndex != last[0].AppliedIndex {
				return Digest{}, fmt.Errorf("applied indexes differ: %s", describeDigests(last))
			}
		}
		return last[0], nil
	}, exited, func(err error) bool {
		var mismatch *DigestMismatchError
		return errors.As(err, &mismatch)
	})
	return d, err
}

func describeDigests(ds []Digest) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		short := d.Digest
		if len(short) > 12 {
			short = short[:12]
		}
		parts[i] = fmt.Sprintf("%s@%d=%s", d.Node, d.AppliedIndex, short)
	}
	return strings.Join(parts, " ")
}

// AddUser creates a user with `surat user add EMAIL --password-stdin
// --server URL`, trying each node that should be up in turn until ctx
// ends. A failed attempt may still have committed (the CLI gave up during
// an election, say), after which every retry is refused because the user
// exists: so after a failure the user's existence counts as success.
func (c *Cluster) AddUser(ctx context.Context, email, password string) error {
	var last error
	for {
		for _, n := range c.Up() {
			err := n.CLI(ctx, password+"\n", "user", "add", email, "--password-stdin")
			if err == nil {
				return nil
			}
			last = err
			if ok, _ := n.userExists(ctx, email); ok {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("add user %s: %w (last: %w)", email, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LogTails returns the last lines of every node's log.
func (c *Cluster) LogTails(lines int) string {
	var b strings.Builder
	for _, n := range c.nodes {
		fmt.Fprintf(&b, "---- %s (%s)\n%s\n", n.id, n.logPath, n.LogTail(lines))
	}
	return b.String()
}

// ID is the node's --id.
func (n *Node) ID() string { return n.id }

// Host is the address the node's listeners bind.
func (n *Node) Host() string { return n.host }

// Ports are the node's listener ports.
func (n *Node) Ports() Ports { return n.ports }

func (n *Node) addr(port int) string { return net.JoinHostPort(n.host, strconv.Itoa(port)) }

// SMTPAddr is the node's MX listener.
func (n *Node) SMTPAddr() string { return n.addr(n.ports.SMTP) }

// IMAPAddr is the node's IMAP listener (STARTTLS).
func (n *Node) IMAPAddr() string { return n.addr(n.ports.IMAP) }

// POP3Addr is the node's POP3 listener (STLS).
func (n *Node) POP3Addr() string { return n.addr(n.ports.POP3) }

// GossipAddr is the node's memberlist address.
func (n *Node) GossipAddr() string { return n.addr(n.ports.Gossip) }

// RaftAddr is the node's Raft transport address.
func (n *Node) RaftAddr() string { return n.addr(n.ports.Raft) }

// SMTPTarget is the node's MX listener for the load generator.
func (n *Node) SMTPTarget() Target { return Target{Node: n.id, Addr: n.SMTPAddr(), Dial: n.dial} }

// IMAPTarget is the node's IMAP listener for the IMAP clients and checks.
func (n *Node) IMAPTarget() Target { return Target{Node: n.id, Addr: n.IMAPAddr(), Dial: n.dial} }

// HTTPURL is the base URL of the node's admin API: https off loopback,
// where a node serves it over TLS.
func (n *Node) HTTPURL() string {
	if ip := net.ParseIP(n.host); ip != nil && !ip.IsLoopback() {
		return "https://" + n.addr(n.ports.HTTP)
	}
	return "http://" + n.addr(n.ports.HTTP)
}

// MetricsURL is the node's Prometheus endpoint.
func (n *Node) MetricsURL() string { return n.HTTPURL() + "/metrics" }

// DataDir is the node's --data directory.
func (n *Node) DataDir() string { return n.dataDir }

// LogPath is the node's log file: stdout and stderr of every start,
// appended, each start preceded by a marker line.
func (n *Node) LogPath() string { return n.logPath }

// Args is the node's full command line (prefix, binary, serve flags).
func (n *Node) Args() []string { return append([]string(nil), n.argv...) }

// Start launches the node's process with its flags (the first start, or a
// restart on the same --data). It does not wait for the node to be ready.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.runningLocked() {
		return fmt.Errorf("start %s: already running (pid %d)", n.id, n.cmd.Process.Pid)
	}
	out, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: %w", n.id, err)
	}
	n.starts++
	fmt.Fprintf(out, "=== proc: start %d of %s at %s: %s\n",
		n.starts, n.id, time.Now().Format(time.RFC3339Nano), strings.Join(n.argv, " "))
	cmd := exec.Command(n.argv[0], n.argv[1:]...)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("start %s: %w", n.id, err)
	}
	done := make(chan struct{})
	n.cmd, n.done, n.exitErr, n.expectUp = cmd, done, nil, true
	go func() {
		err := cmd.Wait()
		out.Close()
		n.mu.Lock()
		n.exitErr = err
		n.mu.Unlock()
		close(done)
	}()
	return nil
}

// Restart starts the node again with the same flags and data; it must not
// be running.
func (n *Node) Restart() error { return n.Start() }

// Kill sends SIGKILL to the node's process group and waits until the
// process is reaped. A node that is not running is left alone.
func (n *Node) Kill() error {
	return n.signalAndWait(syscall.SIGKILL, killWait)
}

// Stop sends SIGTERM (a clean shutdown) and waits up to ctx for the
// process to exit; it is an error if it does not exit in time (it is then
// killed) or exits with a non-zero status.
func (n *Node) Stop(ctx context.Context) error {
	n.mu.Lock()
	if !n.runningLocked() {
		n.expectUp = false
		n.mu.Unlock()
		return nil
	}
	n.expectUp = false
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if err := signalGroup(cmd, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", n.id, err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		_ = n.Kill()
		return fmt.Errorf("stop %s: still running after SIGTERM: %w", n.id, ctx.Err())
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exitErr != nil {
		return fmt.Errorf("stop %s: exit after SIGTERM: %w", n.id, n.exitErr)
	}
	return nil
}

func (n *Node) signalAndWait(sig syscall.Signal, wait time.Duration) error {
	n.mu.Lock()
	n.expectUp = false
	if !n.runningLocked() {
		n.mu.Unlock()
		return nil
	}
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if err := signalGroup(cmd, sig); err != nil {
		return fmt.Errorf("signal %s %v: %w", n.id, sig, err)
	}
	select {
	case <-done:
		return nil
	case <-time.After(wait):
		return fmt.Errorf("%s still running %v after %v", n.id, wait, sig)
	}
}

// signalGroup signals the process group the node runs in (its own, see
// setProcAttr), so a prefix that forks cannot leave the server behind.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // exited meanwhile
	}
	return err
}

// Signal sends sig to the node's process group without waiting for it to
// exit (see Wait); the node no longer counts as up.
func (n *Node) Signal(sig syscall.Signal) error {
	n.mu.Lock()
	n.expectUp = false
	cmd := n.cmd
	n.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("signal %s: never started", n.id)
	}
	if err := signalGroup(cmd, sig); err != nil {
		return fmt.Errorf("signal %s %v: %w", n.id, sig, err)
	}
	return nil
}

// Wait waits (at most timeout) until the node's process has exited and
// returns its exit status (-1 when a signal ended it).
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
		return 0, fmt.Errorf("%s still running %v later", n.id, timeout)
	}
}

// PID is the running process's id; 0 when it is not running.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.runningLocked() {
		return 0
	}
	return n.cmd.Process.Pid
}

// Running reports whether the node's process is alive.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runningLocked()
}

func (n *Node) runningLocked() bool {
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

// ExpectUp reports whether the driver started the node and has not killed
// or stopped it since.
func (n *Node) ExpectUp() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.expectUp
}

// Err is non-nil when the node should be up but its process has exited.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.expectUp && n.cmd != nil && !n.runningLocked() {
		return fmt.Errorf("%s %w: %v (log: %s)", n.id, ErrExited, n.exitErr, n.logPath)
	}
	return nil
}

// Exited is closed when the current process exits (nil before the first
// start).
func (n *Node) Exited() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.done
}

// ClusterStatus is the body of GET /v1/cluster (docs/OPERATING.md): the
// driver reads the nodes as an operator does, through their documented
// endpoints, not the server's Go types.
type ClusterStatus struct {
	Leader  string `json:"leader"`
	Self    string `json:"self"`
	Members []struct {
		ID           string `json:"id"`
		State        string `json:"state"` // leader, follower, candidate, down
		AppliedIndex uint64 `json:"applied_index"`
	} `json:"members"`
}

// Status is the node's GET /v1/cluster.
func (n *Node) Status(ctx context.Context) (ClusterStatus, error) {
	var st ClusterStatus
	if err := n.api.get(ctx, "/v1/cluster", &st); err != nil {
		return st, fmt.Errorf("%s: /v1/cluster: %w", n.id, err)
	}
	return st, nil
}

// Ready reports whether the node's /readyz answers 200.
func (n *Node) Ready(ctx context.Context) (bool, error) {
	err := n.api.get(ctx, "/readyz", nil)
	switch {
	case err == nil:
		return true, nil
	case statusOf(err) == http.StatusServiceUnavailable:
		return false, nil
	default:
		return false, fmt.Errorf("%s: /readyz: %w", n.id, err)
	}
}

// Digest is the node's GET /v1/digest.
func (n *Node) Digest(ctx context.Context) (Digest, error) {
	var d struct {
		AppliedIndex uint64 `json:"applied_index"`
		Digest       string `json:"digest"`
	}
	if err := n.api.get(ctx, "/v1/digest", &d); err != nil {
		return Digest{}, fmt.Errorf("%s: /v1/digest: %w", n.id, err)
	}
	return Digest{Node: n.id, AppliedIndex: d.AppliedIndex, Digest: d.Digest}, nil
}

// CLI runs `surat ARGS... --server URL` against this node, under the
// node's prefix and environment, with stdin as standard input.
func (n *Node) CLI(ctx context.Context, stdin string, args ...string) error {
	argv := append(append(append([]string{}, n.prefix...), n.bin), args...)
	argv = append(argv, "--server", n.HTTPURL())
	if strings.HasPrefix(n.HTTPURL(), "https:") {
		// The node's self-signed certificate names its --http address.
		argv = append(argv, "--ca-file", filepath.Join(n.dataDir, "tls", "cert.pem"))
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), n.env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: surat %s: %w: %s", n.id, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// perMessageLogs are log lines written for every message or session; the
// tails printed on failure leave them out (the full log keeps them).
var perMessageLogs = [...]string{`msg="smtp delivered"`, `msg="imap append"`, `msg="imap login"`, `msg="pop3 login"`}

// LogTail returns the last lines of the node's log, leaving out the
// per-message lines (perMessageLogs) that would crowd out the rest.
func (n *Node) LogTail(lines int) string {
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if !slices.ContainsFunc(perMessageLogs[:], func(p string) bool { return strings.Contains(l, p) }) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-lines):], "\n")
}

// userExists asks the node's admin API whether a user exists.
func (n *Node) userExists(ctx context.Context, email string) (bool, error) {
	err := n.api.get(ctx, "/v1/users/"+url.PathEscape(email), nil)
	switch {
	case err == nil:
		return true, nil
	case statusOf(err) == http.StatusNotFound:
		return false, nil
	default:
		return false, fmt.Errorf("%s: user %s: %w", n.id, email, err)
	}
}

// poll calls f every interval until it succeeds, ctx ends (the last error
// is returned, wrapped), or stop says an error is final.
func poll[T any](ctx context.Context, interval time.Duration, f func() (T, error), stop ...func(error) bool) (T, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		v, err := f()
		if err == nil {
			return v, nil
		}
		for _, s := range stop {
			if s(err) {
				return v, err
			}
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Target is one node's listener, as load generators and checks see it
// (Node.SMTPTarget, Node.IMAPTarget).
type Target struct {
	Node string
	Addr string
	// Dial opens connections to Addr; nil: a plain net.Dialer.
	Dial DialFunc
}

// Connect connects to the target within timeout.
func (t Target) Connect(ctx context.Context, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := t.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s (%s): %w", t.Node, t.Addr, err)
	}
	return conn, nil
}

// Within runs wait (WaitReady, WaitConverged…) with at most d of ctx's
// time.
func Within[T any](ctx context.Context, d time.Duration, wait func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return wait(ctx)
}
