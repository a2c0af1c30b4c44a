//go:build linux

package netns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// delayTable is the nat table in a delayed node's namespace.
	delayTable = "surat_delay"
	delayChain = "redirect_out"
	// relayMark is set (SO_MARK) on the relay's own outgoing connections so
	// the redirect rule lets them through instead of sending them back to
	// the relay.
	relayMark = 0x53524c59 // "SRLY"
	// relayDialTimeout bounds the relay's connect to the real destination:
	// the client's connect already succeeded (to the relay), so a
	// destination behind a partition shows up as a reset after this long.
	relayDialTimeout = 10 * time.Second
)

// DelaySpec delays new TCP connections opened by one node.
type DelaySpec struct {
	// From is the node whose outgoing connections are delayed.
	From string
	// To lists the destination nodes; empty means every other node.
	To []string
	// Ports restricts the destination ports; empty means every port.
	Ports []uint16
	// Delay is added to every chunk in each direction, counted from the
	// chunk's arrival at the relay, so a request/response round trip gains
	// 2×Delay and a stream is not slowed by more than Delay. 0 removes the
	// delay from From to To.
	Delay time.Duration
}

// delayRule is the delay from one node to one destination.
type delayRule struct {
	delay time.Duration
	ports []uint16
}

// Delay starts delaying the TCP connections spec.From opens to spec.To from
// now on. Connections already open are not affected (the redirect is decided
// when a connection starts), and UDP never is. A later Delay for the same
// From and To replaces the rule; connections already relayed take the new
// delay for their next chunk.
func (t *Topology) Delay(ctx context.Context, spec DelaySpec) error {
	from, err := t.node(spec.From)
	if err != nil {
		return err
	}
	if spec.Delay < 0 {
		return fmt.Errorf("netns: delay %v: want ≥ 0", spec.Delay)
	}
	to := spec.To
	if len(to) == 0 {
		for _, n := range t.nodes {
			if n != from {
				to = append(to, n.name)
			}
		}
	}
	for _, name := range to {
		if name == spec.From {
			return fmt.Errorf("netns: delay from %s to itself: loopback traffic never reaches the relay", name)
		}
		if _, err := t.node(name); err != nil {
			return err
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	next := maps.Clone(t.delays[from.name])
	if next == nil {
		next = make(map[string]delayRule)
	}
	for _, name := range to {
		if spec.Delay == 0 {
			delete(next, name)
		} else {
			next[name] = delayRule{delay: spec.Delay, ports: slices.Clone(spec.Ports)}
		}
	}
	r := t.relays[from.name]
	if r == nil {
		r = newRelay(from.name, from.ns, t.log, t.delayLookup(from.name))
		t.relays[from.name] = r
	}
	port := 0
	if len(next) > 0 {
		if port, err = r.listen(); err != nil {
			return err
		}
	}
	if err := runNFT(ctx, from.ns, t.renderDelay(next, port)); err != nil {
		return fmt.Errorf("netns: load delay rules in %s: %w", from.name, err)
	}
	if len(next) == 0 {
		delete(t.delays, from.name)
		r.stopListening()
	} else {
		t.delays[from.name] = next
	}
	t.log.Info("netns: delay", "from", from.name, "to", to, "ports", spec.Ports, "delay", spec.Delay)
	return nil
}

// clearDelays removes every redirect rule (the chains and their ct rule stay, see
// renderDelay) and stops accepting new relayed connections. Relayed connections stay open: their lookups now find no
// rule, so they flow without delay until they end or Close.
func (t *Topology) clearDelays(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(t.delays)) {
		if err := runNFT(ctx, t.byName[name].ns, t.renderDelay(nil, 0)); err != nil {
			errs = append(errs, fmt.Errorf("netns: remove delay rules in %s: %w", name, err))
			continue
		}
		delete(t.delays, name)
	}
	for _, r := range t.relays {
		r.stopListening()
	}
	return errors.Join(errs...)
}

// delayLookup returns the function a relay in from asks, per chunk, how
// long to hold data for dst.
func (t *Topology) delayLookup(from string) func(dst netip.Addr) time.Duration {
	return func(dst netip.Addr) time.Duration {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, n := range t.nodes {
			if n.addr == dst {
				return t.delays[from][n.name].delay
			}
		}
		return 0
	}
}

// renderDelay is the nft script that sets from's redirect rules.
//
// Connections already relayed must survive a change of rules (Heal keeps
// them open), and they keep their NAT binding only while conntrack runs in
// the namespace, which is only while some rule uses it: when the last NAT or
// ct expression goes, the kernel stops tracking, the client's next packet
// leaves un-translated for the real server and is answered with a reset. So
// the chain is never deleted and always keeps one ct rule (the one that lets
// the relay's own connections pass); only the redirect rules after it change.
func (t *Topology) renderDelay(rules map[string]delayRule, relayPort int) string {
	var b strings.Builder
	// Declaring an existing table or chain is a no-op, so this creates them
	// once; flushing and refilling the chain in the same script swaps the
	// rules in one transaction, in which the new ct rule takes its conntrack
	// reference before the old one drops its own.
	fmt.Fprintf(&b, "table ip %s {\n\tchain %s {\n", delayTable, delayChain)
	b.WriteString("\t\ttype nat hook output priority -100; policy accept;\n\t}\n}\n")
	fmt.Fprintf(&b, "flush chain ip %s %s\n", delayTable, delayChain)
	add := func(format string, args ...any) {
		fmt.Fprintf(&b, "add rule ip %s %s "+format+"\n", append([]any{delayTable, delayChain}, args...)...)
	}
	// Only a connection's first packet reaches a nat chain, so "ct state
	// new" always holds here: it is in the rule for its conntrack reference.
	add("ct state new meta mark %#x return", relayMark)
	for _, n := range t.nodes {
		rule, ok := rules[n.name]
		if !ok {
			continue
		}
		// Only a SYN may start a redirected connection: conntrack picks
		// up connections that were established before it was loaded
		// (nf_conntrack_tcp_loose) as new on their next packet, and
		// redirecting that mid-stream packet reset them.
		match := "tcp flags & (syn | ack) == syn"
		if len(rule.ports) > 0 {
			ports := make([]string, len(rule.ports))
			for i, p := range rule.ports {
				ports[i] = fmt.Sprint(p)
			}
			match += " tcp dport { " + strings.Join(ports, ", ") + " }"
		}
		// For locally generated packets `redirect` rewrites the
		// destination to 127.0.0.1, where the relay listens.
		add("ip daddr %s %s redirect to :%d", n.addr, match, relayPort)
	}
	return b.String()
}

// relay accepts the connections one node's redirect rule diverts, dials
// their original destinations from the same namespace and copies bytes
// with a delay. It runs in the test process: its sockets were created inside
// the node's namespace (see inNamespace), so it dies with the test and can
// never outlive it.
type relay struct {
	node     string
	ns       string
	log      *slog.Logger
	delayFor func(dst netip.Addr) time.Duration
	ctx      context.Context
	cancel   context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newRelay(node, ns string, log *slog.Logger, delayFor func(netip.Addr) time.Duration) *relay {
	ctx, cancel := context.WithCancel(context.Background())
	return &relay{
		node: node, ns: ns, log: log.With("node", node), delayFor: delayFor,
		ctx: ctx, cancel: cancel, conns: make(map[net.Conn]struct{}),
	}
}

// listen starts accepting on 127.0.0.1 inside the node, if not already, and
// returns the port.
func (r *relay) listen() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errClosed
	}
	if r.ln == nil {
		var ln net.Listener
		err := inNamespace(r.ns, func() error {
			var err error
			ln, err = net.Listen("tcp4", "127.0.0.1:0")
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("netns: relay listener in %s: %w", r.node, err)
		}
		r.ln = ln
		r.wg.Add(1)
		go r.serve(ln)
	}
	return r.ln.Addr().(*net.TCPAddr).Port, nil
}

// stopListening closes the listener; relayed connections go on.
func (r *relay) stopListening() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ln != nil {
		r.ln.Close() // its only error would be "already closed"
		r.ln = nil
	}
}

// close stops the relay and every connection through it, and waits for its
// goroutines.
func (r *relay) close() {
	r.stopListening()
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

func (r *relay) serve(ln net.Listener) {
	defer r.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				r.log.Error("netns: relay accept", "err", err)
			}
			return
		}
		r.wg.Add(1)
		go r.handle(c.(*net.TCPConn))
	}
}

// track registers c so close can reach it; false once the relay is closed.
func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close() // both directions are done; a second Close is harmless
}

func (r *relay) handle(in *net.TCPConn) {
	defer r.wg.Done()
	if !r.track(in) {
		in.Close()
		return
	}
	defer r.untrack(in)
	dst, err := originalDst(in)
	if err != nil {
		r.log.Error("netns: relay", "remote", in.RemoteAddr().String(), "err", err)
		resetConn(in)
		return
	}
	if dst.Addr().IsLoopback() {
		// Not redirected: someone connected to the relay port itself.
		resetConn(in)
		return
	}
	d := &net.Dialer{Timeout: relayDialTimeout, Control: markSocket}
	var out net.Conn
	err = inNamespace(r.ns, func() error {
		var err error
		out, err = d.DialContext(r.ctx, "tcp4", dst.String())
		return err
	})
	if err != nil {
		// A reset is the closest the relay can come to the refusal or
		// timeout the client would have seen without it.
		r.log.Info("netns: relay dial", "remote", dst.String(), "err", err)
		resetConn(in)
		return
	}
	if !r.track(out) {
		out.Close()
		return
	}
	defer r.untrack(out)
	delay := func() time.Duration { return r.delayFor(dst.Addr()) }
	var wg sync.WaitGroup
	for _, p := range [][2]net.Conn{{out, in}, {in, out}} {
		wg.Go(func() {
			err := delayedCopy(r.ctx, p[0], p[1], delay, realClock{})
			if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, context.Canceled) {
				r.log.Debug("netns: relay copy", "remote", dst.String(), "err", err)
			}
		})
	}
	wg.Wait()
}

// originalDst is where a redirected connection was going (SO_ORIGINAL_DST,
// kept by conntrack when the nat rule rewrote it).
func originalDst(c *net.TCPConn) (netip.AddrPort, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("netns: original destination: %w", err)
	}
	var dst netip.AddrPort
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		// The kernel writes a struct sockaddr_in; IPv6Mreq is just a
		// 20-byte buffer big enough for it.
		m, err := unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, unix.SO_ORIGINAL_DST)
		if err != nil {
			sockErr = err
			return
		}
		port := binary.BigEndian.Uint16(m.Multiaddr[2:4])
		dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(m.Multiaddr[4:8])), port)
	})
	if err == nil {
		err = sockErr
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("netns: original destination: %w", err)
	}
	return dst, nil
}

// markSocket sets relayMark on the relay's outgoing sockets.
func markSocket(_, _ string, c syscall.RawConn) error {
	var sockErr error
	err := c.Control(func(fd uintptr) {
		sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, relayMark)
	})
	if err == nil {
		err = sockErr
	}
	if err != nil {
		return fmt.Errorf("netns: mark relay socket: %w", err)
	}
	return nil
}

// resetConn closes c with an RST rather than a FIN, so the client sees a
// failed connection, not an empty answer.
func resetConn(c *net.TCPConn) {
	c.SetLinger(0) // best effort: Close below ends the connection either way
	c.Close()
}
