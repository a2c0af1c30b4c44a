//go:build linux

package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

const (
	// SubnetCIDR is the only range the topology addresses. 198.18.0.0/15 is
	// reserved for benchmarking (RFC 2544), so it never clashes with a real
	// network the namespaces could otherwise shadow.
	SubnetCIDR = "198.18.0.0/24"

	// namePrefix starts every namespace this package creates; RemoveLeftovers
	// looks only at names with it.
	namePrefix = "surat-nt-"
	// switchNode is the node name of the namespace holding the bridge.
	switchNode = "sw"
	bridgeName = "br0"
	// nodeIface is the one interface of every node namespace.
	nodeIface = "eth0"
	// netnsRunDir is where `ip netns add` mounts named namespaces (fixed in
	// iproute2).
	netnsRunDir = "/run/netns"
	// lockDir holds one flocked file per live run. It is fixed, not an
	// option: a run looking in another directory would take every live run
	// for a leftover and delete it.
	lockDir = "/run/surat-netns"

	firstHostOctet   = 1
	firstClientOctet = 100
	maxHosts         = 99
	maxClients       = 154 // .100 to .253
)

// Options shapes a topology. The zero value gives three hosts and one client.
type Options struct {
	// Hosts is the number of host namespaces h1…hN (addresses .1…); 3 if 0.
	Hosts int
	// Clients is the number of client namespaces c1…cM (addresses .100…); 1
	// if 0.
	Clients int
	// Logger receives what the topology does and every relay error; discarded
	// if nil.
	Logger *slog.Logger
}

// node is one namespace attached to the switch.
type node struct {
	name string // "h1", "c1": also the switch port's name
	ns   string // the namespace's name under /run/netns
	addr netip.Addr
}

// Topology is one run's namespaces, bridge and faults. Its methods are safe
// for concurrent use.
type Topology struct {
	id     string
	log    *slog.Logger
	swNS   string
	nodes  []*node // hosts, then clients
	byName map[string]*node
	lock   *runLock

	// mu serialises fault changes and guards the fields below.
	mu     sync.Mutex
	closed bool
	faults faultState
	delays map[string]map[string]delayRule // from node → to node → rule
	relays map[string]*relay               // from node → its relay
}

// Available reports why this process cannot build topologies (not root, or
// `ip` or `nft` missing), or nil if it can.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("netns: network namespaces need root (effective uid %d)", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("netns: iproute2's ip is not installed (apt-get install iproute2): %w", err)
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return fmt.Errorf("netns: nft is not installed (apt-get install nftables): %w", err)
	}
	return nil
}

// New removes the leftovers of dead runs, then creates a fresh topology. The
// caller must Close it; ctx bounds only the set-up.
func New(ctx context.Context, opts Options) (*Topology, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if opts.Hosts == 0 {
		opts.Hosts = 3
	}
	if opts.Clients == 0 {
		opts.Clients = 1
	}
	if opts.Hosts < 1 || opts.Hosts > maxHosts || opts.Clients < 1 || opts.Clients > maxClients {
		return nil, fmt.Errorf("netns: %d hosts and %d clients: want 1–%d hosts and 1–%d clients",
			opts.Hosts, opts.Clients, maxHosts, maxClients)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := probeNetStack(); err != nil {
		return nil, err
	}
	if err := RemoveLeftovers(ctx, log); err != nil {
		return nil, err
	}

	var random [4]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, fmt.Errorf("netns: run id: %w", err)
	}
	// The pid says which process owned a leftover; the random part keeps a
	// reused pid from producing a name that is already taken.
	id := fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(random[:]))
	lock, err := acquireRunLock(id)
	if err != nil {
		return nil, err
	}
	t := &Topology{
		id:     id,
		log:    log.With("netns_run", id),
		swNS:   namespaceName(id, switchNode),
		byName: make(map[string]*node),
		lock:   lock,
		delays: make(map[string]map[string]delayRule),
		relays: make(map[string]*relay),
	}
	addNode := func(name string, octet int) {
		n := &node{name: name, ns: namespaceName(id, name), addr: netip.AddrFrom4([4]byte{198, 18, 0, byte(octet)})}
		t.nodes = append(t.nodes, n)
		t.byName[name] = n
	}
	for i := range opts.Hosts {
		addNode(fmt.Sprintf("h%d", i+1), firstHostOctet+i)
	}
	for i := range opts.Clients {
		addNode(fmt.Sprintf("c%d", i+1), firstClientOctet+i)
	}
	if err := t.build(ctx); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	t.log.Info("netns topology up", "switch", t.swNS, "nodes", len(t.nodes))
	return t, nil
}

// probeNetStack makes the net package probe IPv6 support now, from the root
// namespace. It probes once per process, on the first wildcard listen; were
// that inside a node (where IPv6 is off), the whole process would believe it
// has no IPv6.
func probeNetStack() error {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		return fmt.Errorf("netns: probe the network stack: %w", err)
	}
	return ln.Close()
}

func namespaceName(id, node string) string { return namePrefix + id + "-" + node }

// build creates the switch, then every node and its veth pair.
func (t *Topology) build(ctx context.Context) error {
	if err := t.addNamespace(ctx, t.swNS); err != nil {
		return err
	}
	// The bridge forwards at once: STP is off by default, so ports skip the
	// listening and learning states.
	if err := runIP(ctx, "-n", t.swNS, "link", "add", bridgeName, "type", "bridge"); err != nil {
		return err
	}
	if err := runIP(ctx, "-n", t.swNS, "link", "set", bridgeName, "up"); err != nil {
		return err
	}
	for _, n := range t.nodes {
		if err := t.addNamespace(ctx, n.ns); err != nil {
			return err
		}
		// Both ends are created directly in their namespaces: nothing ever
		// appears in the root namespace, even for a moment.
		steps := [][]string{
			{"-n", t.swNS, "link", "add", n.name, "type", "veth", "peer", "name", nodeIface, "netns", n.ns},
			{"-n", t.swNS, "link", "set", n.name, "master", bridgeName, "up"},
			{"-n", n.ns, "link", "set", "lo", "up"},
			{"-n", n.ns, "addr", "add", n.addr.String() + "/24", "dev", nodeIface},
			{"-n", n.ns, "link", "set", nodeIface, "up"},
		}
		for _, args := range steps {
			if err := runIP(ctx, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// addNamespace creates a namespace with IPv6 off, so the only addresses in
// the topology are the ones in SubnetCIDR and no router solicitations or
// MLD reports cross the switch.
func (t *Topology) addNamespace(ctx context.Context, ns string) error {
	if err := runIP(ctx, "netns", "add", ns); err != nil {
		return err
	}
	return inNamespace(ns, func() error {
		for _, key := range []string{"all", "default"} {
			path := "/proc/sys/net/ipv6/conf/" + key + "/disable_ipv6"
			err := os.WriteFile(path, []byte("1"), 0)
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a kernel without IPv6: nothing to turn off
			}
			if err != nil {
				return fmt.Errorf("netns: disable IPv6 in %s: %w", ns, err)
			}
		}
		return nil
	})
}

// Nodes lists the node names, hosts first ("h1", "h2", "h3", "c1").
func (t *Topology) Nodes() []string {
	names := make([]string, len(t.nodes))
	for i, n := range t.nodes {
		names[i] = n.name
	}
	return names
}

// Hosts lists the host node names ("h1", "h2", "h3").
func (t *Topology) Hosts() []string {
	var names []string
	for _, n := range t.nodes {
		if strings.HasPrefix(n.name, "h") {
			names = append(names, n.name)
		}
	}
	return names
}

// Addr is node's address, or the zero (invalid) Addr for an unknown node.
func (t *Topology) Addr(name string) netip.Addr {
	if n, ok := t.byName[name]; ok {
		return n.addr
	}
	return netip.Addr{}
}

// Namespace is the name of node's namespace (for `ip netns exec`), or "" for
// an unknown node. "sw" names the switch.
func (t *Topology) Namespace(name string) string {
	if name == switchNode {
		return t.swNS
	}
	if n, ok := t.byName[name]; ok {
		return n.ns
	}
	return ""
}

func (t *Topology) node(name string) (*node, error) {
	n, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("netns: unknown node %q (have %s)", name, strings.Join(t.Nodes(), ", "))
	}
	return n, nil
}

// Close stops the relays, kills any process still inside the namespaces,
// deletes the namespaces (which removes their interfaces, the bridge and every
// rule) and releases the run's lock. It is idempotent.
func (t *Topology) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	relays := t.relays
	t.relays = nil
	t.mu.Unlock()

	var errs []error
	for _, r := range relays {
		r.close()
	}
	// Close must finish even when the test's context is already cancelled.
	ctx := context.Background()
	namespaces := []string{t.swNS}
	for _, n := range t.nodes {
		namespaces = append(namespaces, n.ns)
	}
	errs = append(errs, removeNamespaces(ctx, t.log, namespaces))
	errs = append(errs, t.lock.release())
	t.log.Info("netns topology removed")
	return errors.Join(errs...)
}

// removeNamespaces kills what still runs in each existing namespace and
// deletes it. Missing namespaces are not an error: removal is idempotent.
func removeNamespaces(ctx context.Context, log *slog.Logger, namespaces []string) error {
	existing, err := listNamespaces(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ns := range namespaces {
		if !existing[ns] {
			continue
		}
		if err := killNamespacePids(ctx, log, ns); err != nil {
			errs = append(errs, err)
		}
		if err := runIP(ctx, "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// killNamespacePids SIGKILLs every process whose network namespace is ns.
// Only processes started inside this package's namespaces can be there (a
// node the harness did not stop, a helper): left alive they would keep the
// namespace, its veths and its addresses alive without a name.
func killNamespacePids(ctx context.Context, log *slog.Logger, ns string) error {
	out, err := outputIP(ctx, "netns", "pids", ns)
	if err != nil {
		return err
	}
	var errs []error
	for _, field := range strings.Fields(out) {
		var pid int
		if _, err := fmt.Sscan(field, &pid); err != nil {
			return fmt.Errorf("netns: pids of %s: %q: %w", ns, field, err)
		}
		if pid == os.Getpid() {
			// Only a thread of ours was ever inside; never kill ourselves.
			continue
		}
		log.Warn("netns: killing process left in namespace", "namespace", ns, "pid", pid)
		p, err := os.FindProcess(pid)
		if err == nil {
			err = p.Kill()
		}
		if err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("netns: kill pid %d in %s: %w", pid, ns, err))
		}
	}
	return errors.Join(errs...)
}

// listNamespaces returns the names `ip netns list` knows.
func listNamespaces(ctx context.Context) (map[string]bool, error) {
	out, err := outputIP(ctx, "netns", "list")
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool)
	for _, line := range strings.Split(out, "\n") {
		// "name (id: 3)" or just "name".
		if fields := strings.Fields(line); len(fields) > 0 {
			names[fields[0]] = true
		}
	}
	return names, nil
}

// RemoveLeftovers deletes the namespaces (and kills the processes in them) of
// every run whose owner died without Close, and their stale lock files. Live
// runs, in this process or another, hold their lock and are left alone.
func RemoveLeftovers(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	existing, err := listNamespaces(ctx)
	if err != nil {
		return err
	}
	byRun := make(map[string][]string)
	for ns := range existing {
		rest, ok := strings.CutPrefix(ns, namePrefix)
		cut := strings.LastIndexByte(rest, '-')
		if !ok || cut <= 0 {
			continue
		}
		byRun[rest[:cut]] = append(byRun[rest[:cut]], ns)
	}
	// A lock file without namespaces is a run that died during New.
	locks, err := filepath.Glob(filepath.Join(lockDir, "*.lock"))
	if err != nil {
		return fmt.Errorf("netns: list %s: %w", lockDir, err)
	}
	for _, path := range locks {
		id := strings.TrimSuffix(filepath.Base(path), ".lock")
		if _, ok := byRun[id]; !ok {
			byRun[id] = nil
		}
	}
	ids := make([]string, 0, len(byRun))
	for id := range byRun {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		stale, err := claimDeadRun(id)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if stale == nil {
			continue // alive
		}
		namespaces := byRun[id]
		sort.Strings(namespaces)
		if len(namespaces) > 0 {
			log.Warn("netns: removing leftovers of a dead run", "netns_run", id, "namespaces", namespaces)
		}
		err = removeNamespaces(ctx, log, namespaces)
		errs = append(errs, err)
		if err == nil {
			// The lock file goes last, and only once the namespaces are
			// gone, so a failed removal is retried by the next run.
			errs = append(errs, stale.release())
		} else {
			errs = append(errs, stale.unlock())
		}
	}
	return errors.Join(errs...)
}
