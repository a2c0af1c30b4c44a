//go:build faults && linux

package netns

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests build real namespaces and need root, ip and nft (Debian:
// iproute2, nftables). Run them with
//
//	go test -race -tags faults ./cluster/faults/netns/
//
// They skip when the machine cannot run them; set SURAT_NETNS_REQUIRED=1
// (in CI) to make that a failure instead.

const (
	echoPort = 7000
	// reachWait bounds a connection that must succeed: generous, since a
	// loaded machine can be slow and success ends the wait at once.
	reachWait = 10 * time.Second
	// blockedWait is how long a connection that must fail is given. Only a
	// network that passes traffic but takes longer than this could make the
	// test pass wrongly; it can never make it fail wrongly.
	blockedWait = time.Second
	// udpQuiet ends a count of datagrams (see udpCount).
	udpQuiet  = 300 * time.Millisecond
	helperEnv = "SURAT_NETNS_HELPER"
)

func requireNetns(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("SURAT_NETNS_REQUIRED") == "1" {
			t.Fatalf("SURAT_NETNS_REQUIRED=1 but %v", err)
		}
		t.Skipf("skipping namespace test: %v", err)
	}
}

func newTopology(t *testing.T, opts Options) *Topology {
	t.Helper()
	requireNetns(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	topo, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := topo.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return topo
}

// startEcho serves, on node's address, a TCP echo that first sends one line
// naming itself and the peer address it sees, so a test can tell a relayed
// connection (the relay's own port) from a direct one.
func startEcho(t *testing.T, topo *Topology, name, tag string, port int) {
	t.Helper()
	ln, err := topo.Listen(name, "tcp4", netip.AddrPortFrom(topo.Addr(name), uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		closed bool
		conns  = make(map[net.Conn]bool)
	)
	// Cleanup closes the open connections too: a peer that never hangs up
	// (a relay that is closed later) must not hold it up.
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed {
				c.Close()
			}
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
				}()
				defer c.Close()
				fmt.Fprintf(c, "%s %s\n", tag, c.RemoteAddr())
				io.Copy(c, c)
			})
		}
	})
}

// probeResult is one connection through an echo server.
type probeResult struct {
	tag   string         // the server's tag
	seen  netip.AddrPort // the client address the server saw
	local netip.AddrPort // the client's own address
	rtt   time.Duration  // from sending "ping" to reading it back
}

// probe connects from node from to the echo server on node to, reads its
// greeting and bounces one line off it, all within wait.
func probe(ctx context.Context, topo *Topology, from, to string, port int, wait time.Duration) (probeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	addr := netip.AddrPortFrom(topo.Addr(to), uint16(port)).String()
	c, err := topo.Dial(ctx, from, "tcp4", addr)
	if err != nil {
		return probeResult{}, err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	r := bufio.NewReader(c)
	greeting, err := r.ReadString('\n')
	if err != nil {
		return probeResult{}, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	var res probeResult
	tag, seen, _ := strings.Cut(strings.TrimSpace(greeting), " ")
	res.tag = tag
	if res.seen, err = netip.ParseAddrPort(seen); err != nil {
		return probeResult{}, fmt.Errorf("greeting %q: %w", greeting, err)
	}
	res.local = c.LocalAddr().(*net.TCPAddr).AddrPort()
	start := time.Now()
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return probeResult{}, err
	}
	if line, err := r.ReadString('\n'); err != nil || line != "ping\n" {
		return probeResult{}, fmt.Errorf("echo from %s: %q, %v", addr, line, err)
	}
	res.rtt = time.Since(start)
	return res, nil
}

// expectReach checks that from reaches to's echo server, or that it does not.
func expectReach(t *testing.T, topo *Topology, from, to string, want bool) {
	t.Helper()
	wait := blockedWait
	if want {
		wait = reachWait
	}
	_, err := probe(t.Context(), topo, from, to, echoPort, wait)
	switch {
	case want && err != nil:
		t.Errorf("%s → %s: %v, want connected", from, to, err)
	case !want && err == nil:
		t.Errorf("%s → %s connected, want blocked", from, to)
	}
}

func echoEverywhere(t *testing.T, topo *Topology) {
	t.Helper()
	for _, n := range topo.Nodes() {
		startEcho(t, topo, n, n, echoPort)
	}
}

// rootState is what must not change in the root namespace: interface
// names, IPv4 addresses and routes, and the nftables ruleset.
func rootState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"ip", "-o", "link", "show"},
		{"ip", "-o", "-4", "addr", "show"},
		{"ip", "-4", "route", "show", "table", "all"},
		{"nft", "list", "ruleset"},
	} {
		out, err := exec.CommandContext(t.Context(), args[0], args[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			switch args[2] {
			case "link":
				// Keep "N: name:" and the flags; counters and state move.
				if f := strings.Fields(line); len(f) >= 3 {
					line = strings.Join(f[:3], " ")
				}
			case "-4":
				// Drop the lifetimes, which count down on leased addresses.
				line, _, _ = strings.Cut(line, `\`)
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func TestTopologyLayout(t *testing.T) {
	requireNetns(t)
	before := rootState(t)
	topo := newTopology(t, Options{})
	if got, want := topo.Nodes(), []string{"h1", "h2", "h3", "c1"}; !slices.Equal(got, want) {
		t.Fatalf("nodes %v, want %v", got, want)
	}
	if got, want := topo.Hosts(), []string{"h1", "h2", "h3"}; !slices.Equal(got, want) {
		t.Fatalf("hosts %v, want %v", got, want)
	}
	wantAddr := map[string]string{"h1": "198.18.0.1", "h2": "198.18.0.2", "h3": "198.18.0.3", "c1": "198.18.0.100"}
	ipOut := func(args ...string) string {
		out, err := outputIP(t.Context(), args...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	for _, n := range topo.Nodes() {
		ns := topo.Namespace(n)
		if got := topo.Addr(n).String(); got != wantAddr[n] {
			t.Errorf("%s: Addr %s, want %s", n, got, wantAddr[n])
		}
		addrs := ipOut("-n", ns, "-o", "-4", "addr", "show")
		for _, want := range []string{"lo    inet 127.0.0.1/8", "eth0    inet " + wantAddr[n] + "/24"} {
			if !strings.Contains(addrs, want) {
				t.Errorf("%s: addresses\n%s\nlack %q", n, addrs, want)
			}
		}
		if lines := strings.Count(addrs, "\n") + 1; lines != 2 {
			t.Errorf("%s: %d IPv4 addresses, want 2:\n%s", n, lines, addrs)
		}
		if v6 := ipOut("-n", ns, "-6", "addr", "show"); v6 != "" {
			t.Errorf("%s: IPv6 addresses present:\n%s", n, v6)
		}
		routes := ipOut("-n", ns, "-4", "route", "show")
		if want := "198.18.0.0/24 dev eth0 proto kernel scope link src " + wantAddr[n]; routes != want {
			t.Errorf("%s: routes\n%s\nwant only %q (no default route)", n, routes, want)
		}
		if lo := ipOut("-n", ns, "-br", "link", "show", "lo"); !strings.Contains(lo, "UP") {
			t.Errorf("%s: loopback not up: %s", n, lo)
		}
	}
	sw := topo.Namespace("sw")
	ports := ipOut("-n", sw, "-o", "link", "show", "master", bridgeName)
	for _, n := range topo.Nodes() {
		if !strings.Contains(ports, " "+n+"@") {
			t.Errorf("switch port %s not on %s:\n%s", n, bridgeName, ports)
		}
	}
	if a := ipOut("-n", sw, "-o", "addr", "show"); strings.Contains(a, "inet") {
		t.Errorf("the switch has addresses:\n%s", a)
	}
	if during := rootState(t); during != before {
		t.Errorf("root namespace changed while the topology is up:\nbefore:\n%s\nduring:\n%s", before, during)
	}

	// Everything goes at Close, and a second Close is harmless.
	var names []string
	for _, n := range append(topo.Nodes(), "sw") {
		names = append(names, topo.Namespace(n))
	}
	if err := topo.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := topo.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	left, err := listNamespaces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range names {
		if left[ns] {
			t.Errorf("namespace %s left after Close", ns)
		}
	}
	if _, err := os.Stat(lockPath(topo.id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Close: %v", err)
	}
	if after := rootState(t); after != before {
		t.Errorf("root namespace changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if err := topo.Isolate(t.Context(), "h1"); !errors.Is(err, errClosed) {
		t.Errorf("Isolate after Close: %v, want errClosed", err)
	}
}

func TestConnectivity(t *testing.T) {
	topo := newTopology(t, Options{})
	echoEverywhere(t, topo)
	for _, from := range topo.Nodes() {
		for _, to := range topo.Nodes() {
			res, err := probe(t.Context(), topo, from, to, echoPort, reachWait)
			if err != nil {
				t.Errorf("%s → %s: %v", from, to, err)
				continue
			}
			if res.tag != to || res.seen.Addr() != topo.Addr(from) {
				t.Errorf("%s → %s: reached %s, which saw %s", from, to, res.tag, res.seen)
			}
		}
	}
}

// TestHTTPClient reaches an HTTP server in h1 from c1, as the cluster
// harness reaches a node's admin API.
func TestHTTPClient(t *testing.T) {
	topo := newTopology(t, Options{})
	ln, err := topo.Listen("h1", "tcp4", netip.AddrPortFrom(topo.Addr("h1"), 8080).String())
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s from %s", r.URL.Path, r.RemoteAddr)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	client := topo.HTTPClient("c1")
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://198.18.0.1:8080/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), "/readyz from 198.18.0.100:") {
		t.Errorf("answer %q: want the server to see c1's address", body)
	}
}

// TestCloseKillsStragglers: a process the caller left inside a namespace
// does not outlive Close.
func TestCloseKillsStragglers(t *testing.T) {
	topo := newTopology(t, Options{Hosts: 1})
	cmd, err := topo.Command(context.Background(), "h1", os.Args[0], "-test.run=^TestHelperProcess$")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), helperEnv+"=sleep")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if err := topo.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-exited:
		if err == nil {
			t.Fatal("the straggler exited cleanly, want killed")
		}
	case <-time.After(reachWait):
		t.Fatal("a process left in h1 still runs after Close")
	}
}

// TestParallelTopologies: two runs at once use the same addresses and
// interface names without seeing each other.
func TestParallelTopologies(t *testing.T) {
	a := newTopology(t, Options{Hosts: 2})
	b := newTopology(t, Options{Hosts: 2})
	startEcho(t, a, "h2", "A", echoPort)
	startEcho(t, b, "h2", "B", echoPort)
	for _, tc := range []struct {
		topo *Topology
		want string
	}{{a, "A"}, {b, "B"}} {
		res, err := probe(t.Context(), tc.topo, "h1", "h2", echoPort, reachWait)
		if err != nil {
			t.Fatalf("topology %s: %v", tc.want, err)
		}
		if res.tag != tc.want {
			t.Errorf("topology %s reached the echo server of %s", tc.want, res.tag)
		}
	}
}

func TestIsolateAndHeal(t *testing.T) {
	topo := newTopology(t, Options{})
	echoEverywhere(t, topo)
	expectReach(t, topo, "h1", "h2", true)
	if err := topo.Isolate(t.Context(), "h2"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, pair := range [][2]string{{"h1", "h2"}, {"h2", "h1"}, {"c1", "h2"}, {"h2", "h3"}} {
		wg.Go(func() { expectReach(t, topo, pair[0], pair[1], false) })
	}
	wg.Wait()
	expectReach(t, topo, "h1", "h3", true)
	expectReach(t, topo, "c1", "h1", true)
	if err := topo.Heal(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := topo.Heal(t.Context()); err != nil {
		t.Fatalf("second Heal: %v", err)
	}
	for _, pair := range [][2]string{{"h1", "h2"}, {"h2", "h1"}, {"c1", "h2"}} {
		expectReach(t, topo, pair[0], pair[1], true)
	}
	if err := topo.Isolate(t.Context(), "h9"); err == nil {
		t.Error("Isolate of an unknown node succeeded")
	}
}

func TestSplit(t *testing.T) {
	topo := newTopology(t, Options{})
	echoEverywhere(t, topo)
	tests := []struct {
		name   string
		groups [][]string
	}{
		{"minority", [][]string{{"h1"}, {"h2", "h3", "c1"}}},
		{"client with minority", [][]string{{"h1", "c1"}, {"h2", "h3"}}},
		{"three ways", [][]string{{"h1"}, {"h2"}, {"h3", "c1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := topo.Split(t.Context(), tc.groups...); err != nil {
				t.Fatal(err)
			}
			group := make(map[string]int)
			for gi, g := range tc.groups {
				for _, n := range g {
					group[n] = gi
				}
			}
			var wg sync.WaitGroup
			for _, from := range topo.Nodes() {
				for _, to := range topo.Nodes() {
					if from != to {
						wg.Go(func() { expectReach(t, topo, from, to, group[from] == group[to]) })
					}
				}
			}
			wg.Wait()
		})
	}
	if err := topo.Heal(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectReach(t, topo, "h1", "h2", true)
}

// udpCount sends n datagrams from from to to and counts what arrives. The
// receiver stops once all have come or nothing has for udpQuiet: on a veth a
// datagram takes microseconds, so one later than that (which this would miss)
// could only make a test pass wrongly, never fail wrongly.
func udpCount(t *testing.T, topo *Topology, from, to string, port, n int) int {
	t.Helper()
	rx, err := topo.ListenPacket(to, "udp4", netip.AddrPortFrom(topo.Addr(to), uint16(port)).String())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := topo.ListenPacket(from, "udp4", netip.AddrPortFrom(topo.Addr(from), 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(topo.Addr(to), uint16(port)))
	for i := range n {
		if _, err := tx.WriteTo([]byte(strconv.Itoa(i)), dst); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		// Pace the sends a little so the receiver's buffer never overflows:
		// only the switch may lose datagrams here.
		if i%20 == 19 {
			time.Sleep(time.Millisecond)
		}
	}
	got := 0
	buf := make([]byte, 64)
	for got < n {
		rx.SetReadDeadline(time.Now().Add(udpQuiet))
		if _, _, err := rx.ReadFrom(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return got
			}
			t.Fatalf("receive: %v", err)
		}
		got++
	}
	return got
}

func TestLoss(t *testing.T) {
	topo := newTopology(t, Options{})
	const n = 200
	if got := udpCount(t, topo, "h1", "h2", 9000, n); got != n {
		t.Fatalf("no loss set, yet %d of %d datagrams arrived", got, n)
	}

	if err := topo.Loss(t.Context(), 100); err != nil {
		t.Fatal(err)
	}
	if got := udpCount(t, topo, "h1", "h2", 9001, n); got != 0 {
		t.Errorf("100%% loss: %d of %d datagrams arrived", got, n)
	}

	if err := topo.Loss(t.Context(), 30); err != nil {
		t.Fatal(err)
	}
	got := udpCount(t, topo, "h1", "h2", 9002, n)
	t.Logf("30%% loss: %d of %d datagrams arrived", got, n)
	// 140 expected; 0 or n would be more than 10 standard deviations off.
	if got == 0 || got == n {
		t.Errorf("30%% loss: %d of %d datagrams arrived, want some but not all", got, n)
	}

	// One direction only: h1 → h2 is cut, h2 → h1 is whole.
	if err := topo.Loss(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if err := topo.LossBetween(t.Context(), "h1", "h2", 100); err != nil {
		t.Fatal(err)
	}
	if got := udpCount(t, topo, "h1", "h2", 9003, n); got != 0 {
		t.Errorf("h1→h2 100%% loss: %d of %d arrived", got, n)
	}
	if got := udpCount(t, topo, "h2", "h1", 9004, n); got != n {
		t.Errorf("h1→h2 100%% loss: %d of %d arrived from h2 to h1, want all", got, n)
	}
	if got := udpCount(t, topo, "h1", "h3", 9005, n); got != n {
		t.Errorf("h1→h2 100%% loss: %d of %d arrived from h1 to h3, want all", got, n)
	}

	// From one node to any.
	if err := topo.LossBetween(t.Context(), "h3", "", 100); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"h1", "c1"} {
		if got := udpCount(t, topo, "h3", to, 9006, n); got != 0 {
			t.Errorf("h3→any 100%% loss: %d of %d arrived at %s", got, n, to)
		}
	}

	if err := topo.Heal(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := udpCount(t, topo, "h1", "h2", 9007, n); got != n {
		t.Errorf("after Heal %d of %d datagrams arrived", got, n)
	}
	for _, bad := range []int{-1, 101} {
		if err := topo.Loss(t.Context(), bad); err == nil {
			t.Errorf("Loss(%d) accepted", bad)
		}
	}
}

// relayed reports whether the connection went through a relay: the server
// then sees the relay's port, not the client's.
func relayed(r probeResult) bool { return r.seen != r.local }

func TestDelay(t *testing.T) {
	topo := newTopology(t, Options{})
	echoEverywhere(t, topo)
	startEcho(t, topo, "h3", "h3-other", echoPort+1)
	mustProbe := func(from, to string, port int) probeResult {
		t.Helper()
		res, err := probe(t.Context(), topo, from, to, port, reachWait)
		if err != nil {
			t.Fatalf("%s → %s:%d: %v", from, to, port, err)
		}
		return res
	}
	if res := mustProbe("h1", "h2", echoPort); relayed(res) {
		t.Fatalf("relayed before any Delay: local %s, server saw %s", res.local, res.seen)
	}

	// A connection open before Delay is left alone: it must neither be
	// reset nor diverted (conntrack would pick it up mid-stream as new).
	before, err := topo.Dial(t.Context(), "h1", "tcp4", netip.AddrPortFrom(topo.Addr("h2"), echoPort).String())
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	before.SetDeadline(time.Now().Add(time.Minute))
	beforeR := bufio.NewReader(before)
	if _, err := beforeR.ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	const d = 100 * time.Millisecond
	if err := topo.Delay(t.Context(), DelaySpec{From: "h1", Delay: d}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		line := fmt.Sprintf("still here %d\n", i)
		if _, err := io.WriteString(before, line); err != nil {
			t.Fatalf("connection opened before Delay: write: %v", err)
		}
		if got, err := beforeR.ReadString('\n'); err != nil || got != line {
			t.Fatalf("connection opened before Delay: echo %q, %v", got, err)
		}
	}
	res := mustProbe("h1", "h2", echoPort)
	if !relayed(res) || res.seen.Addr() != topo.Addr("h1") {
		t.Fatalf("not relayed from h1's address: local %s, server saw %s", res.local, res.seen)
	}
	// One way each: ping there and its echo back.
	if res.rtt < 2*d {
		t.Errorf("round trip %v through a %v delay, want at least %v", res.rtt, d, 2*d)
	}
	t.Logf("round trip with %v each way: %v", d, res.rtt)
	if res := mustProbe("h2", "h1", echoPort); relayed(res) {
		t.Errorf("h2 → h1 relayed, but only h1's connections are delayed")
	}

	// A megabyte each way arrives whole and in order.
	c, err := topo.Dial(t.Context(), "h1", "tcp4", netip.AddrPortFrom(topo.Addr("h2"), echoPort).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1<<20)
	rand.Read(payload)
	go func() {
		if _, err := c.Write(payload); err != nil {
			t.Errorf("send: %v", err)
		}
	}()
	echoed := make([]byte, len(payload))
	if _, err := io.ReadFull(r, echoed); err != nil {
		t.Fatalf("echo of 1 MiB through the relay: %v", err)
	}
	if !bytes.Equal(echoed, payload) {
		t.Fatal("1 MiB came back through the relay changed")
	}

	// Restricted to h3's second port.
	if err := topo.Delay(t.Context(), DelaySpec{From: "h2", To: []string{"h3"}, Ports: []uint16{echoPort + 1}, Delay: d}); err != nil {
		t.Fatal(err)
	}
	if res := mustProbe("h2", "h3", echoPort); relayed(res) {
		t.Error("h2 → h3:7000 relayed, but only port 7001 is delayed")
	}
	if res := mustProbe("h2", "h1", echoPort); relayed(res) {
		t.Error("h2 → h1 relayed, but only h3 is delayed")
	}
	if res := mustProbe("h2", "h3", echoPort+1); !relayed(res) || res.rtt < 2*d {
		t.Errorf("h2 → h3:7001: relayed %v, round trip %v; want relayed, at least %v", relayed(res), res.rtt, 2*d)
	}

	// Heal: new connections go direct; the one already relayed lives on.
	if err := topo.Heal(t.Context()); err != nil {
		t.Fatal(err)
	}
	if res := mustProbe("h1", "h2", echoPort); relayed(res) {
		t.Error("relayed after Heal")
	}
	if _, err := io.WriteString(c, "after heal\n"); err != nil {
		t.Fatalf("relayed connection after Heal: %v", err)
	}
	if line, err := r.ReadString('\n'); err != nil || line != "after heal\n" {
		t.Fatalf("relayed connection after Heal: %q, %v", line, err)
	}

	for _, spec := range []DelaySpec{
		{From: "h9", Delay: d},
		{From: "h1", To: []string{"h1"}, Delay: d},
		{From: "h1", Delay: -d},
	} {
		if err := topo.Delay(t.Context(), spec); err == nil {
			t.Errorf("Delay(%+v) accepted", spec)
		}
	}
}

// TestCommandRunsInNamespace runs a real process through Command: it sees
// only c1's interface and reaches h1's echo server from c1's address.
func TestCommandRunsInNamespace(t *testing.T) {
	topo := newTopology(t, Options{})
	startEcho(t, topo, "h1", "h1", echoPort)
	cmd, err := topo.Command(t.Context(), "c1", os.Args[0], "-test.run=^TestHelperProcess$")
	if err != nil {
		t.Fatal(err)
	}
	target := netip.AddrPortFrom(topo.Addr("h1"), echoPort).String()
	cmd.Env = append(os.Environ(), helperEnv+"=dial "+target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper in c1: %v\n%s", err, out)
	}
	var report helperReport
	if err := json.Unmarshal(reportLine(out), &report); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if want := []string{"127.0.0.1/8", "198.18.0.100/24"}; !slices.Equal(report.Addrs, want) {
		t.Errorf("addresses in c1: %v, want %v", report.Addrs, want)
	}
	if !strings.HasPrefix(report.Greeting, "h1 198.18.0.100:") {
		t.Errorf("greeting %q: want h1's server to see c1's address", report.Greeting)
	}
	if _, err := topo.Command(t.Context(), "h9", "true"); err == nil {
		t.Error("Command in an unknown node succeeded")
	}
}

// TestLeftoversRemoved kills a process that owns a topology (and has a
// child inside it) and checks that the next run removes all of it.
func TestLeftoversRemoved(t *testing.T) {
	requireNetns(t)
	helper := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$")
	helper.Env = append(os.Environ(), helperEnv+"=leftover")
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	var line []byte
	for lines := bufio.NewScanner(stdout); line == nil && lines.Scan(); {
		line = reportLine(lines.Bytes())
	}
	var report helperReport
	if err := json.Unmarshal(line, &report); err != nil {
		t.Fatalf("helper output %q: %v", line, err)
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()

	existing, err := listNamespaces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range report.Namespaces {
		if !existing[ns] {
			t.Fatalf("namespace %s already gone: the helper did not leave anything behind", ns)
		}
	}
	if !processAlive(report.ChildPid) {
		t.Fatalf("the helper's child %d is not running", report.ChildPid)
	}

	if err := RemoveLeftovers(t.Context(), nil); err != nil {
		t.Fatalf("RemoveLeftovers: %v", err)
	}
	existing, err = listNamespaces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range report.Namespaces {
		if existing[ns] {
			t.Errorf("namespace %s left after RemoveLeftovers", ns)
		}
	}
	if _, err := os.Stat(lockPath(report.Run)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file of the dead run: %v", err)
	}
	deadline := time.Now().Add(reachWait)
	for processAlive(report.ChildPid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d in a leftover namespace still runs", report.ChildPid)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A live run is never taken for a leftover.
	live := newTopology(t, Options{Hosts: 1})
	if err := RemoveLeftovers(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	existing, err = listNamespaces(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !existing[live.Namespace("h1")] || !existing[live.Namespace("sw")] {
		t.Error("RemoveLeftovers removed a live topology")
	}
}

// processAlive reports whether pid runs (a zombie has finished).
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

type helperReport struct {
	Addrs      []string `json:",omitempty"`
	Greeting   string   `json:",omitempty"`
	Run        string   `json:",omitempty"`
	Namespaces []string `json:",omitempty"`
	ChildPid   int      `json:",omitempty"`
}

// reportLine is the helper's JSON line among the test binary's own output.
func reportLine(out []byte) []byte {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("{")) {
			return line
		}
	}
	return nil
}

// TestHelperProcess is not a test: the tests above start the test binary
// again in one of these modes.
func TestHelperProcess(t *testing.T) {
	mode, arg, _ := strings.Cut(os.Getenv(helperEnv), " ")
	var report helperReport
	switch mode {
	case "":
		return
	case "dial":
		// Runs inside a node: report its addresses and one greeting.
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			report.Addrs = append(report.Addrs, a.String())
		}
		slices.Sort(report.Addrs)
		c, err := net.DialTimeout("tcp4", arg, reachWait)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(reachWait))
		greeting, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		report.Greeting = strings.TrimSpace(greeting)
	case "leftover":
		// Owns a topology with a process inside, then waits to be killed.
		topo, err := New(t.Context(), Options{Hosts: 1})
		if err != nil {
			t.Fatal(err)
		}
		child, err := topo.Command(context.Background(), "h1", os.Args[0], "-test.run=^TestHelperProcess$")
		if err != nil {
			t.Fatal(err)
		}
		child.Env = append(os.Environ(), helperEnv+"=sleep")
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		report.Run = topo.id
		for _, n := range append(topo.Nodes(), "sw") {
			report.Namespaces = append(report.Namespaces, topo.Namespace(n))
		}
		report.ChildPid = child.Process.Pid
		// Killed long before this ends; the sleep keeps the helper from
		// reaching Close.
		defer time.Sleep(10 * time.Minute)
	case "sleep":
		time.Sleep(10 * time.Minute)
		return
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
	out, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.Write(append(out, '\n'))
}
