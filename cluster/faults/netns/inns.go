//go:build linux

package netns

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNamespace runs fn on an OS thread switched into network namespace ns.
//
// Why a thread and not a helper process: a socket belongs to the namespace it
// was created in for its whole life, so a listener or connection opened here
// keeps working from any goroutine afterwards. That gives the test process
// sockets inside every node without re-executing itself, without a process
// per node to supervise, and with nothing that can outlive the test.
//
// The goroutine is locked to its thread for the switch. When the original
// namespace is restored the thread goes back to the scheduler; if restoring
// fails the goroutine exits still locked, and the runtime then destroys the
// thread rather than let another goroutine run in the wrong namespace. Since
// Go 1.10 the runtime never clones new threads from a locked one, so the
// switch does not leak into other threads.
func inNamespace(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored := false
		defer func() {
			if restored {
				runtime.UnlockOSThread()
			}
		}()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netns: open own namespace: %w", err)
			return
		}
		defer unix.Close(self)
		target, err := unix.Open(filepath.Join(netnsRunDir, ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			restored = true
			errc <- fmt.Errorf("netns: open namespace %s: %w", ns, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			restored = true
			errc <- fmt.Errorf("netns: enter namespace %s: %w", ns, err)
			return
		}
		fnErr := fn()
		restored = unix.Setns(self, unix.CLONE_NEWNET) == nil
		errc <- fnErr
	}()
	return <-errc
}

// Do runs fn with its OS thread inside node's namespace. Sockets fn creates
// stay in that namespace; fn must not start goroutines that create sockets,
// since they run on other threads.
func (t *Topology) Do(name string, fn func() error) error {
	n, err := t.node(name)
	if err != nil {
		return err
	}
	return inNamespace(n.ns, fn)
}

// Listen is net.Listen inside node's namespace.
func (t *Topology) Listen(name, network, address string) (net.Listener, error) {
	var ln net.Listener
	err := t.Do(name, func() error {
		var err error
		ln, err = net.Listen(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen %s %s in %s: %w", network, address, name, err)
	}
	return ln, nil
}

// ListenPacket is net.ListenPacket inside node's namespace.
func (t *Topology) ListenPacket(name, network, address string) (net.PacketConn, error) {
	var pc net.PacketConn
	err := t.Do(name, func() error {
		var err error
		pc, err = net.ListenPacket(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: listen %s %s in %s: %w", network, address, name, err)
	}
	return pc, nil
}

// Dial connects from inside node's namespace. address must be an IP
// literal with a port: nothing here resolves names.
func (t *Topology) Dial(ctx context.Context, name, network, address string) (net.Conn, error) {
	return dialIn(ctx, t, name, &net.Dialer{}, network, address)
}

func dialIn(ctx context.Context, t *Topology, name string, d *net.Dialer, network, address string) (net.Conn, error) {
	var conn net.Conn
	// A dial to one IP address creates its socket on the calling goroutine
	// (no parallel fallback dial), so the socket is in the namespace; the
	// connect then completes through the netpoller.
	err := t.Do(name, func() error {
		var err error
		conn, err = d.DialContext(ctx, network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("netns: dial %s %s from %s: %w", network, address, name, err)
	}
	return conn, nil
}

// DialContextFunc returns a dial function bound to node, for an
// http.Transport or any client that accepts one.
func (t *Topology) DialContextFunc(name string) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		return t.Dial(ctx, name, network, address)
	}
}

// HTTPClient is an HTTP client whose connections start in node's namespace
// (usually a client node such as "c1"), for /v1/cluster, /readyz and the
// rest of the admin API. Close its idle connections when done.
func (t *Topology) HTTPClient(name string) *http.Client {
	// Proxy stays nil: node traffic must never go to a proxy named in the
	// environment, which would be reached from the root namespace.
	return &http.Client{Transport: &http.Transport{DialContext: t.DialContextFunc(name)}}
}
